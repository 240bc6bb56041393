"""Database engine and sessions. SQLite (WAL, foreign keys on) by default, PostgreSQL by URL."""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlmodel import Session, create_engine

from core.errors import ConfigurationError
from core.settings import Settings


def ensure_data_dir(path: Path) -> Path:
    """Create the data directory and prove it is writable, or explain in one line."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise ConfigurationError(
            f"data directory {path} is not writable ({exc.strerror}); set DATA_DIR to a writable folder"
        ) from exc
    return path


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(settings: Settings, url: str | None = None) -> Engine:
    raw = url or settings.effective_database_url
    try:
        parsed = make_url(raw)
    except ArgumentError as exc:
        raise ConfigurationError(
            f"DATABASE_URL is malformed ({raw!r}); expected e.g. postgresql+psycopg://user:pass@host/db"
        ) from exc
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ConfigurationError(f"DATABASE_URL uses {backend!r}; only sqlite and postgresql are supported")
    try:
        if backend == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                ensure_data_dir(Path(parsed.database).resolve().parent)
            engine = create_engine(parsed, connect_args={"check_same_thread": False, "timeout": 30})
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_engine(parsed, pool_pre_ping=True, pool_size=10, max_overflow=20)
    except (NoSuchModuleError, ImportError) as exc:
        raise ConfigurationError(f"DATABASE_URL driver is not available: {exc}") from exc
    return engine


def check_connection(engine: Engine) -> None:
    """Open one connection so a wrong host or password is reported before anything else runs."""
    try:
        with engine.connect():
            pass
    except Exception as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigurationError(
            f"cannot connect to the database {engine.url.render_as_string(hide_password=True)}: {reason}"
        ) from exc


def session_scope(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in ("1", "true", "yes")
