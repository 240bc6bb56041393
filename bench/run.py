"""`python -m bench.run [--sizes 100000,1000000]`: the search benchmark, results in bench/results/.

Per size and per layout (one index as before shards, then regional shards; same data, same query set): generate
(or reuse) the listings, start the app (`python -m core serve`, embedded Meilisearch and workers; missing
indexes are built by the app at startup), then measure on one fixed query set: (a) end-to-end
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
from collections.abc import Sequence
from dataclasses import dataclass
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
from search.client import make_client, wait_succeeded
from search.embedded import free_port
from search.layout import DEFAULT_SHARD_SIZE, Indexes
from search.reindex import BATCH_SIZE
from search.runtime import rebuild_reason

MISSING = "n/a"  # a figure not measured in this run
PROBE_ZIP = "60601"  # searches during a reindex: words alone, and a place (downtown Chicago, 25 km)

LAYOUTS = ("single", "sharded")
cli = typer.Typer(add_completion=False)


@dataclass(frozen=True)
class Options:
    n_queries: int
    rounds: int
    clients: int
    seconds: float
    edits: int
    batch_size: int
    workers: int
    only_reindex: bool = False
    # Layouts whose reindex and raw ingest are measured (a 1M run that cannot fit them all keeps the sharded one).
    reindex_layouts: tuple[str, ...] = LAYOUTS
    # Delete a layout's indexes once measured: at 1M the two layouts' indexes and a reindex's second generation
    # do not fit on a small disk together.
    drop_indexes: bool = False


def _indexes(app: App, prefix: str, shard_size: int) -> Indexes:
    url, key = app.meili()
    return Indexes(prefix=prefix, home=make_client(url, key), max_documents=shard_size)


def _wait_ready(app: App, engine: Engine, prefix: str, shard_size: int, timeout: float) -> None:
    """The live indexes are laid out as configured, no reindex is half-way and the outbox is drained."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if app.proc.poll() is not None:
            raise RuntimeError(f"the app exited; see {app.log_path}")
        try:
            indexes = _indexes(app, prefix, shard_size)
            uids = [i.uid for i in indexes.home.get_indexes({"limit": 1000})["results"]]
            ready = rebuild_reason(indexes) is None and not any(u.startswith(indexes.flat + "_") for u in uids)
        except Exception:  # the app's Meilisearch is still starting
            ready = False
        with Session(engine) as session:
            pending = session.exec(
                select(func.count()).select_from(OutboxEvent).where(col(OutboxEvent.processed_at).is_(None))
            ).one()
        if ready and not pending:
            return
        time.sleep(1)
    raise RuntimeError(f"the index was not ready within {timeout:.0f}s; see {app.log_path}")


def bench_size(size: int, layouts: Sequence[str], shard_size: int, options: Options) -> dict[str, Any]:
    """Every measure for one size, for each layout in turn on the same data and query set."""
    ds = dataset.prepare(size)
    typer.echo(f"[{size:,}] {ds.listings:,} listings in {ds.data_dir}", err=True)
    result: dict[str, Any] = {"listings": ds.listings, "data_load_seconds": ds.load_seconds, "layouts": {}}
    for layout in layouts:
        result["layouts"][layout] = bench_layout(ds, layout, shard_size if layout == "sharded" else 0, options)
    return result


