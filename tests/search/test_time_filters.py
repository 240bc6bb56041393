"""Time filters and the soonest sort against a real index: zones, DST, midnight, week wrap, online list."""

import meilisearch
import pytest
from sqlmodel import Session

from core.errors import ValidationFailed
from tests.factories import CHICAGO, insert_listing, place, weekly
from tests.search.conftest import all_services, names, run_search
from tests.support import push

DENVER = (39.7392, -104.9903)


@pytest.fixture
def two_zones(session: Session, taxonomy: None, meili_client: meilisearch.Client, search_index: str) -> None:
    """Monday 19:00-20:00 meetings in Chicago and in Denver (local times), a weekday pantry, a Sunday meeting."""
    insert_listing(session, name="Chicago Monday", kind="meeting", schedules=[weekly("MO", "19:00", "20:00")])
    insert_listing(session, name="Denver Monday", kind="meeting", timezone="America/Denver",
                 places=[place(*DENVER, city="Denver", state="CO", postal_code="80202", timezone="America/Denver")],
                 schedules=[weekly("MO", "19:00", "20:00")])  # fmt: skip
    insert_listing(session, name="Weekday Pantry", schedules=[weekly("MO,TU,WE,TH,FR", "09:00", "17:00")])
    insert_listing(
        session, name="Closed Pantry", status="temporarily closed", schedules=[weekly("MO", "09:00", "17:00")]
    )
    insert_listing(session, name="Sunday Evening", kind="meeting", schedules=[weekly("SU", "19:00", "20:00")])
    insert_listing(session, name="Saturday Late", kind="meeting", schedules=[weekly("SA", "23:30", "00:30")])
    insert_listing(session, name="No Times")
    push(meili_client, search_index, session, all_services(session))


def found(client: meilisearch.Client, uid: str, session: Session, at: str, **raw: object) -> set[str]:
    return set(names(run_search(client, uid, session, at=at, **raw).hits))


@pytest.mark.parametrize(
    ("at", "raw", "expected"),
    [
        # Tue 01:30 UTC = Mon 20:30 in Chicago (over) and Mon 19:30 in Denver (in progress).
        ("2026-03-10T01:30:00Z", {"in_progress": True}, {"Denver Monday"}),
        # Tue 00:30 UTC = Mon 19:30 CDT (in progress) and 18:30 MDT (starts in 30 minutes).
        ("2026-03-10T00:30:00Z", {"in_progress": True}, {"Chicago Monday"}),
        ("2026-03-10T00:30:00Z", {"starting_within": 60}, {"Denver Monday"}),
        # 19:05 in Chicago: begun 5 minutes ago still counts as starting soon; Denver starts in 55.
        ("2026-03-10T00:05:00Z", {"starting_within": 60}, {"Chicago Monday", "Denver Monday"}),
        ("2026-03-10T00:05:00Z", {"starting_within": 30}, {"Chicago Monday"}),
        # Monday 10:00 CDT: the pantry is open; a temporarily closed listing never is.
        ("2026-03-09T15:00:00Z", {"open_now": True}, {"Weekday Pantry"}),
        ("2026-03-09T23:30:00Z", {"open_now": True}, set()),  # 18:30: closed
        # Offsets in `at` are honoured: 19:30-05:00 is 00:30Z.
        ("2026-03-09T19:30:00-05:00", {"in_progress": True}, {"Chicago Monday"}),
    ],
)
def test_relative_time_across_two_zones(session: Session, meili_client: meilisearch.Client, search_index: str,
                                        two_zones: None, at: str, raw: dict, expected: set) -> None:  # fmt: skip
    assert found(meili_client, search_index, session, at, **raw) == expected


