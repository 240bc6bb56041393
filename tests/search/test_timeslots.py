"""Weekly slot fields and exact occurrence times: pure functions, DST and midnight/week wraps."""

import random
from datetime import UTC, date, datetime, time
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from search.timeslots import (
    BUCKETS_PER_WEEK,
    Slot,
    block_cover,
    blocks_containing,
    bucket_ranges,
    group_zones,
    minute_of_week,
    occurrence_status,
    open_buckets,
    slots_from_schedules,
    week_fields,
    week_ranges,
)

CHICAGO = ZoneInfo("America/Chicago")


def sched(byday: str, opens: str | None, closes: str | None = None, freq: str = "WEEKLY", **extra: object):
    return SimpleNamespace(
        byday=byday,
        freq=freq,
        opens_at=time.fromisoformat(opens) if opens else None,
        closes_at=time.fromisoformat(closes) if closes else None,
        valid_from=extra.get("valid_from"),
        valid_to=extra.get("valid_to"),
    )


def test_weekly_schedule_gives_one_slot_per_day_sunday_zero() -> None:
    slots = slots_from_schedules([sched("MO,WE", "19:00", "20:00"), sched("SU", "08:00")])
    assert [(s.day, s.opens, s.start) for s in slots] == [
        (0, time(8), 480),
        (1, time(19), 1440 + 1140),
        (3, time(19), 3 * 1440 + 1140),
    ]


def test_monthly_ordinals_are_kept_and_rows_without_start_skipped() -> None:
    slots = slots_from_schedules([sched("1SA,-1SU", "10:00", freq="MONTHLY"), sched("TU", None), sched("XX", "09:00")])
    assert [(s.day, s.nth) for s in slots] == [(0, -1), (6, 1)]


def test_ordinal_on_a_weekly_schedule_is_read_as_every_week() -> None:
    assert slots_from_schedules([sched("2MO", "10:00")])[0].nth == 0


@pytest.mark.parametrize(
    ("slot", "expected"),
    [
        (Slot(1, time(19), time(20)), list(range(516, 528))),
        (Slot(1, time(19)), list(range(516, 528))),  # no closing time: one hour
        (Slot(6, time(23, 30), time(0, 30)), [2010, 2011, 2012, 2013, 2014, 2015, 0, 1, 2, 3, 4, 5]),  # week wrap
        (Slot(1, time(19, 2), time(19, 20)), [517, 518, 519]),  # 19:02 is open from the 19:05 bucket
    ],
    ids=["weekly", "default-hour", "saturday-midnight-wrap", "unaligned-start"],
)
def test_open_buckets(slot: Slot, expected: list[int]) -> None:
    assert open_buckets(slot) == expected


def random_slots(rng: random.Random) -> list[Slot]:
    def clock() -> time:
        return time(rng.randrange(24), rng.choice([0, 1, 5, 15, 30, 45, 58, 59]))

    return [Slot(rng.randrange(7), clock(), rng.choice([None, clock()])) for _ in range(rng.randrange(0, 9))]


@pytest.mark.parametrize("seed", range(40))
def test_open_blocks_say_open_exactly_when_a_slot_covers_the_bucket(seed: int) -> None:
    slots = random_slots(random.Random(seed))
    covered = {b for slot in slots for b in open_buckets(slot)}
    cover = set(block_cover([r for slot in slots for r in bucket_ranges(slot)]))
    for bucket in range(BUCKETS_PER_WEEK):
        assert bool(cover & set(blocks_containing(bucket))) == (bucket in covered), bucket


def test_weekday_opening_hours_need_few_blocks() -> None:
    weekdays = [Slot(day, time(9), time(17)) for day in range(1, 6)]
    blocks = week_fields(weekdays)["open_blocks"]
    assert sum(len(open_buckets(s)) for s in weekdays) == 480 and len(blocks) <= 60
    open_at = {b for s in weekdays for b in open_buckets(s)}
    assert all(bool(set(blocks) & set(blocks_containing(b))) == (b in open_at) for b in range(BUCKETS_PER_WEEK))
    assert week_fields([Slot(0, time(0), time(0))])["open_blocks"] == block_cover([(0, 288)])  # a whole Sunday


def test_closing_equal_to_opening_is_a_full_day() -> None:
    assert Slot(1, time(9), time(9)).duration == 1440


