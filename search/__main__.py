"""Command line: `python -m search sync | reindex | check`.

Meilisearch is MEILI_URL when set, else the embedded server of an app running on the same DATA_DIR, else
an embedded server started for the duration of the command.
"""

import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Annotated, Any, TypeVar

import typer
from meilisearch.errors import MeilisearchError
from sqlalchemy.engine import Engine

from core.commands import one_line_errors
from core.db import check_connection, ensure_data_dir, make_engine
from core.logging import configure_logging
from core.settings import Settings, get_settings
from search.client import TaskFailed, meili_for_command
from search.index_spec import IndexTaskFailed
from search.layout import Indexes, indexes_for, shard_servers
from search.reindex import BATCH_SIZE

app = typer.Typer(help="Search index: outbox sync worker, zero-downtime reindex, drift check.", no_args_is_help=True)
F = TypeVar("F", bound=Callable[..., Any])


def search_errors(fn: F) -> F:
    """A failed Meilisearch task or an unreachable server ends the command with one line, exit 1."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (TaskFailed, IndexTaskFailed, MeilisearchError) as exc:
            typer.secho(f"error: {exc}", fg="red", err=True)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


@contextmanager
def _resources() -> Iterator[tuple[Settings, Engine, Indexes]]:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    ensure_data_dir(settings.data_dir)
    engine = make_engine(settings)
    try:
        check_connection(engine)
        with meili_for_command(settings) as server:
            yield settings, engine, indexes_for(settings, server, shard_servers(settings))
    finally:
        engine.dispose()


@app.command()
@one_line_errors
@search_errors
def sync(
    batch_size: Annotated[int, typer.Option(help="Outbox rows' services per batch.", min=1, max=10_000)] = 500,
    poll: Annotated[float, typer.Option(help="Seconds between polls when idle.", min=0.05, max=60)] = 0.2,
) -> None:
    """Run the outbox sync worker until SIGTERM or Ctrl-C (for EMBEDDED_WORKERS=false deployments)."""
    from search.sync import SyncWorker

    with _resources() as (_, engine, indexes):
        worker = SyncWorker(engine=engine, indexes=indexes, batch_size=batch_size, poll_interval=poll)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: worker.stop(timeout=0))
        typer.echo(f"syncing the outbox into {indexes.flat} and its shards (Ctrl-C to stop)", err=True)
        worker.run()
        typer.echo(f"stopped after {worker.processed} outbox rows", err=True)


@app.command()
@one_line_errors
@search_errors
def reindex(
    batch_size: Annotated[int, typer.Option(help="Services per document batch.", min=1, max=100_000)] = BATCH_SIZE,
    workers: Annotated[
        int | None,
        typer.Option(help="Processes building documents (default: one per CPU but one, at most 4).", min=1, max=32),
    ] = None,
) -> None:
    """Rebuild the index from the database into a new index and swap it in (search keeps answering)."""
    from search.reindex import reindex as run_reindex

    with _resources() as (_, engine, indexes):
        result = run_reindex(
            engine=engine,
            indexes=indexes,
            batch_size=batch_size,
            workers=workers or default_workers(),
            progress=sys.stderr.isatty(),
        )
    typer.echo(
        f"reindexed {result.documents} documents from {result.services} listings into {result.index_uid} "
        f"and {result.shards} regional shards in {result.seconds:.1f}s "
        f"({result.replayed} changes made meanwhile replayed)"
    )


@app.command()
@one_line_errors
@search_errors
def check(
    fix: Annotated[
        bool, typer.Option("--fix", help="Queue drifted listings for the sync worker, sync them now and check again.")
    ] = False,
    examples: Annotated[int, typer.Option(help="Example document ids shown per kind of drift.", min=0)] = 5,
) -> None:
    """Compare the database with the index; exit 1 on drift (missing, extra or differing documents)."""
    from search.check import KINDS, enqueue_fix
    from search.check import check as run_check
    from search.sync import drain

    with _resources() as (_, engine, indexes):
        report = run_check(engine=engine, indexes=indexes, examples=examples)
        typer.echo(
            f"{indexes.flat}: {report.db_documents} documents expected, {report.index_documents} indexed; "
            f"{report.shards} shards: {report.db_shard_documents} expected, {report.shard_documents} indexed; "
            f"missing {report.missing}, extra {report.extra}, differing {report.differing}; "
            f"{report.pending_services} listings with pending changes"
        )
        for kind in KINDS:
            if report.examples[kind]:
                typer.echo(f"  {kind}: {', '.join(report.examples[kind])}")
        for uid, count in sorted(report.by_index.items()):
            typer.echo(f"  {uid}: {count} drifted documents")
        if report.drift and fix:
            queued = enqueue_fix(engine=engine, report=report)
            synced = drain(engine=engine, indexes=indexes, everywhere=True)
            report = run_check(engine=engine, indexes=indexes, examples=examples)
            typer.echo(f"fix: queued {queued} listings, synced {synced} outbox rows; drift now {report.drift}")
    if report.drift:
        raise typer.Exit(1)


def default_workers() -> int:
    """One CPU is left to Meilisearch: starved of CPU it falls behind and finishes long after the builders
    (2 CPUs, 1M listings: one builder 451 s, two builders 536 s). With an external Meilisearch, pass more."""
    return max(1, min(4, (os.cpu_count() or 1) - 1))


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
