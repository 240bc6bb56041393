"""Times shown on listing pages and written to calendar files: local wall time, DST, monthly, midnight."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from directory.listings.models import Schedule
from directory.listings.occurrences import duration, first_local_start, is_in_progress, next_start
from directory.listings.pages import timing

CHICAGO = ZoneInfo("America/Chicago")


def schedule(byday: str, opens: str, closes: str | None = None, **extra: Any) -> Schedule:
    return Schedule(
        byday=byday, opens_at=time.fromisoformat(opens), closes_at=time.fromisoformat(closes) if closes else None,
        timezone="America/Chicago", **extra,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("sched", "now", "expected"),
    [
        (schedule("MO", "19:00"), datetime(2026, 3, 6, 18, tzinfo=UTC), datetime(2026, 3, 9, 19, tzinfo=CHICAGO)),
        (schedule("SU", "01:30"), datetime(2026, 11, 1, 5, tzinfo=UTC), datetime(2026, 11, 1, 1, 30, tzinfo=CHICAGO)),
        (
            schedule("1SA", "10:00", freq="MONTHLY"),
            datetime(2026, 6, 1, tzinfo=UTC),
            datetime(2026, 6, 6, 10, tzinfo=CHICAGO),
        ),
        (
            schedule("-1SU", "18:00", freq="MONTHLY"),
            datetime(2026, 6, 1, tzinfo=UTC),
            datetime(2026, 6, 28, 18, tzinfo=CHICAGO),
        ),
        (schedule("TU", "12:00", valid_to=date(2026, 6, 1)), datetime(2026, 6, 3, tzinfo=UTC), None),
    ],
    ids=["weekly-after-dst-starts", "fall-back-night", "first-saturday", "last-sunday", "ended"],
)
def test_next_start_is_in_local_wall_time(sched: Schedule, now: datetime, expected: datetime | None) -> None:
    found = next_start(sched, now)
    assert found == expected
    if expected is not None:
        assert found is not None and found.utcoffset() == expected.utcoffset()


def test_meeting_crossing_midnight_is_in_progress_after_midnight() -> None:
    late = schedule("FR", "22:00", "02:00")
    length = duration(time(22), time(2))
    assert length == timedelta(hours=4)
    saturday_1am = datetime(2026, 6, 6, 1, tzinfo=CHICAGO)
    assert is_in_progress(late, saturday_1am, length)
    assert not is_in_progress(late, saturday_1am + timedelta(hours=2), length)


def test_timing_counts_minutes_until_the_next_start() -> None:
    sched = [schedule("MO", "12:00", "13:00"), schedule("MO", "18:00")]
    soon = timing(sched, datetime(2026, 6, 1, 11, 40, tzinfo=CHICAGO))
    assert not soon.in_progress and soon.minutes_until == 20
    assert soon.next_start == datetime(2026, 6, 1, 12, tzinfo=CHICAGO)
    during = timing(sched, datetime(2026, 6, 1, 12, 30, tzinfo=CHICAGO))
    assert during.in_progress and during.minutes_until is None


def test_first_start_of_a_calendar_event_matches_its_rule() -> None:
    assert first_local_start(schedule("1SA", "10:00", freq="MONTHLY"), date(2026, 6, 7)) == datetime(
        2026, 7, 4, 10, tzinfo=CHICAGO
    )
    assert first_local_start(schedule("WE,FR", "09:00"), date(2026, 6, 1)) == datetime(2026, 6, 3, 9, tzinfo=CHICAGO)


def test_calendar_until_is_utc_and_events_keep_their_zone() -> None:
    from directory.listings.ics import listing_calendar
    from directory.listings.models import Organization, Service
    from directory.listings.queries import ListingDetail

    org = Organization(name="Org")
    service = Service(organization_id=org.id, name="Evening group")
    detail = ListingDetail(
        service=service, organization=org, places=[], meeting=None, categories=[], languages=[], phones=[], costs=[],
        schedules=[schedule("TH", "19:00", "20:30", valid_to=date(2026, 12, 31))],
    )  # fmt: skip
    calendar = Calendar.from_ical(listing_calendar(detail, listing_url="http://x/s", today=date(2026, 6, 1)))
    (event,) = calendar.walk("VEVENT")
    assert event.decoded("dtstart") == datetime(2026, 6, 4, 19, tzinfo=CHICAGO)
    assert event.decoded("dtend") == datetime(2026, 6, 4, 20, 30, tzinfo=CHICAGO)
    until: datetime = event.decoded("rrule")["UNTIL"][0]
    assert until.tzinfo is not None and until.utcoffset() == timedelta(0)
    assert until == datetime(2026, 12, 31, 23, 59, 59, tzinfo=CHICAGO).astimezone(UTC)