def bench_layout(ds: dataset.Dataset, layout: str, shard_size: int, options: Options) -> dict[str, Any]:
    prefix = f"bench_{layout}"
    stamp = {
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    engine = ds.engine()
    tag = f"[{ds.size:,} {layout}]"
    log_path = ds.data_dir.joinpath("app.log")
    log_offset = log_path.stat().st_size if log_path.exists() else 0
    app = start_app(ds.data_dir, free_port(), prefix, shard_size)
    try:
        _wait_ready(app, engine, prefix, shard_size, timeout=300 + ds.size / 50)
        ready_seconds = round(time.monotonic() - app.started, 1)
        built = "building it in the background" in log_path.read_text(errors="replace")[log_offset:]
        indexes = _indexes(app, prefix, shard_size)
        shard_map = indexes.current_map()
        documents = indexes.home.index(indexes.flat).get_stats().number_of_documents
        shards = len(shard_map.shards) if shard_map else 0
        typer.echo(f"{tag} app ready in {ready_seconds}s ({documents:,} documents, {shards} shards)", err=True)
        searching = {} if options.only_reindex else _search_measures(tag, app, engine, prefix, indexes, options)
        reindexing = (
            _reindex_measures(tag, app, ds.data_dir, prefix, shard_size, indexes, options)
            if layout in options.reindex_layouts
            else {}
        )
        during = reindexing.get("reindex", {})
        meili_pid = app.meili_pid()
        return {
            **searching,
            **reindexing,
            **({"reindex_measured_at": stamp["measured_at"]} if reindexing else {}),
            **({} if options.only_reindex else stamp),
            "shard_size": shard_size,
            "shards": shards,
            "documents": documents,
            **({} if options.only_reindex else {"initial_build_seconds": ready_seconds if built else None}),
            "app_rss_mb": {
                "peak_during_reindex": during.get("app_peak_rss_mb", MISSING),
                "now": round(rss_mb(app.pid), 1),
                "high_water_mark": round(peak_rss_mb(app.pid), 1),
            },
            "meilisearch_rss_mb": {
                "peak_during_reindex": during.get("meilisearch_peak_rss_mb", MISSING),
                "now": round(rss_mb(meili_pid), 1) if meili_pid else None,
                "high_water_mark": round(peak_rss_mb(meili_pid), 1) if meili_pid else None,
            },
            "meilisearch": indexes.home.get_version().get("pkgVersion", "?"),
        }
    finally:
        if options.drop_indexes:
            _drop(app, prefix)
        stop_app(app)
        engine.dispose()


def _drop(app: App, prefix: str) -> None:
    """Delete every index of this layout (its prefix) from the app's Meilisearch, and wait."""
    try:
        url, key = app.meili()
        client = make_client(url, key, timeout=600)
        uids = [i.uid for i in client.get_indexes({"limit": 10_000})["results"] if i.uid.startswith(prefix + "_")]
        for task in [client.delete_index(uid).task_uid for uid in uids]:
            wait_succeeded(client, task, timeout_s=600)
    except Exception as exc:  # the measures are taken; a failed clean-up only costs disk
        typer.echo(f"could not delete the {prefix} indexes: {exc!r}", err=True)


def _search_measures(
    tag: str, app: App, engine: Engine, prefix: str, indexes: Indexes, options: Options
) -> dict[str, Any]:
    """(a) and (b) latency, (e) throughput, (d) edit-to-searchable delay."""
    url, key = app.meili()
    query_set = queries.build_queries(engine, options.n_queries)
    raw = queries.raw_requests(query_set, engine=engine, meili_url=url, api_key=key, prefix=prefix)
    lat = measure.latencies(app.base_url, url, key, query_set, raw, rounds=options.rounds)
    typer.echo(f"{tag} latency e2e {measure.summary(lat.e2e_ms)} raw {measure.summary(lat.raw_ms)}", err=True)
    thr = measure.throughput(app.base_url, query_set, clients=options.clients, seconds=options.seconds)
    typer.echo(f"{tag} throughput {thr['rps']} req/s", err=True)
    delays = measure.edit_delays(engine, app.base_url, edits=options.edits)
    shard_map = indexes.current_map()
    shard_uids = [s.uid for s in shard_map.shards] if shard_map else []
    flat_task = measure.meili_update_ms(url, key, [indexes.flat], len(delays))
    shard_task = measure.meili_update_ms(url, key, shard_uids, len(delays))
    typer.echo(
        f"{tag} edit visible {measure.summary(delays)}; Meilisearch alone: flat {measure.summary(flat_task)}, "
        f"shard {measure.summary(shard_task)}",
        err=True,
    )
    return {
        "queries": len(query_set),
        "rounds": options.rounds,
        "e2e_ms": measure.summary(lat.e2e_ms),
        "raw_ms": measure.summary(lat.raw_ms),
        "throughput": thr,
        "edit_visible_ms": measure.summary(delays),
        "edit_meilisearch_task_ms": measure.summary(flat_task),
        "edit_shard_task_ms": measure.summary(shard_task) if shard_task else None,
        "per_query_ms": lat.per_query(query_set),
        "app_overhead_p50_ms": _overheads(lat.per_query(query_set)),
    }


def _reindex_measures(
    tag: str, app: App, data_dir: Path, prefix: str, shard_size: int, indexes: Indexes, options: Options
) -> dict[str, Any]:
    """(c) a full reindex while searches (with and without a place) run, then a raw batched ingest of the
    same documents into scratch indexes laid out the same way."""
    url, key = app.meili()
    probes: list[dict[str, Any]] = [{"q": "pantry"}, {"near": PROBE_ZIP, "radius_km": 25}]
    with measure.SearchProbe(app.base_url, probes) as probe:
        reindex = ingest.run_reindex(
            data_dir,
            prefix,
            app.pid,
            batch_size=options.batch_size,
            workers=options.workers,
            shard_size=shard_size,
            meili_pid=app.meili_pid(),
        )
    reindex["probe"] = {
        "ok": probe.ok,
        "failed": probe.failed,
        "empty": probe.empty,
        "distinct_totals": sorted(probe.totals)[:5],
    }
    typer.echo(f"{tag} reindex {reindex}", err=True)
    export = data_dir / "documents.ndjson"
    exported = ingest.export_documents(url, key, indexes.flat, export)
    ingest_seconds = ingest.raw_ingest(
        url, key, export, f"{prefix}_raw_{int(time.time())}", options.batch_size, indexes.current_map()
    )
    export.unlink()
    typer.echo(f"{tag} raw ingest of {exported:,} documents {ingest_seconds}s", err=True)
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
        "meilisearch": next(
            (layout["meilisearch"] for r in results["sizes"].values() for layout in r.get("layouts", {}).values()),
            "?",
        ),
    }


