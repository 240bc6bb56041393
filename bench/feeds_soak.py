"""The soak mix with and without the Meeting Guide feed: does serving the feed hurt everybody else?

`python -m bench.feeds_soak` starts the app as users do (`python -m core serve`, embedded Meilisearch and
workers) on 2,000 generated listings (bench/data/2000/), then runs 8 clients, each with its own keep-alive
connection, through `--rounds` rounds of two phases (`--seconds` each, without then with the feed, so both
see the same background load) of a fixed mix of requests:
  search (the JSON API, the fixed query set of bench/queries.py), pages (search result pages and listing
  pages), HSDS (list pages of services and organizations) and, in the second phase only, the feed
  (`/api/meeting-guide/aa.json` and the all-fellowships `/api/meeting-guide.json`, fetched whole with
  gzip like a new visitor's browser, no conditional GET; the load generator does not unzip them).
Then it times the feed alone: its first build after a listing edit, and a conditional GET.
Figures (p50/p95/p99 per kind, requests per second) go to bench/results/feeds_soak.json and .md.
Targets: feed p95 <= 50 ms; every other kind's p99 with the feed no worse than without it.
"""

import json
import os
import random
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

import httpx
import typer
from sqlmodel import Session, col, select

from bench.dataset import prepare
from bench.measure import percentile
from bench.procs import start_app, stop_app
from bench.queries import as_http_params, build_queries
from bench.report import RESULTS
from bench.run import DEFAULT_SHARD_SIZE, _wait_ready
from core.clock import utcnow
from core.conditional import VERSION_TTL
from core.outbox import record_change
from directory.listings.models import Service

PREFIX = "bench"  # the app under test keeps its own index prefix in the bench data directory
SIZE = 2000
FEEDS = ("/api/meeting-guide/aa.json", "/api/meeting-guide.json")
# (kind, weight): search dominates, as on the public site; the feed is about one request in eight.
MIX = (("search", 4), ("pages", 3), ("hsds", 2), ("feed", 1.3))
cli = typer.Typer(add_completion=False)

Request = Callable[[httpx.Client, random.Random], httpx.Response]


def _requests(queries: list[dict[str, Any]], ids: list[str]) -> dict[str, list[Request]]:
    return {
        "search": [lambda c, r: c.get("/api/v1/search", params=as_http_params(r.choice(queries)))],
        "pages": [
            lambda c, r: c.get("/search", params=as_http_params(r.choice(queries))),
            lambda c, r: c.get(f"/services/{r.choice(ids)}"),
        ],
        "hsds": [
            lambda c, r: c.get("/api/hsds/services", params={"page": r.randint(1, 20)}),
            lambda c, r: c.get("/api/hsds/organizations", params={"page": r.randint(1, 10)}),
        ],
        "feed": [_getter(path) for path in FEEDS],
    }


def _getter(path: str) -> Request:
    """The whole feed, gzipped as a browser asks for it, read but not unzipped: unzipping is the visitor's
    computer's work, and here it would take the CPUs the app under test shares with the load generator
    (~3-5 ms of this process's time per feed, against ~1.5 ms of the app's)."""

    def get(client: httpx.Client, _: random.Random) -> httpx.Response:
        with client.stream("GET", path) as response:
            for _chunk in response.iter_raw():
                pass
        return response

    return get


def _phase(
    base: str, requests: dict[str, list[Request]], kinds: list[str], clients: int, seconds: float
) -> dict[str, Any]:
    samples: dict[str, list[float]] = {k: [] for k in kinds}
    errors: dict[str, int] = {k: 0 for k in kinds}
    weights = [w for k, w in MIX if k in kinds]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client_loop(seed: int) -> None:
        rng = random.Random(seed)
        mine: dict[str, list[float]] = {k: [] for k in kinds}
        failed = dict.fromkeys(kinds, 0)
        with httpx.Client(base_url=base, timeout=60, headers={"Accept-Encoding": "gzip"}) as http:
            while time.monotonic() < stop_at:
                kind = rng.choices(kinds, weights)[0]
                started = time.perf_counter()
                try:
                    response = rng.choice(requests[kind])(http, rng)  # read whole (see _getter for feeds)
                    if response.status_code >= 400:
                        failed[kind] += 1
                        continue
                    mine[kind].append((time.perf_counter() - started) * 1000)
                except httpx.HTTPError:
                    failed[kind] += 1
        with lock:
            for k in kinds:
                samples[k] += mine[k]
                errors[k] += failed[k]

    started = time.monotonic()
    threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"seconds": time.monotonic() - started, "samples": samples, "errors": errors}


