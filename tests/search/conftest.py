"""Search test fixtures: the app searched through HTTP, and running queries against the real index. The
listing builder (`insert_listing`) lives in tests/factories.py; `taxonomy`, `search_index`, `search_indexes`,
`push` and the shard layout helpers in tests/support.py."""

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import meilisearch
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.app import create_app
from core.settings import Settings
from directory.listings.models import (
    Schedule,
    Service,
)
from search.embedded import MeiliServer
from search.filters import parse_params
from search.index_spec import index_name
from search.layout import SearchTarget, layout_name
from search.query import SearchResult, search
from tests.support import prefix_of


@pytest.fixture
def api(settings: Settings, engine: Engine, meili_server: MeiliServer, search_index: str) -> Iterator[TestClient]:
    """The real app (its index is `search_index`), searched through HTTP."""
    assert search_index == index_name(settings.meili_index_prefix)
    assert layout_name(settings.meili_index_prefix) == f"{prefix_of(search_index)}_layout"
    with TestClient(create_app(settings, engine=engine, meili=meili_server)) as client:
        yield client


def zones_in(session: Session) -> list[str]:
    return sorted({z for z in session.exec(select(Schedule.timezone).distinct()) if z})


def run_search(
    client: meilisearch.Client,
    uid: str,
    session: Session,
    *,
    now: Any = None,
    target: Any = None,
    **raw: Any,
) -> SearchResult:
    """parse_params + search, with the time zones currently in the database (`at` is the raw string)."""
    for key in ("category", "fellowship", "type", "language", "accessibility", "cost", "day"):
        if isinstance(raw.get(key), str):
            raw[key] = [raw[key]]
    params = parse_params(raw)
    return search(
        target=target or SearchTarget(prefix=prefix_of(uid), home=client),
        params=params,
        timezones=zones_in(session),
        now=now or datetime(2026, 3, 9, 17, 0, tzinfo=UTC),
    )


def all_services(session: Session) -> list[Service]:
    return list(session.exec(select(Service)))


def names(hits: Sequence[dict[str, Any]]) -> list[str]:
    return [h["name"] for h in hits]
