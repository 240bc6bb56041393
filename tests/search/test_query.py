"""The search service against a real Meilisearch: place, text, filters, facets and sorts."""

from datetime import UTC, datetime, timedelta

import meilisearch
import pytest
from geopy.distance import geodesic
from sqlmodel import Session

from core.errors import ServiceUnavailable, ValidationFailed
from search.embedded import free_port
from search.query import ZoneCache
from tests.factories import CHICAGO, insert_listing, place, weekly
from tests.search.conftest import all_services, names, run_search
from tests.support import push

# Distances from downtown Chicago: 0, ~4.9, ~10.0, ~13.5 and ~58 km.
POINTS = {
    "Loop Pantry": CHICAGO,
    "Lincoln Park Pantry": (41.9217, -87.6469),
    "Hyde Park Pantry": (41.7943, -87.5907),
    "Rogers Park Pantry": (41.9997, -87.6696),
    "Aurora Pantry": (41.7606, -88.3201),
}


@pytest.fixture
def pantries(session: Session, taxonomy: None, meili_client: meilisearch.Client, search_index: str) -> dict:
    services = {name: insert_listing(session, name=name, places=[place(*point)]) for name, point in POINTS.items()}
    push(meili_client, search_index, session, list(services.values()))
    return services


def test_distance_order_and_values_match_geodesic(
    session: Session, meili_client: meilisearch.Client, search_index: str, pantries: dict
) -> None:
    result = run_search(meili_client, search_index, session, lat=CHICAGO[0], lng=CHICAGO[1])
    expected = sorted((n for n in POINTS if n != "Aurora Pantry"), key=lambda n: geodesic(CHICAGO, POINTS[n]).km)
    assert result.sort == "distance" and names(result.hits) == expected and result.total == 4
    for h in result.hits:
        assert h["distance_km"] == pytest.approx(geodesic(CHICAGO, POINTS[h["name"]]).km, abs=0.01)


def test_radius_filter(session: Session, meili_client: meilisearch.Client, search_index: str, pantries: dict) -> None:
    near = run_search(meili_client, search_index, session, lat=CHICAGO[0], lng=CHICAGO[1], radius_km=8)
    assert set(names(near.hits)) == {"Loop Pantry", "Lincoln Park Pantry"}
    wide = run_search(meili_client, search_index, session, lat=CHICAGO[0], lng=CHICAGO[1], radius_km=100)
    assert names(wide.hits)[-1] == "Aurora Pantry" and wide.total == 5


def test_near_is_geocoded_offline(session: Session, meili_client: meilisearch.Client, search_index: str,
                                  pantries: dict) -> None:  # fmt: skip
    result = run_search(meili_client, search_index, session, near="Aurora, IL", radius_km=5)
    assert names(result.hits) == ["Aurora Pantry"]
    with pytest.raises(ValidationFailed) as caught:
        run_search(meili_client, search_index, session, near="Atlantis, ZZ")
    assert caught.value.field == "near"


def test_pagination(session: Session, meili_client: meilisearch.Client, search_index: str, pantries: dict) -> None:
    first = run_search(meili_client, search_index, session, lat=CHICAGO[0], lng=CHICAGO[1], per_page=3)
    second = run_search(meili_client, search_index, session, lat=CHICAGO[0], lng=CHICAGO[1], per_page=3, page=2)
    assert first.total == second.total == 4 and len(first.hits) == 3 and len(second.hits) == 1
    assert not set(names(first.hits)) & set(names(second.hits))


