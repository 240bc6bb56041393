"""Soonest-first merging of the nested "starts within" windows (the online group and sort=soonest)."""

from datetime import UTC, datetime
from typing import Any

from search.query import WINDOWS, _by_soonest

AT = datetime(2026, 3, 9, 15, 0, tzinfo=UTC)  # Monday 10:00 in Chicago (CDT)


def meeting(doc_id: str, hhmm: str) -> dict[str, Any]:
    return {"id": doc_id, "timezone": "America/Chicago", "slots": [[1, hhmm, None, 0, None, None]]}


def test_windows_are_merged_soonest_first_without_duplicates() -> None:
    # 09:55 began 5 minutes ago: it counts as starting now (and the index puts it in the first window).
    within_hour = [meeting("m-1040", "10:40"), meeting("m-0955", "09:55"), meeting("m-1015", "10:15")]
    within_4h = [meeting("m-1015", "10:15"), *(meeting(f"m-1{h}00", f"1{h}:00") for h in range(1, 4))]
    within_day = [meeting(f"m-{h}00", f"{h}:00") for h in range(15, 22)]
    anytime = [meeting("m-0955", "09:55"), meeting("m-0900", "09:00")]  # 09:00: next Monday
    results = [{"hits": hits} for hits in (within_hour, within_4h, within_day, anytime)]
    assert len(results) == len(WINDOWS)

    ids = [d["id"] for d in _by_soonest(results, AT, 10)]

    assert ids == ["m-0955", "m-1015", "m-1040", "m-1100", "m-1200", "m-1300", "m-1500", "m-1600", "m-1700",
                   "m-1800"]  # fmt: skip


def test_a_full_first_window_is_the_answer() -> None:
    first = [meeting(f"m-{n}", f"10:{n:02d}") for n in range(50, 20, -3)]  # ten meetings, listed latest first
    later = [meeting("m-1100", "11:00"), meeting("m-1800", "18:00")]
    ids = [d["id"] for d in _by_soonest([{"hits": first}, {"hits": later}], AT, 10)]
    assert ids == [f"m-{n}" for n in range(23, 51, 3)]


def test_fewer_results_than_the_limit_and_no_online_query() -> None:
    assert [d["id"] for d in _by_soonest([{"hits": [meeting("a", "10:30")]}], AT, 10)] == ["a"]
    assert _by_soonest([], AT, 10) == []
