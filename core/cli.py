"""Command line: `python -m core serve | migrate | seed | create-admin` (also `directory-admin`)."""

import getpass
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from sqlalchemy import func
from sqlmodel import Session, select

from core.errors import ConfigurationError, DomainError
from core.settings import PROJECT_ROOT, Settings, get_settings
from directory.hsds.cli import app as data_exchange_app
from directory.sources.cli import app as feeds_app

app = typer.Typer(help="Community resource directory: run, migrate, seed and administer.", no_args_is_help=True)
app.add_typer(data_exchange_app)  # export-hsds, import-hsds, import-meeting-guide
app.add_typer(feeds_app, name="feeds")  # feeds add|list|sync|remove
F = TypeVar("F", bound=Callable[..., Any])


def one_line_errors(fn: F) -> F:
    """Bad configuration or input ends the command with one explanatory line, not a traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ConfigurationError as exc:
            typer.secho(f"error: {exc}", fg="red", err=True)
            raise typer.Exit(2) from None
        except DomainError as exc:
            typer.secho(f"error: {exc.message}", fg="red", err=True)
            raise typer.Exit(1) from None
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
            typer.secho(f"error: invalid setting ({problems})", fg="red", err=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def _engine(settings: Settings) -> Any:
    from core.db import check_connection, ensure_data_dir, make_engine

    ensure_data_dir(settings.data_dir)
    engine = make_engine(settings)
    check_connection(engine)
    return engine


def run_migrations(settings: Settings, revision: str = "head", downgrade: bool = False) -> None:
    from alembic import command
    from alembic.config import Config

    engine = _engine(settings)
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
    from directory.models import Service
    from directory.service import ensure_taxonomy
    from seed_data.load import load_curated, load_generated

    settings = get_settings()
    engine = _engine(settings)
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


@app.command("create-admin")
@one_line_errors
def create_admin(
    email: Annotated[str, typer.Option(prompt=True, help="E-mail address to sign in with.")],
    password: Annotated[str | None, typer.Option(help="Password (prompted when omitted; min. 10 chars).")] = None,
) -> None:
    """Create a network administrator account."""
    from accounts.service import create_admin as create

    secret = password or getpass.getpass("Password: ")
    engine = _engine(get_settings())
    with Session(engine) as session:
        user = create(session=session, email=email, password=secret)
    typer.echo(f"network admin {user.email} created")


@app.command("freshness-reminders")
@one_line_errors
def freshness_reminders() -> None:
    """E-mail the editors of listings not verified for 180 days (once per listing per month)."""
    from core.clock import utcnow
    from directory.freshness import send_freshness_reminders

    settings = get_settings()
    engine = _engine(settings)
    with Session(engine, expire_on_commit=False) as session:
        report = send_freshness_reminders(session=session, settings=settings, now=utcnow())
    typer.echo(f"{report.listings} stale listings reminded, {report.mails} e-mails sent")


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
    engine = _engine(settings)
    meili = connect(settings)
    try:
        application = create_app(settings, engine=engine, meili=meili)
        bind_host, bind_port = host or settings.host, port or settings.port
        typer.echo(f"serving on http://{bind_host}:{bind_port} (Ctrl-C to stop)")
        uvicorn.run(application, host=bind_host, port=bind_port, log_config=None, access_log=False)
    finally:
        meili.stop()
        engine.dispose()


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()


__all__ = ["Path", "app", "main"]
