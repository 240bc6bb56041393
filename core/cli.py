"""Command line: `python -m core serve | migrate | seed` and the commands the domains declare (`directory-admin`)."""

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import func
from sqlmodel import Session, select

from core.commands import one_line_errors, open_engine
from core.domains import DOMAINS
from core.settings import PROJECT_ROOT, Settings, get_settings, local_base_url, local_host

app = typer.Typer(help="Community resource directory: run, migrate, seed and administer.", no_args_is_help=True)


def run_migrations(settings: Settings, revision: str = "head", downgrade: bool = False) -> None:
    from alembic import command
    from alembic.config import Config

    engine = open_engine(settings)
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        cfg.attributes["settings"] = settings  # data migrations read keys from them (0003: the audit key)
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

    settings = served_settings(host, port)
    engine = open_engine(settings)
    meili = connect(settings)
    try:
        application = create_app(settings, engine=engine, meili=meili)
        typer.echo(f"serving on http://{settings.host}:{settings.port} (Ctrl-C to stop)")
        if settings.host != local_host(settings.host) and settings.base_url == local_base_url(
            settings.host, settings.port
        ):
            typer.echo(f"links in e-mails point to {settings.base_url}; set BASE_URL to the address people use")
        sys.setswitchinterval(SWITCH_INTERVAL)
        uvicorn.run(application, **uvicorn_options(settings))
    finally:
        meili.stop()
        engine.dispose()


# How long a thread may keep the interpreter lock while another waits for it (Python's default: 5 ms). The
# event loop thread answers cheap requests itself (built feeds, 304s) and hands every other one to a worker
# thread and back; under load each hand-over waited up to the full interval behind busy page renders.
SWITCH_INTERVAL = 0.001


def served_settings(host: str | None, port: int | None) -> Settings:
    """The settings with the command line's --host/--port applied; BASE_URL follows them unless it is set."""
    overrides: dict[str, Any] = {k: v for k, v in (("host", host), ("port", port)) if v}
    return Settings(**overrides) if overrides else get_settings()


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """How `serve` runs uvicorn. X-Forwarded-For/-Proto are believed only from FORWARDED_ALLOW_IPS (default:
    nobody); uvicorn's own default would believe any local process, which could then pose as any client
    address and dodge the per-address sign-in limits."""
    trusted = [part.strip() for part in settings.forwarded_allow_ips.split(",") if part.strip()]
    return {
        "host": settings.host,
        "port": settings.port,
        "proxy_headers": bool(trusted),
        "forwarded_allow_ips": trusted,
        "log_config": None,
        "access_log": False,
    }


for _domain in DOMAINS:  # create-admin, export-hsds, import-hsds, import-meeting-guide, freshness-reminders
    for _commands in _domain.commands():
        app.add_typer(_commands)


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()


__all__ = ["Path", "app", "main"]
