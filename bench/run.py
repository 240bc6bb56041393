"""`python -m bench.run [--sizes 100000,1000000]`: the search benchmark, results in bench/results/.

Per size: generate (or reuse) the listings, start the app (`python -m core serve`, embedded Meilisearch and
workers; a missing index is built by the app at startup), then measure on one fixed query set: (a) end-to-end
`GET /api/v1/search` latency, (b) the same Meilisearch requests sent directly, (e) throughput with concurrent
clients, (d) edit-to-searchable delay through the outbox, (c) a full reindex in its own process (app RSS
sampled, searches probed meanwhile) versus a raw batched ingest of the same documents.
"""

import json
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bench import dataset, ingest, measure, queries, report
from bench.procs import App, peak_rss_mb, rss_mb, start_app, stop_app
from core.outbox import OutboxEvent
from search.client import make_client
from search.embedded import free_port
from search.index_spec import index_name, settings_outdated
from search.reindex import BATCH_SIZE

PREFIX = "bench"
cli = typer.Typer(add_completion=False)


def _wait_ready(app: App, engine: Engine, timeout: float) -> None:
    """The live index exists with current settings, no reindex is half-way and the outbox is drained."""
    live = index_name(PREFIX)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if app.proc.poll() is not None:
            raise RuntimeError(f"the app exited; see {app.log_path}")
        try:
            url, key = app.meili()
            client = make_client(url, key)
            uids = [i.uid for i in client.get_indexes({"limit": 1000})["results"]]
            if live in uids and settings_outdated(client, live):  # the app is about to rebuild it
                uids.remove(live)
        except Exception:  # the app's Meilisearch is still starting
            uids = []
        with Session(engine) as session:
            pending = session.exec(
                select(func.count()).select_from(OutboxEvent).where(col(OutboxEvent.processed_at).is_(None))
            ).one()
        if live in uids and not any(u.startswith(live + "_") for u in uids) and not pending:
            return
        time.sleep(1)
    raise RuntimeError(f"the index was not ready within {timeout:.0f}s; see {app.log_path}")