def test_week_fields() -> None:
    fields = week_fields([Slot(1, time(19), time(20)), Slot(3, time(19), time(20)), Slot(6, time(23, 30))])
    assert fields["start_minutes"] == [2580, 5460, 10050]
    assert fields["start_of_day"] == [1140, 1410]
    assert fields["days"] == [1, 3, 6]
    assert fields["first_start"] == 2580 and fields["has_schedule"] is True
    assert week_fields([]) == {
        "start_minutes": [],
        "start_of_day": [],
        "open_blocks": [],
        "days": [],
        "first_start": None,
        "has_schedule": False,
    }


def test_slot_round_trips_through_the_document() -> None:
    slot = Slot(6, time(23, 30), time(0, 30), nth=-1, valid_from=date(2026, 1, 1), valid_to=date(2026, 6, 30))
    assert slot.to_doc() == [6, "23:30", "00:30", -1, "2026-01-01", "2026-06-30"]
    assert Slot.from_doc(slot.to_doc()) == slot


@pytest.mark.parametrize(
    ("at", "zone", "minute"),
    [
        # Sunday 2026-03-08, 08:00 UTC = 03:00 CDT (the clocks jumped from 02:00 CST to 03:00 CDT at 08:00 UTC).
        (datetime(2026, 3, 8, 8, 0, tzinfo=UTC), "America/Chicago", 180),
        (datetime(2026, 3, 8, 7, 59, tzinfo=UTC), "America/Chicago", 119),  # 01:59 CST
        (datetime(2026, 3, 9, 1, 0, tzinfo=UTC), "America/Chicago", 20 * 60),  # Sun 20:00 CDT
        (datetime(2026, 3, 2, 1, 0, tzinfo=UTC), "America/Chicago", 19 * 60),  # a week earlier: Sun 19:00 CST
        (datetime(2026, 11, 1, 6, 30, tzinfo=UTC), "America/Chicago", 60 + 30),  # 01:30 CDT (first pass)
        (datetime(2026, 11, 1, 7, 30, tzinfo=UTC), "America/Chicago", 60 + 30),  # 01:30 CST (second pass)
        (datetime(2026, 3, 9, 1, 0, tzinfo=UTC), "America/Denver", 19 * 60),  # Sun 19:00 MDT
        (datetime(2026, 3, 8, 4, 0, tzinfo=UTC), "America/Chicago", 6 * 1440 + 22 * 60),  # Saturday 22:00 CST
    ],
)
def test_minute_of_week_is_local_wall_time(at: datetime, zone: str, minute: int) -> None:
    assert minute_of_week(at, zone) == minute


def test_zones_with_the_same_wall_time_are_grouped() -> None:
    at = datetime(2026, 7, 1, 18, 0, tzinfo=UTC)  # Chicago 13:00, Denver 12:00, Phoenix 11:00 (no DST)
    groups = group_zones(["America/Chicago", "America/Winnipeg", "America/Denver", "America/Phoenix", "Nope/X"], at)
    assert sorted(groups.values()) == [["America/Chicago", "America/Winnipeg"], ["America/Denver"], ["America/Phoenix"]]
    winter = group_zones(["America/Denver", "America/Phoenix"], datetime(2026, 1, 7, 18, 0, tzinfo=UTC))
    assert list(winter.values()) == [["America/Denver", "America/Phoenix"]]


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (100, 200, [(100, 200)]),
        (-10, 50, [(10070, 10079), (0, 50)]),
        (10000, 10150, [(10000, 10079), (0, 70)]),
        (0, 20000, [(0, 10079)]),
    ],
)
def test_week_ranges_split_at_the_wrap(low: int, high: int, expected: list[tuple[int, int]]) -> None:
    assert week_ranges(low, high) == expected


def test_in_progress_across_midnight_and_next_start() -> None:
    slots = [Slot(6, time(23, 30), time(0, 30))]  # Saturday 23:30-00:30
    at = datetime(2026, 3, 1, 6, 15, tzinfo=UTC)  # Sunday 2026-03-01 00:15 CST
    status = occurrence_status(slots, "America/Chicago", at)
    assert status.in_progress is True
    assert status.started_at == datetime(2026, 2, 28, 23, 30, tzinfo=CHICAGO)
    assert status.ends_at == datetime(2026, 3, 1, 0, 30, tzinfo=CHICAGO)
    assert status.next_start == datetime(2026, 3, 7, 23, 30, tzinfo=CHICAGO)
    assert status.next_start.isoformat() == "2026-03-07T23:30:00-06:00"