@pytest.fixture
def variety(session: Session, taxonomy: None, meili_client: meilisearch.Client, search_index: str) -> None:
    insert_listing(
        session,
        name="Downtown Food Bank",
        categories=["food-bank"],
        costs=["free"],
        languages=["en", "es"],
        places=[place(accessibility=["wheelchair", "elevator"])],
    )
    insert_listing(
        session,
        name="Northside Pantry",
        categories=["food-pantry"],
        costs=["free"],
        schedules=[weekly("TU", "10:00", "12:00")],
    )
    insert_listing(
        session,
        name="Recovery Rides",
        categories=["rides-to-treatment"],
        costs=["medicaid"],
        description="Transportation to treatment and meetings.",
    )
    insert_listing(
        session,
        name="Bridge Clinic",
        categories=["buprenorphine"],
        costs=["medicaid", "sliding_scale"],
        languages=["es"],
        description="Same-day induction.",
    )
    insert_listing(
        session,
        name="Lakeview Serenity",
        kind="meeting",
        fellowship="aa",
        categories=[],
        types=["O", "D"],
        schedules=[weekly("TU,TH", "19:00", "20:00")],
    )
    insert_listing(
        session,
        name="Clean Sunday",
        kind="meeting",
        fellowship="na",
        categories=[],
        types=["C", "BE"],
        attendance="hybrid",
        conference_url="https://zoom.example/j/3",
        schedules=[weekly("SU", "23:30")],
    )
    push(meili_client, search_index, session, all_services(session))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"category": "food"}, {"Downtown Food Bank", "Northside Pantry"}),  # a parent finds its children
        ({"category": ["food-bank", "rides-to-treatment"]}, {"Downtown Food Bank", "Recovery Rides"}),
        ({"category": "support-groups"}, {"Lakeview Serenity", "Clean Sunday"}),
        ({"kind": "meeting"}, {"Lakeview Serenity", "Clean Sunday"}),
        ({"fellowship": "na"}, {"Clean Sunday"}),
        ({"type": "O"}, {"Lakeview Serenity"}),
        ({"type": ["BE", "D"]}, {"Lakeview Serenity", "Clean Sunday"}),
        ({"attendance": "hybrid"}, {"Clean Sunday"}),
        ({"language": "es"}, {"Downtown Food Bank", "Bridge Clinic"}),
        ({"accessibility": "elevator"}, {"Downtown Food Bank"}),
        ({"cost": "medicaid"}, {"Recovery Rides", "Bridge Clinic"}),
        ({"cost": "free", "category": "food-pantry"}, {"Northside Pantry"}),
        ({"day": "tuesday"}, {"Northside Pantry", "Lakeview Serenity"}),
        ({"day": "2", "time_from": "18:00"}, {"Lakeview Serenity"}),
        ({"time_from": "23:00", "time_to": "01:00"}, {"Clean Sunday"}),
        ({"day": "0", "time_from": "23:00", "time_to": "00:30"}, {"Clean Sunday"}),
    ],
    ids=lambda v: str(v)[:50] if isinstance(v, dict) else "",
)
def test_every_filter(session: Session, meili_client: meilisearch.Client, search_index: str, variety: None,
                      raw: dict, expected: set) -> None:  # fmt: skip
    result = run_search(meili_client, search_index, session, **raw)
    assert set(names(result.hits)) == expected and result.total == len(expected)


def test_facet_counts(session: Session, meili_client: meilisearch.Client, search_index: str, variety: None) -> None:
    facets = run_search(meili_client, search_index, session).facets
    assert facets["category"]["food"] == 2 and facets["category"]["food-bank"] == 1
    assert facets["category"]["support-groups"] == 2 and facets["category"]["treatment"] == 1
    assert facets["cost"] == {"free": 2, "medicaid": 2, "sliding_scale": 1}
    assert facets["fellowship"] == {"aa": 1, "na": 1} and facets["type"]["BE"] == 1
    assert facets["attendance"] == {"in_person": 5, "hybrid": 1}
    assert facets["day"] == {"0": 1, "2": 2, "4": 1} and facets["accessibility"] == {"elevator": 1, "wheelchair": 1}
    assert facets["language"] == {"en": 5, "es": 2}
    narrowed = run_search(meili_client, search_index, session, kind="meeting").facets
    assert narrowed["category"] == {"aa": 1, "na": 1, "support-groups": 2} and narrowed["cost"] == {}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("alcoholics anonymus", "Lakeview Serenity"),  # a typo, and AA via its fellowship
        ("AA", "Lakeview Serenity"),
        ("narcotics anonymous", "Clean Sunday"),
        ("suboxone", "Bridge Clinic"),  # synonym of buprenorphine
        ("MAT", "Bridge Clinic"),
        ("medication for opioid use disorder", "Bridge Clinic"),
        ("pantry", "Downtown Food Bank"),  # food bank <-> pantry
        ("ride", "Recovery Rides"),
        ("transport", "Recovery Rides"),
    ],
)
def test_typos_and_synonyms(session: Session, meili_client: meilisearch.Client, search_index: str, variety: None,
                            q: str, expected: str) -> None:  # fmt: skip
    assert expected in names(run_search(meili_client, search_index, session, q=q).hits)