@cli.command()
def main(
    sizes: Annotated[str, typer.Option(help="Comma-separated listing counts.")] = "100000",
    layouts: Annotated[str, typer.Option(help="Comma-separated layouts: single (one index), sharded.")] = ",".join(
        LAYOUTS
    ),
    shard_size: Annotated[int, typer.Option(help="Most documents per shard (sharded layout).")] = DEFAULT_SHARD_SIZE,
    n_queries: Annotated[int, typer.Option("--queries", help="Queries in the fixed set.")] = 50,
    rounds: Annotated[int, typer.Option(help="Timed passes over the query set (after one warm-up).")] = 5,
    clients: Annotated[int, typer.Option(help="Concurrent clients for the throughput run.")] = 8,
    seconds: Annotated[float, typer.Option(help="Length of the throughput run.")] = 20.0,
    edits: Annotated[int, typer.Option(help="Edits timed from commit to searchable.")] = 20,
    batch_size: Annotated[int, typer.Option(help="Documents per batch (reindex and raw ingest).")] = BATCH_SIZE,
    workers: Annotated[int, typer.Option(help="Reindex document-building processes (0: the CLI default).")] = 0,
    merge: Annotated[bool, typer.Option(help="Keep the other sizes of the previous latest.json.")] = False,
    reindex_layouts: Annotated[
        str, typer.Option(help="Comma-separated layouts whose reindex and raw ingest are measured.")
    ] = ",".join(LAYOUTS),
    only_reindex: Annotated[
        bool, typer.Option(help="Only re-measure the reindex against the raw ingest (implies --merge).")
    ] = False,
    drop_indexes: Annotated[bool, typer.Option(help="Delete each layout's indexes once measured (disk).")] = False,
) -> None:
    """Run the search benchmark and write bench/results/latest.json and latest.md."""
    chosen = [name.strip() for name in layouts.split(",") if name.strip()]
    if unknown := set(chosen) - set(LAYOUTS):
        raise typer.BadParameter(f"unknown layouts {sorted(unknown)}; choose from {', '.join(LAYOUTS)}")
    reindexed = tuple(name.strip() for name in reindex_layouts.split(",") if name.strip())
    options = Options(
        n_queries, rounds, clients, seconds, edits, batch_size, workers, only_reindex, reindexed, drop_indexes
    )
    previous = report.RESULTS / "latest.json"
    results: dict[str, Any] = {
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "sizes": json.loads(previous.read_text())["sizes"] if (merge or only_reindex) and previous.is_file() else {},
    }
    for size in [int(s.replace("_", "")) for s in sizes.split(",") if s.strip()]:
        measured = bench_size(size, chosen, shard_size, options)
        earlier = results["sizes"].get(str(size), {})
        if "layouts" not in earlier:  # a result of the one-layout benchmark before shards: replaced
            earlier = {}
        for layout, figures in measured["layouts"].items():
            before = earlier.get("layouts", {}).get(layout, {}) if only_reindex else {}
            measured["layouts"][layout] = {**before, **figures}
        if merge or only_reindex:
            measured["layouts"] = {**earlier.get("layouts", {}), **measured["layouts"]}
        results["sizes"][str(size)] = {**earlier, **measured}
    if (merge or only_reindex) and previous.is_file():  # sizes another run wrote meanwhile are kept too
        measured_now = {str(int(s.replace("_", ""))) for s in sizes.split(",") if s.strip()}
        latest = json.loads(previous.read_text())["sizes"]
        results["sizes"] = {**latest, **{k: v for k, v in results["sizes"].items() if k in measured_now}}
    results["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["environment"] = _environment(results)
    json_path, md_path = report.write(results)
    typer.echo(md_path.read_text())
    typer.echo(f"wrote {json_path} and {md_path}", err=True)


if __name__ == "__main__":
    sys.exit(cli())
