"""A fixed, varied query set (text, geo radius, filters; facets come with every search), and the raw
Meilisearch requests the app sends for each, recorded through the query module itself."""

import copy
import random
from collections.abc import Mapping, Sequence
from typing import Any

import meilisearch
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core.clock import utcnow
from directory.listings.models import Address, Location
from search.filters import parse_params
from search.layout import SearchTarget, layout_name
from search.query import ZoneCache, search

Query = dict[str, Any]
QUERY_SEED = 7
WORDS = [
    "food pantry", "aa", "na meeting", "suboxone", "ride", "detox", "counseling", "shelter", "meals",
    "smart recovery", "al-anon", "housing", "naloxone", "clinic", "peer support", "methadone", "grief",
    "clothing", "transportation", "treatment", "recovery", "pantry", "crisis", "sober living", "spanish",
]  # fmt: skip
CATEGORIES = [
    "food",
    "food-pantry",
    "support-groups",
    "treatment",
    "transport",
    "mat",
    "housing",
    "mental-health",
    "aa",
    "na",
    "free-meals",
    "harm-reduction",
]
FILTERS: list[Query] = [
    {"kind": "meeting"}, {"kind": "service"}, {"attendance": "in_person"}, {"attendance": "hybrid"},
    {"language": ["es"]}, {"cost": ["free"]}, {"fellowship": ["aa", "na"]}, {"day": ["2", "4"]},
    {"time_from": "18:00", "time_to": "21:00"}, {"open_now": True}, {"starting_within": 120},
    {"accessibility": ["wheelchair"]}, {"type": ["O"]}, {"sort": "soonest"},
]  # fmt: skip


def build_queries(engine: Engine, count: int = 50, seed: int = QUERY_SEED) -> list[Query]:
    """`count` queries: a quarter text only, a quarter place (+ words), half place or words plus filters."""
    rng = random.Random(seed)
    points, zips = _places(engine)
    queries: list[Query] = []
    for n in range(count):
        kind = n % 4
        query: Query = {}
        if kind in (0, 3):
            query["q"] = rng.choice(WORDS)
        if kind in (1, 2, 3) and not (kind == 3 and n % 8 == 3):
            if rng.random() < 0.2:
                query["near"] = rng.choice(zips)
            else:
                lat, lng = rng.choice(points)
                query.update(lat=round(lat, 4), lng=round(lng, 4))
            query["radius_km"] = rng.choice([5, 10, 25, 50])
            if rng.random() < 0.4:
                query["q"] = rng.choice(WORDS)
        if kind in (2, 3):
            query["category"] = [rng.choice(CATEGORIES)] if rng.random() < 0.5 else []
            for extra in rng.sample(FILTERS, k=rng.choice([1, 1, 2])):
                query.update(extra)
            query = {k: v for k, v in query.items() if v != []}
        queries.append(query)
    return queries


def _places(engine: Engine) -> tuple[list[tuple[float, float]], list[str]]:
    with Session(engine) as session:
        points = session.exec(
            select(Location.latitude, Location.longitude)
            .where(col(Location.latitude).is_not(None), col(Location.is_confidential).is_(False))
            .order_by(col(Location.id))
            .limit(5000)
        ).all()
        zips = session.exec(
            select(Address.postal_code).where(Address.postal_code != "").order_by(col(Address.id)).limit(2000)
        ).all()
    return [(float(a), float(b)) for a, b in points if a is not None and b is not None], sorted(set(zips))


def as_http_params(query: Mapping[str, Any]) -> list[tuple[str, str | int | float | bool | None]]:
    """The query as URL parameters (repeatable ones repeated, booleans as true)."""
    pairs: list[tuple[str, str | int | float | bool | None]] = []
    for key, value in query.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((key, "true" if item is True else str(item)))
    return pairs


class _Recorder(meilisearch.Client):
    """A real client that also keeps a copy of every multi-search body it sends (the shard map read aside:
    the app reads it once a second, not per search)."""

    def __init__(self, url: str, api_key: str, skip: str) -> None:
        super().__init__(url, api_key, timeout=30)
        self.calls: list[list[dict[str, Any]]] = []
        self.skip = skip

    def multi_search(  # type: ignore[override]
        self, queries: Sequence[dict[str, Any]], federation: dict[str, Any] | None = None
    ) -> dict[str, list[dict[str, Any]]]:
        if any(q.get("indexUid") != self.skip for q in queries):
            self.calls.append(copy.deepcopy(list(queries)))
        return super().multi_search(queries, federation)


def raw_requests(
    queries: Sequence[Query], *, engine: Engine, meili_url: str, api_key: str, prefix: str
) -> list[list[list[dict[str, Any]]]]:
    """For each query, the multi-search bodies the app sends to Meilisearch (one, or two for `soonest`)."""
    zones = ZoneCache(engine).get()
    recorded = []
    for query in queries:
        recorder = _Recorder(meili_url, api_key, skip=layout_name(prefix))
        target = SearchTarget(prefix=prefix, home=recorder)
        search(target=target, params=parse_params(query), timezones=zones, now=utcnow())
        recorded.append(recorder.calls)
    return recorded