def bench_size(
    size: int,
    *,
    n_queries: int,
    rounds: int,
    clients: int,
    seconds: float,
    edits: int,
    batch_size: int,
    workers: int,
    only_reindex: bool = False,
) -> dict[str, Any]:
    """Every measure for one size; `only_reindex` runs just (c), the reindex against the raw ingest."""
    ds = dataset.prepare(size)
    stamp = {
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    engine = ds.engine()
    typer.echo(f"[{size:,}] {ds.listings:,} listings in {ds.data_dir}", err=True)
    log_offset = ds.data_dir.joinpath("app.log").stat().st_size if ds.data_dir.joinpath("app.log").exists() else 0
    app = start_app(ds.data_dir, free_port(), PREFIX)
    try:
        _wait_ready(app, engine, timeout=300 + size / 100)
        ready_seconds = round(time.monotonic() - app.started, 1)
        built = "search index missing" in ds.data_dir.joinpath("app.log").read_text(errors="replace")[log_offset:]
        url, key = app.meili()
        client = make_client(url, key)
        documents = client.index(index_name(PREFIX)).get_stats().number_of_documents
        typer.echo(f"[{size:,}] app ready in {ready_seconds}s ({documents:,} documents)", err=True)
        searching = (
            {} if only_reindex else _search_measures(size, app, engine, n_queries, rounds, clients, seconds, edits)
        )
        reindexing = _reindex_measures(size, app, ds.data_dir, batch_size, workers)
        meili_pid = app.meili_pid()
        return {
            **searching,
            **reindexing,
            "reindex_measured_at": stamp["measured_at"],
            **({} if only_reindex else stamp),
            "listings": ds.listings,
            "documents": documents,
            "data_load_seconds": ds.load_seconds,
            **({} if only_reindex else {"initial_build_seconds": ready_seconds if built else None}),
            "app_rss_mb": {
                "peak_during_reindex": reindexing["reindex"]["app_peak_rss_mb"],
                "now": round(rss_mb(app.pid), 1),
                "high_water_mark": round(peak_rss_mb(app.pid), 1),
            },
            "meilisearch_rss_mb": round(rss_mb(meili_pid), 1) if meili_pid else None,
            "meilisearch": client.get_version().get("pkgVersion", "?"),
        }
    finally:
        stop_app(app)
        engine.dispose()


def _search_measures(
    size: int, app: App, engine: Engine, n_queries: int, rounds: int, clients: int, seconds: float, edits: int
) -> dict[str, Any]:
    """(a) and (b) latency, (e) throughput, (d) edit-to-searchable delay."""
    url, key = app.meili()
    query_set = queries.build_queries(engine, n_queries)
    raw = queries.raw_requests(query_set, engine=engine, meili_url=url, api_key=key, prefix=PREFIX)
    lat = measure.latencies(app.base_url, url, key, query_set, raw, rounds=rounds)
    typer.echo(f"[{size:,}] latency e2e {measure.summary(lat.e2e_ms)} raw {measure.summary(lat.raw_ms)}", err=True)
    thr = measure.throughput(app.base_url, query_set, clients=clients, seconds=seconds)
    typer.echo(f"[{size:,}] throughput {thr['rps']} req/s", err=True)
    delays = measure.edit_delays(engine, app.base_url, edits=edits)
    meili_update = measure.meili_update_ms(url, key, index_name(PREFIX), len(delays))
    typer.echo(
        f"[{size:,}] edit visible {measure.summary(delays)}; Meilisearch alone {measure.summary(meili_update)}",
        err=True,
    )
    return {
        "queries": len(query_set),
        "rounds": rounds,
        "e2e_ms": measure.summary(lat.e2e_ms),
        "raw_ms": measure.summary(lat.raw_ms),
        "throughput": thr,
        "edit_visible_ms": measure.summary(delays),
        "edit_meilisearch_task_ms": measure.summary(meili_update),
        "per_query_ms": lat.per_query(query_set),
        "app_overhead_p50_ms": _overheads(lat.per_query(query_set)),
    }


def _reindex_measures(size: int, app: App, data_dir: Path, batch_size: int, workers: int) -> dict[str, Any]:
    """(c) a full reindex while searches run, then a raw batched ingest of the same documents."""
    url, key = app.meili()
    with measure.SearchProbe(app.base_url, {"q": "pantry"}) as probe:
        reindex = ingest.run_reindex(data_dir, PREFIX, app.pid, batch_size=batch_size, workers=workers)
    reindex["probe"] = {
        "ok": probe.ok,
        "failed": probe.failed,
        "empty": probe.empty,
        "distinct_totals": sorted(probe.totals)[:5],
    }
    typer.echo(f"[{size:,}] reindex {reindex}", err=True)
    export = data_dir / "documents.ndjson"
    exported = ingest.export_documents(url, key, index_name(PREFIX), export)
    ingest_seconds = ingest.raw_ingest(url, key, export, f"{PREFIX}_scratch_{int(time.time())}", batch_size=batch_size)
    export.unlink()
    typer.echo(f"[{size:,}] raw ingest of {exported:,} documents {ingest_seconds}s", err=True)
    return {"reindex": reindex, "raw_ingest_seconds": ingest_seconds, "raw_ingest_documents": exported}


def _overheads(per_query: list[dict[str, Any]]) -> dict[str, float | None]:
    """Median of (e2e - raw) per query, for queries with a `near` place to geocode and for the others."""
    groups: dict[str, list[float]] = {"with_near": [], "without_near": []}
    for row in per_query:
        groups["with_near" if "near" in row["query"] else "without_near"].append(row["e2e_p50"] - row["raw_p50"])
    return {name: round(statistics.median(v), 2) if v else None for name, v in groups.items()}


def _environment(results: dict[str, Any]) -> dict[str, Any]:
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return {
        "cpus": os.cpu_count(),
        "memory_gb": round(pages / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "meilisearch": next((r["meilisearch"] for r in results["sizes"].values()), "?"),
    }


@cli.command()
def main(
    sizes: Annotated[str, typer.Option(help="Comma-separated listing counts.")] = "100000",
    n_queries: Annotated[int, typer.Option("--queries", help="Queries in the fixed set.")] = 50,
    rounds: Annotated[int, typer.Option(help="Timed passes over the query set (after one warm-up).")] = 5,
    clients: Annotated[int, typer.Option(help="Concurrent clients for the throughput run.")] = 8,
    seconds: Annotated[float, typer.Option(help="Length of the throughput run.")] = 20.0,
    edits: Annotated[int, typer.Option(help="Edits timed from commit to searchable.")] = 20,
    batch_size: Annotated[int, typer.Option(help="Documents per batch (reindex and raw ingest).")] = BATCH_SIZE,
    workers: Annotated[int, typer.Option(help="Reindex document-building processes (0: the CLI default).")] = 0,
    merge: Annotated[bool, typer.Option(help="Keep the other sizes of the previous latest.json.")] = False,
    only_reindex: Annotated[
        bool, typer.Option(help="Only re-measure the reindex against the raw ingest (implies --merge).")
    ] = False,
) -> None:
    """Run the search benchmark and write bench/results/latest.json and latest.md."""
    previous = report.RESULTS / "latest.json"
    results: dict[str, Any] = {
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "sizes": json.loads(previous.read_text())["sizes"] if (merge or only_reindex) and previous.is_file() else {},
    }
    for size in [int(s.replace("_", "")) for s in sizes.split(",") if s.strip()]:
        measured = bench_size(
            size,
            n_queries=n_queries,
            rounds=rounds,
            clients=clients,
            seconds=seconds,
            edits=edits,
            batch_size=batch_size,
            workers=workers,
            only_reindex=only_reindex,
        )
        earlier = results["sizes"].get(str(size), {}) if only_reindex else {}
        if earlier.get("app_rss_mb"):  # keep the earlier run's high-water mark (its start-up index build)
            mark = max(earlier["app_rss_mb"]["high_water_mark"], measured["app_rss_mb"]["high_water_mark"])
            measured["app_rss_mb"]["high_water_mark"] = mark
        results["sizes"][str(size)] = {**earlier, **measured}
    results["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["environment"] = _environment(results)
    json_path, md_path = report.write(results)
    typer.echo(md_path.read_text())
    typer.echo(f"wrote {json_path} and {md_path}", err=True)


if __name__ == "__main__":
    sys.exit(cli())
