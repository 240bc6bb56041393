"""Regional shards answer exactly as one index does: the same directory built both ways, then the whole
benchmark query set, circles over a state line and every page compared, hit for hit and count for count."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import meilisearch
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from bench.queries import build_queries
from core.db import make_engine
from core.settings import Settings
from search.filters import parse_params
from search.layout import Indexes, SearchTarget
from search.query import SearchResult, search
from search.reindex import reindex
from seed_data.load import load_generated
from tests.factories import insert_listing, place, weekly
from tests.search.conftest import zones_in
from tests.support import drop_layout

NOW = datetime(2026, 3, 9, 23, 30, tzinfo=UTC)  # a Monday evening in the US: meetings starting soon
STATE_LINE = (41.62, -87.5248)  # Illinois | Indiana, between Calumet City and Hammond
SHARD_SIZE = 12  # tiny: a 10 km circle here touches several shards


@dataclass
class Layouts:
    session: Session
    single: SearchTarget
    sharded: SearchTarget
    shards: int
    zones: list[str]


def state_line_listings(session: Session) -> None:
    """Forty listings on both sides of the Illinois-Indiana line, some at one address, some online."""
    kinds = ["food-pantry", "support-groups", "treatment", "transport"]
    for n in range(40):
        lng = STATE_LINE[1] + (n % 10 - 4.5) * 0.012
        lat = STATE_LINE[0] + (n // 10 - 1.5) * 0.02
        state = "IN" if lng > STATE_LINE[1] else "IL"
        meeting = n % 3 == 0
        insert_listing(
            session,
            name=f"{'Calumet' if state == 'IL' else 'Hammond'} {'Recovery Group' if meeting else 'Pantry'} {n}",
            kind="meeting" if meeting else "service",
            categories=[] if meeting else [kinds[n % 4]],
            attendance="online" if n % 13 == 0 else ("hybrid" if n % 7 == 0 else "in_person"),
            places=[place(*((STATE_LINE[0], STATE_LINE[1] + 0.001) if n % 8 == 0 else (lat, lng)), state=state)],
            schedules=[weekly(["MO", "TU", "WE"][n % 3], f"{17 + n % 6}:{(n * 7) % 60:02d}")],
            languages=["en", "es"] if n % 4 == 0 else ["en"],
            costs=["free"] if n % 2 else [],
        )


@pytest.fixture(scope="module")
def layouts(tmp_path_factory: pytest.TempPathFactory, meili_server: Any) -> Iterator[Layouts]:
    """400 generated listings plus the state line, indexed as one index and as tiny shards."""
    data_dir: Path = tmp_path_factory.mktemp("equivalence")
    engine: Engine = make_engine(Settings(data_dir=data_dir))
    SQLModel.metadata.create_all(engine)
    load_generated(engine=engine, size=400, seed=42, progress=False)
    client = meilisearch.Client(meili_server.url, meili_server.api_key)
    prefixes = ("eqsingle", "eqsharded")
    with Session(engine, expire_on_commit=False) as session:
        state_line_listings(session)
        reindex(engine=engine, indexes=Indexes(prefix=prefixes[0], home=client, max_documents=0))
        sharded = Indexes(prefix=prefixes[1], home=client, max_documents=SHARD_SIZE)
        result = reindex(engine=engine, indexes=sharded)
        yield Layouts(
            session=session,
            single=SearchTarget(prefix=prefixes[0], home=client),
            sharded=SearchTarget(prefix=prefixes[1], home=client),
            shards=result.shards,
            zones=zones_in(session),
        )
    for prefix in prefixes:
        drop_layout(client, prefix)
    engine.dispose()


def both(layouts: Layouts, raw: dict[str, Any]) -> tuple[SearchResult, SearchResult]:
    params = parse_params({k: [v] if k in ("day",) and isinstance(v, str) else v for k, v in raw.items()})
    return tuple(  # type: ignore[return-value]
        search(target=target, params=params, timezones=layouts.zones, now=NOW)
        for target in (layouts.single, layouts.sharded)
    )


def assert_same(layouts: Layouts, raw: dict[str, Any]) -> SearchResult:
    single, sharded = both(layouts, raw)
    assert [h["id"] for h in sharded.hits] == [h["id"] for h in single.hits], raw
    assert sharded.total == single.total, raw
    assert sharded.facets == single.facets, raw
    assert [h["id"] for h in sharded.online] == [h["id"] for h in single.online], raw
    assert sharded == single, raw  # every field of every hit too
    return single


def bench_queries(layouts: Layouts) -> list[dict[str, Any]]:
    engine = layouts.session.get_bind()
    assert isinstance(engine, Engine)
    return build_queries(engine, 50)


def test_the_layouts_differ_where_it_matters(layouts: Layouts) -> None:
    shard_map = layouts.sharded.shard_map()
    assert shard_map is not None and layouts.shards == len(shard_map.shards) > 40
    assert layouts.single.shard_map() is not None and not layouts.single.shard_map().sharded  # type: ignore[union-attr]
    across = shard_map.covering(*STATE_LINE, 10)
    assert len(across) >= 3


def test_the_benchmark_query_set_gets_the_same_answers(layouts: Layouts) -> None:
    queries = bench_queries(layouts)
    assert len(queries) == 50
    nonempty = 0
    for raw in queries:
        for page in (1, 2):
            result = assert_same(layouts, {**raw, "page": page, "per_page": 5})
            nonempty += bool(result.hits)
    assert nonempty >= 25  # the comparison is about real results, not empty ones


@pytest.mark.parametrize("sort", ["distance", "relevance", "soonest"])
@pytest.mark.parametrize(
    "extra",
    [{}, {"q": "pantry"}, {"category": ["food-pantry"]}, {"kind": "meeting", "day": "1"}, {"language": ["es"]}],
    ids=["all", "words", "category", "monday-meetings", "spanish"],
)
def test_a_circle_over_a_state_line_pages_alike(layouts: Layouts, sort: str, extra: dict[str, Any]) -> None:
    """Every page, down to the first empty one, over a circle that spans Illinois and Indiana."""
    base = {"lat": STATE_LINE[0], "lng": STATE_LINE[1], "radius_km": 10, "sort": sort, "per_page": 4, **extra}
    states: set[str] = set()
    page = 1
    while True:
        result = assert_same(layouts, {**base, "page": page})
        states |= {h["address"]["state"] for h in result.hits if h.get("address")}
        if not result.hits:
            break
        page += 1
    assert page > 2 or extra  # the unfiltered circles span several pages
    if not extra:
        assert states == {"IL", "IN"}


def test_a_wide_circle_with_online_meetings_and_time_filters(layouts: Layouts) -> None:
    for raw in (
        {"near": "60601", "radius_km": 100, "starting_within": 120},
        {"lat": STATE_LINE[0], "lng": STATE_LINE[1], "radius_km": 50, "open_now": True},
        {"lat": STATE_LINE[0], "lng": STATE_LINE[1], "radius_km": 500, "per_page": 100},
        {"lat": STATE_LINE[0], "lng": STATE_LINE[1], "radius_km": 500, "sort": "soonest", "page": 3},
    ):
        assert_same(layouts, raw)