@pytest.mark.parametrize(
    ("at", "in_progress"),
    [
        ("2026-03-09T00:30:00Z", True),  # Sun 8 March 19:30 CDT: the day the clocks jumped forward
        ("2026-03-02T00:30:00Z", False),  # the Sunday before: 18:30 CST
        ("2026-03-02T01:30:00Z", True),  # 19:30 CST
        ("2026-11-02T01:30:00Z", True),  # Sun 1 November 19:30 CST, after falling back
        ("2026-10-26T01:30:00Z", False),  # the Sunday before: 20:30 CDT
    ],
)
def test_in_progress_across_dst_changes(session: Session, meili_client: meilisearch.Client, search_index: str,
                                        two_zones: None, at: str, in_progress: bool) -> None:  # fmt: skip
    result = run_search(meili_client, search_index, session, **{"at": at, "in_progress": True})
    assert ("Sunday Evening" in names(result.hits)) is in_progress
    if in_progress:
        hit = next(h for h in result.hits if h["name"] == "Sunday Evening")
        assert hit["in_progress"] is True and hit["started_at"].endswith(("19:00:00-05:00", "19:00:00-06:00"))


def test_starting_soon_before_the_dst_change(session: Session, meili_client: meilisearch.Client, search_index: str,
                                             two_zones: None) -> None:  # fmt: skip
    at = "2026-03-09T00:00:00Z"  # Sun 19:00 CDT; in CST it would still be 18:00
    result = run_search(meili_client, search_index, session, **{"at": at, "starting_within": 15})
    assert names(result.hits) == ["Sunday Evening"]
    assert result.hits[0]["in_progress"] and result.hits[0]["started_at"] == "2026-03-08T19:00:00-05:00"


@pytest.mark.parametrize(
    ("at", "raw", "hit"),
    [
        ("2026-03-08T06:15:00Z", {"in_progress": True}, True),  # Sun 00:15 CST: the 23:30-00:30 meeting
        ("2026-03-08T06:35:00Z", {"in_progress": True}, False),  # 00:35: over
        ("2026-03-08T05:10:00Z", {"starting_within": 30}, True),  # Sat 23:10
        ("2026-03-08T05:10:00Z", {"starting_within": 15}, False),
        ("2026-03-01T12:00:00Z", {"day": "sat", "time_from": "23:00", "time_to": "01:00"}, True),
        ("2026-03-01T12:00:00Z", {"day": "sun", "time_from": "00:00", "time_to": "01:00"}, False),
    ],
)
def test_window_crossing_midnight_and_the_week(session: Session, meili_client: meilisearch.Client,
                                               search_index: str, two_zones: None, at: str, raw: dict,
                                               hit: bool) -> None:  # fmt: skip
    assert ("Saturday Late" in found(meili_client, search_index, session, at, **raw)) is hit


def test_hits_carry_exact_next_start_in_the_listing_zone(session: Session, meili_client: meilisearch.Client,
                                                         search_index: str, two_zones: None) -> None:  # fmt: skip
    result = run_search(meili_client, search_index, session, **{"at": "2026-03-09T12:00:00Z"})
    by_name = {h["name"]: h for h in result.hits}
    assert by_name["Chicago Monday"]["next_start"] == "2026-03-09T19:00:00-05:00"
    assert by_name["Denver Monday"]["next_start"] == "2026-03-09T19:00:00-06:00"
    assert by_name["Saturday Late"]["next_start"] == "2026-03-14T23:30:00-05:00"
    assert by_name["No Times"]["next_start"] is None and by_name["No Times"]["in_progress"] is False


def test_soonest_orders_by_exact_next_start(session: Session, meili_client: meilisearch.Client, search_index: str,
                                            two_zones: None) -> None:  # fmt: skip
    # Monday 2026-03-09 18:00 UTC = 13:00 CDT = 12:00 MDT.
    result = run_search(meili_client, search_index, session, **{"at": "2026-03-09T18:00:00Z",
                                                                          "sort": "soonest"})  # fmt: skip
    order = names(result.hits)
    # Tonight 19:00 CDT (00:00Z), 19:00 MDT (01:00Z), then the pantry's Tuesday 09:00 opening.
    assert order[:3] == ["Chicago Monday", "Denver Monday", "Weekday Pantry"]
    assert order.index("Saturday Late") < order.index("Sunday Evening") < order.index("No Times")
    assert result.total == 7 and result.sort == "soonest"


