"""Shards spread over two real Meilisearch servers answer as one index on one server does, through the app."""

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import meilisearch
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.app import create_app
from core.outbox import record_change
from core.settings import Settings
from directory.listings.models import Location, ServiceAtLocation
from search.client import client_for, iter_documents, service_filter
from search.embedded import MeiliServer, start_embedded
from search.fanout import metres
from search.filters import parse_params
from search.layout import Indexes, SearchTarget
from search.query import search
from search.reindex import reindex
from search.shards import ShardMap
from search.sync import push_services
from seed_data.load import load_generated
from tests.search.conftest import zones_in
from tests.search.test_shard_equivalence import STATE_LINE, state_line_listings
from tests.support import drop_layout

AT = "2026-03-09T23:30:00Z"


@pytest.fixture
def second_server(tmp_path: Path) -> Iterator[MeiliServer]:
    server = start_embedded(Settings(data_dir=tmp_path / "second-meili"))
    yield server
    server.stop()


def wait_until(check: Any, what: str, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def uids(client: meilisearch.Client, prefix: str) -> set[str]:
    return {i.uid for i in client.get_indexes({"limit": 1000})["results"] if i.uid.startswith(prefix)}


def test_two_servers_give_the_same_results_as_one(
    engine: Engine,
    session: Session,
    settings: Settings,
    meili_server: MeiliServer,
    meili_client: meilisearch.Client,
    second_server: MeiliServer,
) -> None:
    load_generated(engine=engine, size=150, seed=42, progress=False)
    state_line_listings(session)
    reference = Indexes(prefix=f"{settings.meili_index_prefix}one", home=meili_client, max_documents=0)
    reindex(engine=engine, indexes=reference)
    second = client_for(second_server)
    spread = settings.model_copy(
        update={
            "embedded_workers": True,
            "search_shard_max_documents": 10,
            "meili_shard_urls": [meili_server.url, second_server.url],
            "meili_shard_keys": [meili_server.api_key, second_server.api_key],
        }
    )
    writer = Indexes(prefix=spread.meili_index_prefix, home=meili_client, groups=(meili_client, second))
    try:
        with TestClient(create_app(spread, engine=engine, meili=meili_server)) as app:
            wait_until(lambda: writer.current_map() is not None, "the app to build its shards")
            shard_map = writer.current_map()
            assert shard_map is not None and shard_map.groups == 2
            by_group = {g: {s.uid for s in shard_map.shards if s.group == g} for g in (0, 1)}
            assert by_group[0] and by_group[1]
            assert uids(second, spread.meili_index_prefix) == by_group[1]  # the second server holds group 1 only
            assert by_group[0] <= uids(meili_client, spread.meili_index_prefix)

            centre, radius = circle_over_both(session, shard_map)
            assert {s.group for s in shard_map.covering(*centre, radius)} == {0, 1}
            compare(app, session, reference, centre, radius)
            moved = move_across_servers(session, writer)
            wait_until(lambda: on_server(second, writer, moved), "the moved listing to reach the second server")
            push_services(session=session, indexes=reference, service_ids=[moved.service_id])
            compare(app, session, reference, centre, radius)
    finally:
        drop_layout(meili_client, reference.prefix)
        drop_layout(meili_client, spread.meili_index_prefix)


def circle_over_both(session: Session, shard_map: ShardMap) -> tuple[tuple[float, float], float]:
    """A circle holding listings of both servers: around the closest pair of points on different servers."""
    points = [
        (loc.latitude, loc.longitude)
        for loc in session.exec(select(Location)).all()
        if loc.latitude is not None and loc.longitude is not None
    ]
    by_group: dict[int, list[tuple[float, float]]] = {0: [], 1: []}
    for point in points:
        by_group[shard_map.shard_for(*point).group].append(point)
    a, b = min(
        ((a, b) for a in by_group[0] for b in by_group[1]),
        key=lambda pair: (pair[0][0] - pair[1][0]) ** 2 + (pair[0][1] - pair[1][1]) ** 2,
    )
    centre = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
    radius = min(500.0, max(metres(centre, {"lat": p[0], "lng": p[1]}) for p in (a, b)) / 1000 + 5)
    return centre, radius


def compare(app: TestClient, session: Session, reference: Indexes, centre: tuple[float, float], radius: float) -> None:
    """The app's answers (shards on two servers) equal one index's: a circle over both servers, its pages,
    the state line, searches without a place."""
    target = SearchTarget(prefix=reference.prefix, home=reference.home)
    queries: list[dict[str, Any]] = [
        {"lat": centre[0], "lng": centre[1], "radius_km": radius, "per_page": 7, "page": page, "sort": sort}
        for page in (1, 2, 3)
        for sort in ("distance", "relevance", "soonest")
    ]
    queries += [
        {"lat": STATE_LINE[0], "lng": STATE_LINE[1], "radius_km": 25, "per_page": 30},
        {"near": "60601", "radius_km": 50, "q": "pantry"},
        {"q": "recovery"},
        {"category": ["food-pantry"]},
    ]
    for raw in queries:
        response = app.get("/api/v1/search", params={**raw, "at": AT})
        assert response.status_code == 200, response.text
        got = response.json()
        expected = search(
            target=target,
            params=parse_params({**raw, "at": AT}),
            timezones=zones_in(session),
            now=datetime.now(UTC),
        )
        assert [h["id"] for h in got["hits"]] == [h["id"] for h in expected.hits], raw
        assert (got["total"], got["facets"]) == (expected.total, expected.facets), raw
        assert [h["id"] for h in got["online"]] == [h["id"] for h in expected.online], raw


def move_across_servers(session: Session, writer: Indexes) -> Any:
    """Move a listing from a region on the first server to one on the second (the app's worker syncs it)."""
    shard_map = writer.current_map()
    assert shard_map is not None
    far = next(s for s in shard_map.shards if s.group == 1)
    for link in session.exec(select(ServiceAtLocation)).all():
        location = session.get(Location, link.location_id)
        assert location is not None and location.latitude is not None and location.longitude is not None
        if shard_map.shard_for(location.latitude, location.longitude).group == 0:
            location.latitude = (max(far.south, -80) + min(far.north, 80)) / 2
            location.longitude = (max(far.west, -170) + min(far.east, 170)) / 2
            session.add(location)
            record_change(session, [link.service_id])
            session.commit()
            return link
    raise AssertionError("no listing on the first server")


def on_server(second: meilisearch.Client, writer: Indexes, link: Any) -> bool:
    shard_map = writer.current_map()
    assert shard_map is not None
    found = {
        s.uid
        for s in shard_map.shards
        for _ in iter_documents(writer.server(s.group), s.uid, filter=service_filter([link.service_id]))
    }
    return len(found) == 1 and all(uid in uids(second, writer.prefix) for uid in found)