def test_next_start_across_the_spring_dst_change_keeps_local_time() -> None:
    slots = [Slot(0, time(19), time(20))]  # Sunday 19:00 local
    before = datetime(2026, 3, 8, 12, 0, tzinfo=UTC)  # Sunday of the change, morning
    status = occurrence_status(slots, "America/Chicago", before)
    assert status.next_start is not None and status.next_start.isoformat() == "2026-03-08T19:00:00-05:00"
    during = occurrence_status(slots, "America/Chicago", datetime(2026, 3, 9, 0, 30, tzinfo=UTC))  # 19:30 CDT
    assert during.in_progress
    week_before = occurrence_status(slots, "America/Chicago", datetime(2026, 3, 2, 0, 30, tzinfo=UTC))  # 18:30 CST
    assert not week_before.in_progress
    assert week_before.next_start is not None and week_before.next_start.isoformat() == "2026-03-01T19:00:00-06:00"


def test_fall_back_hour_is_not_counted_twice() -> None:
    slots = [Slot(0, time(1, 0), time(1, 45))]  # Sunday 01:00-01:45; on 2026-11-01 01:xx happens twice
    first = occurrence_status(slots, "America/Chicago", datetime(2026, 11, 1, 6, 30, tzinfo=UTC))  # 01:30 CDT
    assert first.in_progress
    second = occurrence_status(slots, "America/Chicago", datetime(2026, 11, 1, 7, 30, tzinfo=UTC))  # 01:30 CST
    assert not second.in_progress
    assert second.next_start is not None and second.next_start.date() == date(2026, 11, 8)


@pytest.mark.parametrize(
    ("nth", "at", "expected"),
    [
        (1, datetime(2026, 3, 1, 12, tzinfo=UTC), date(2026, 3, 7)),  # first Saturday of March
        (1, datetime(2026, 3, 8, 12, tzinfo=UTC), date(2026, 4, 4)),  # past it: April's first Saturday
        (-1, datetime(2026, 3, 1, 12, tzinfo=UTC), date(2026, 3, 28)),  # last Saturday
        (5, datetime(2026, 3, 1, 12, tzinfo=UTC), date(2026, 5, 30)),  # a fifth Saturday: none in March/April
        (-2, datetime(2026, 1, 1, 12, tzinfo=UTC), date(2026, 1, 24)),  # second-to-last
    ],
)
def test_monthly_next_start(nth: int, at: datetime, expected: date) -> None:
    status = occurrence_status([Slot(6, time(10), nth=nth)], "America/Chicago", at)
    assert status.next_start is not None and status.next_start.date() == expected


def test_monthly_slot_is_not_in_progress_on_other_weeks() -> None:
    slot = Slot(6, time(10), time(11), nth=1)
    third_saturday = datetime(2026, 3, 21, 16, 30, tzinfo=UTC)  # 10:30 CDT
    assert not occurrence_status([slot], "America/Chicago", third_saturday).in_progress
    assert occurrence_status([slot], "America/Chicago", datetime(2026, 3, 7, 16, 30, tzinfo=UTC)).in_progress


def test_valid_dates_bound_the_occurrences() -> None:
    slot = Slot(1, time(9), time(17), valid_from=date(2026, 6, 1), valid_to=date(2026, 8, 31))
    status = occurrence_status([slot], "America/Chicago", datetime(2026, 3, 2, 16, tzinfo=UTC))
    assert not status.in_progress
    assert status.next_start is not None and status.next_start.date() == date(2026, 6, 1)
    after = occurrence_status([slot], "America/Chicago", datetime(2026, 9, 1, tzinfo=UTC))
    assert after.next_start is None


def test_no_slots_or_unknown_zone() -> None:
    assert occurrence_status([], "America/Chicago", datetime.now(UTC)).next_start is None
    assert occurrence_status([Slot(1, time(9))], "Not/AZone", datetime.now(UTC)).next_start is None