def test_soonest_pages_do_not_overlap(session: Session, meili_client: meilisearch.Client, search_index: str,
                                      two_zones: None) -> None:  # fmt: skip
    raw = {"at": "2026-03-09T18:00:00Z", "sort": "soonest", "per_page": 3}
    first = names(run_search(meili_client, search_index, session, **raw).hits)
    second = names(run_search(meili_client, search_index, session, **{**raw, "page": 2}).hits)
    third = names(run_search(meili_client, search_index, session, **{**raw, "page": 3}).hits)
    assert len(first) == 3 and len(second) == 3 and len(third) == 1
    assert len(set(first + second + third)) == 7
    with pytest.raises(ValidationFailed) as caught:
        run_search(meili_client, search_index, session, **{**raw, "per_page": 100, "page": 11})
    assert caught.value.field == "page"


@pytest.fixture
def with_online(session: Session, taxonomy: None, meili_client: meilisearch.Client, search_index: str) -> None:
    insert_listing(
        session, name="Loop Noon", kind="meeting", fellowship="aa", schedules=[weekly("MO", "12:00", "13:00")]
    )
    insert_listing(
        session,
        name="Online Eastern Noon",
        kind="meeting",
        fellowship="aa",
        attendance="online",
        places=[],
        conference_url="https://zoom.example/j/4",
        timezone="America/New_York",
        schedules=[weekly("MO", "12:00", "13:00")],
    )
    insert_listing(
        session,
        name="Online Chicago Evening",
        kind="meeting",
        fellowship="na",
        attendance="online",
        places=[],
        conference_url="https://zoom.example/j/5",
        schedules=[weekly("MO", "20:00", "21:00")],
    )
    insert_listing(session, name="Online Chat", categories=["online-communities"], places=[])
    insert_listing(
        session,
        name="Far Away",
        kind="meeting",
        places=[place(*DENVER, timezone="America/Denver")],
        timezone="America/Denver",
        schedules=[weekly("MO", "12:00")],
    )
    push(meili_client, search_index, session, all_services(session))


def test_online_listings_come_alongside_a_place_search(session: Session, meili_client: meilisearch.Client,
                                                       search_index: str, with_online: None) -> None:  # fmt: skip
    raw = {"lat": CHICAGO[0], "lng": CHICAGO[1], "at": "2026-03-09T15:00:00Z", "tz": "America/Los_Angeles"}
    result = run_search(meili_client, search_index, session, **raw)
    assert names(result.hits) == ["Loop Noon"] and result.total == 1
    # 16:00Z (noon Eastern), then 02:00Z (20:00 Chicago), then the chat room without times.
    assert names(result.online) == ["Online Eastern Noon", "Online Chicago Evening", "Online Chat"]
    assert result.online[0]["next_start"] == "2026-03-09T09:00:00-07:00"  # in the viewer's zone
    assert result.online[1]["next_start"] == "2026-03-09T18:00:00-07:00"
    assert all(h["distance_km"] is None and h["attendance"] == "online" for h in result.online)
    filtered = run_search(meili_client, search_index, session, **{**raw, "fellowship": "na"})
    assert names(filtered.online) == ["Online Chicago Evening"] and filtered.hits == []
    in_person = run_search(meili_client, search_index, session, **{**raw, "attendance": "in_person"})
    assert in_person.online == [] and names(in_person.hits) == ["Loop Noon"]


def test_online_listings_respect_time_filters(session: Session, meili_client: meilisearch.Client,
                                              search_index: str, with_online: None) -> None:  # fmt: skip
    raw = {"lat": CHICAGO[0], "lng": CHICAGO[1], "at": "2026-03-09T15:50:00Z", "starting_within": 30}
    result = run_search(meili_client, search_index, session, **raw)
    assert names(result.online) == ["Online Eastern Noon"] and result.hits == []


def test_without_a_place_online_listings_are_among_the_hits(session: Session, meili_client: meilisearch.Client,
                                                           search_index: str, with_online: None) -> None:  # fmt: skip
    result = run_search(meili_client, search_index, session, **{"q": "online"})
    assert result.online == [] and {"Online Eastern Noon", "Online Chat"} <= set(names(result.hits))