def _merge(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Rounds of one phase together: the phases alternate, so both see the same background load."""
    elapsed = sum(run["seconds"] for run in runs)
    kinds = list(runs[0]["samples"])
    samples = {k: [ms for run in runs for ms in run["samples"][k]] for k in kinds}
    total = sum(len(v) for v in samples.values())
    return {
        "seconds": round(elapsed, 1), "rounds": len(runs), "requests": total, "rps": round(total / elapsed, 1),
        "kinds": {k: {**_pcts(samples[k]), "errors": sum(run["errors"][k] for run in runs)} for k in kinds},
    }  # fmt: skip


def _pcts(ms: list[float]) -> dict[str, float | int]:
    return {"n": len(ms), **{f"p{p}": round(percentile(ms, p), 1) for p in (50, 95, 99)}}


def _feed_alone(base: str, engine: Any, service_id: str) -> dict[str, Any]:
    """The feed right after a listing edit (one build), then warm, then a conditional GET."""
    with Session(engine) as session:
        service = session.get(Service, uuid.UUID(service_id))
        assert service is not None
        service.last_modified = utcnow()
        record_change(session, [service.id])
        session.commit()
    time.sleep(VERSION_TTL)  # a write by another process (this one) shows in the app within VERSION_TTL
    with httpx.Client(base_url=base, timeout=60, headers={"Accept-Encoding": "gzip"}) as http:
        timings: dict[str, Any] = {}
        for path in FEEDS:
            started = time.perf_counter()
            first = http.get(path)
            cold = (time.perf_counter() - started) * 1000
            warm = []
            for _ in range(20):
                started = time.perf_counter()
                http.get(path).read()
                warm.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            again = http.get(path, headers={"If-None-Match": first.headers["etag"]})
            timings[path] = {
                "first_after_edit_ms": round(cold, 1), "warm": _pcts(warm),
                "conditional_get_ms": round((time.perf_counter() - started) * 1000, 1),
                "conditional_status": again.status_code, "entries": len(first.json()),
                "gzip_kb": round(int(first.headers.get("content-length", 0)) / 1024, 1),
            }  # fmt: skip
        return timings


@cli.command()
def main(
    seconds: Annotated[float, typer.Option(help="Length of each phase in each round.")] = 60.0,
    rounds: Annotated[int, typer.Option(help="Rounds of (without feed, with feed).")] = 3,
    clients: Annotated[int, typer.Option(help="Concurrent clients.")] = 8,
    port: Annotated[int, typer.Option(help="Port of the app under test.")] = 8131,
    machine: Annotated[str, typer.Option(help="What else ran on the machine meanwhile (goes in the results).")] = "",
) -> None:
    """Soak mix without and with the feed; writes bench/results/feeds_soak.json and .md."""
    dataset = prepare(SIZE)
    engine = dataset.engine()
    with Session(engine) as session:
        ids = [str(i) for i in session.exec(select(Service.id).order_by(col(Service.id)).limit(500))]
    app = start_app(dataset.data_dir, port, PREFIX, DEFAULT_SHARD_SIZE)
    try:
        _wait_ready(app, engine, PREFIX, DEFAULT_SHARD_SIZE, timeout=600)
        requests = _requests(build_queries(engine), ids)
        load_start = [round(x, 2) for x in os.getloadavg()]
        for path in FEEDS:  # built before the clocks start (a build takes seconds; it would spill into a phase)
            httpx.get(app.base_url + path, timeout=600).raise_for_status()
        _phase(app.base_url, requests, ["search", "pages", "hsds", "feed"], clients, 5)  # warm-up
        runs: dict[str, list[dict[str, Any]]] = {"without": [], "with": []}
        for _ in range(rounds):  # alternate, so a change in the machine's other load hits both phases
            runs["without"].append(_phase(app.base_url, requests, ["search", "pages", "hsds"], clients, seconds))
            runs["with"].append(_phase(app.base_url, requests, ["search", "pages", "hsds", "feed"], clients, seconds))
        without, with_feed = _merge(runs["without"]), _merge(runs["with"])
        alone = _feed_alone(app.base_url, engine, ids[0])
    finally:
        stop_app(app)
        engine.dispose()
    results = {
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "listings": dataset.listings,
        "clients": clients, "load_average": {"start": load_start, "end": [round(x, 2) for x in os.getloadavg()]},
        "cpus": os.cpu_count(), "machine": machine,
        "without_feed": without, "with_feed": with_feed, "feed_alone": alone,
    }  # fmt: skip
    results["targets"] = _targets(results)
    (RESULTS / "feeds_soak.json").write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / "feeds_soak.md").write_text(_markdown(results))
    typer.echo((RESULTS / "feeds_soak.md").read_text())


def _targets(results: dict[str, Any]) -> dict[str, Any]:
    feed = results["with_feed"]["kinds"]["feed"]
    others = {
        kind: {"p99_without": results["without_feed"]["kinds"][kind]["p99"], "p99_with": stats["p99"],
               "met": stats["p99"] <= results["without_feed"]["kinds"][kind]["p99"]}
        for kind, stats in results["with_feed"]["kinds"].items() if kind != "feed"
    }  # fmt: skip
    return {"feed_p95_ms": feed["p95"], "feed_p95_met": feed["p95"] <= 50, "other_p99": others}


def _markdown(results: dict[str, Any]) -> str:
    without, with_feed, targets = results["without_feed"], results["with_feed"], results["targets"]
    lines = [
        "# Soak mix with and without the Meeting Guide feed",
        "",
        f"{results['generated_at']}, {results['listings']:,} listings, {results['clients']} clients, "
        f"{results['cpus']} CPUs shared with the load generator; load average {results['load_average']['start']} "
        f"at start, {results['load_average']['end']} at end (`python -m bench.feeds_soak`).",
        *([f"Also running on the machine: {results['machine']}."] if results.get("machine") else []),
        "",
        "| kind | without feed: n | p50 | p95 | p99 | with feed: n | p50 | p95 | p99 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for kind in ("search", "pages", "hsds", "feed"):
        cells = [_cells(without["kinds"].get(kind)), _cells(with_feed["kinds"][kind])]
        lines.append(f"| {kind} | {cells[0]} | {cells[1]} |")
    lines += [
        "",
        f"Requests per second: {without['rps']} without the feed, {with_feed['rps']} with it (ms above).",
        "",
        f"- Feed p95 <= 50 ms: **{_verdict(targets['feed_p95_met'])}** ({targets['feed_p95_ms']} ms).",
    ]
    for kind, other in targets["other_p99"].items():
        lines.append(
            f"- {kind} p99 with the feed no worse than without: **{_verdict(other['met'])}** "
            f"({other['p99_with']} vs {other['p99_without']} ms)."
        )
    lines += [
        "",
        "| feed alone (ms) | entries | gzip KB | first after an edit | warm p50 | warm p95 | conditional GET |",
        "|---|---|---|---|---|---|---|",
    ]
    for path, t in results["feed_alone"].items():
        warm = t["warm"]
        lines.append(
            f"| `{path}` | {t['entries']} | {t['gzip_kb']} | {t['first_after_edit_ms']} | {warm['p50']} | "
            f"{warm['p95']} | {t['conditional_get_ms']} ({t['conditional_status']}) |"
        )
    return "\n".join(lines) + "\n"


def _cells(stats: dict[str, Any] | None) -> str:
    return " | ".join(str(stats[k]) for k in ("n", "p50", "p95", "p99")) if stats else "- | - | - | -"


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


if __name__ == "__main__":
    sys.exit(cli())