def test_text_with_distance_keeps_distance_order(session: Session, meili_client: meilisearch.Client,
                                                 search_index: str, pantries: dict) -> None:  # fmt: skip
    result = run_search(meili_client, search_index, session, q="pantry", lat=CHICAGO[0], lng=CHICAGO[1])
    assert names(result.hits)[:2] == ["Loop Pantry", "Lincoln Park Pantry"]
    relevance = run_search(meili_client, search_index, session, q="hyde", lat=CHICAGO[0], lng=CHICAGO[1],
                           sort="relevance")  # fmt: skip
    assert names(relevance.hits) == ["Hyde Park Pantry"] and relevance.sort == "relevance"


def test_stale_flag(session: Session, taxonomy: None, meili_client: meilisearch.Client, search_index: str) -> None:
    at = datetime(2026, 3, 9, 17, tzinfo=UTC)
    fresh = insert_listing(session, name="Fresh", assured_date=(at - timedelta(days=30)).date())
    old = insert_listing(session, name="Old", assured_date=(at - timedelta(days=200)).date())
    never = insert_listing(session, name="Never", assured_date=None)
    never.created_at = at - timedelta(days=400)  # never verified: counts from the day it was added
    new = insert_listing(session, name="New", assured_date=None)
    new.created_at = at - timedelta(days=3)
    session.add_all([never, new])
    session.commit()
    push(meili_client, search_index, session, [fresh, old, never, new])
    stale = {h["name"]: h["stale"] for h in run_search(meili_client, search_index, session, now=at).hits}
    assert stale == {"Fresh": False, "Old": True, "Never": True, "New": False}


def test_stale_listings_rank_below_fresh_ones_on_equal_match(
    session: Session, taxonomy: None, meili_client: meilisearch.Client, search_index: str
) -> None:
    at = datetime(2026, 3, 9, 17, tzinfo=UTC)
    old = insert_listing(session, name="Harbor Pantry", assured_date=(at - timedelta(days=300)).date())
    fresh = insert_listing(session, name="Harbor Pantry", assured_date=(at - timedelta(days=5)).date())
    push(meili_client, search_index, session, [old, fresh])
    hits = run_search(meili_client, search_index, session, now=at, q="harbor pantry", sort="relevance").hits
    assert [h["stale"] for h in hits] == [False, True]


def test_unreachable_meilisearch_is_service_unavailable(session: Session, taxonomy: None) -> None:
    dead = meilisearch.Client(f"http://127.0.0.1:{free_port()}", "key", timeout=2)
    with pytest.raises(ServiceUnavailable):
        run_search(dead, "missing_listings", session, q="food")


def test_missing_index_is_service_unavailable(session: Session, meili_client: meilisearch.Client,
                                              index_prefix: str) -> None:  # fmt: skip
    with pytest.raises(ServiceUnavailable):
        run_search(meili_client, f"{index_prefix}_never_built", session)


def test_zone_cache_rereads_after_its_ttl(session: Session, engine, taxonomy: None) -> None:
    ticks = [0.0]
    cache = ZoneCache(engine, ttl=60, monotonic=lambda: ticks[0])
    insert_listing(session, schedules=[weekly("MO", "09:00")])
    assert cache.get() == ["America/Chicago"]
    insert_listing(session, schedules=[weekly("MO", "09:00", timezone="America/Denver")])
    ticks[0] = 59
    assert cache.get() == ["America/Chicago"]
    ticks[0] = 61
    assert cache.get() == ["America/Chicago", "America/Denver"]
