"""Command line: `python -m core serve | migrate | seed` and the commands the domains declare (`directory-admin`)."""

import sys
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import func
from sqlmodel import Session, select

from core.commands import one_line_errors, open_engine
from core.domains import DOMAINS
from core.settings import PROJECT_ROOT, Settings, get_settings

app = typer.Typer(help="Community resource directory: run, migrate, seed and administer.", no_args_is_help=True)


def run_migrations(settings: Settings, revision: str = "head", downgrade: bool = False) -> None:
    from alembic import command
    from alembic.config import Config

    engine = open_engine(settings)
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if downgrade else command.upgrade)(cfg, revision)
    engine.dispose()


@app.command()
@one_line_errors
def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision (default: head).")] = "head",
    down: Annotated[bool, typer.Option("--down", help="Downgrade to REVISION instead.")] = False,
) -> None:
    """Bring the database schema to REVISION with Alembic (creates the SQLite file if needed)."""
    settings = get_settings()
    run_migrations(settings, revision, downgrade=down)
    typer.echo(f"database at {'base' if down and revision == 'base' else revision}")


@app.command()
@one_line_errors
def seed(
    size: Annotated[
        int | None,
        typer.Option(help="Generated listings besides the curated set (default SEED_SIZE).", min=0, max=1_000_000),
    ] = None,
    seed_value: Annotated[int, typer.Option("--seed", help="Generator seed (same seed, same data).")] = 42,
    if_empty: Annotated[bool, typer.Option("--if-empty", help="Do nothing when listings already exist.")] = False,
) -> None:
    """Load the curated sample data and SIZE generated listings (idempotent; shows progress)."""
    from directory.listings.models import Service
    from directory.listings.service import ensure_taxonomy
    from seed_data.load import load_curated, load_generated

    settings = get_settings()
    engine = open_engine(settings)
    count = settings.seed_size if size is None else size
    with Session(engine) as session:
        existing = session.exec(select(func.count()).select_from(Service)).one()
        if if_empty and existing:
            typer.echo(f"{existing} listings already present; nothing loaded")
            return
        ensure_taxonomy(session=session)
        curated = load_curated(session=session)
    generated = load_generated(engine=engine, size=count, seed=seed_value, progress=sys.stderr.isatty())
    typer.echo(f"loaded {curated} curated and {generated} generated listings")


@app.command()
@one_line_errors
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default from HOST, 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default from PORT, 8000).")] = None,
) -> None:
    """Start Meilisearch (or connect to MEILI_URL) and serve the web app until Ctrl-C."""
    import uvicorn

    from core.app import create_app
    from search.embedded import connect

    settings = get_settings()
    engine = open_engine(settings)
    meili = connect(settings)
    try:
        application = create_app(settings, engine=engine, meili=meili)
        bind_host, bind_port = host or settings.host, port or settings.port
        typer.echo(f"serving on http://{bind_host}:{bind_port} (Ctrl-C to stop)")
        uvicorn.run(application, host=bind_host, port=bind_port, log_config=None, access_log=False)
    finally:
        meili.stop()
        engine.dispose()


for _domain in DOMAINS:  # create-admin, export-hsds, import-hsds, import-meeting-guide, freshness-reminders
    for _commands in _domain.commands():
        app.add_typer(_commands)


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()


__all__ = ["Path", "app", "main"]
