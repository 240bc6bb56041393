"""Shared fixtures: a real database (SQLite file, or PostgreSQL via TEST_DATABASE_URL) and helpers."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

import core.models_registry  # noqa: F401  (registers every table on SQLModel.metadata)
from core.db import make_engine
from core.settings import Settings

STANDARDS = Path(__file__).resolve().parent.parent.parent / "shared" / "standards"


def _database_url(tmp_path: Path) -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'test.sqlite3'}"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """A fresh, empty schema per test (tables created from the models; migrations are tested apart)."""
    eng = make_engine(Settings(data_dir=tmp_path), _database_url(tmp_path))
    SQLModel.metadata.drop_all(eng)
    SQLModel.metadata.create_all(eng)
    yield eng
    SQLModel.metadata.drop_all(eng)
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s


# --- Meilisearch: one real server per test session -------------------------------------------------

import uuid  # noqa: E402

import meilisearch  # noqa: E402

from search.embedded import MeiliServer, find_binary, start_embedded  # noqa: E402


@pytest.fixture(scope="session")
def meili_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MeiliServer]:
    """A real Meilisearch child process for the whole suite. Missing binary = a clear failure, never a skip."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("meili"))
    find_binary(settings)  # raises ConfigurationError with what to do
    server = start_embedded(settings)
    yield server
    server.stop()


@pytest.fixture
def index_prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def meili_client(meili_server: MeiliServer) -> meilisearch.Client:
    return meilisearch.Client(meili_server.url, meili_server.api_key)


@pytest.fixture
def settings(tmp_path: Path, index_prefix: str) -> Settings:
    return Settings(
        data_dir=tmp_path, meili_index_prefix=index_prefix, embedded_workers=False, database_url=_database_url(tmp_path)
    )


# --- fixtures every package's tests use (tests/support.py) -------------------------------------------

from tests.support import (  # noqa: E402, F401
    client,
    directory,
    search_index,
    search_indexes,
    smtp,
    smtp_settings,
    taxonomy,
    web,
    web_app,
)
