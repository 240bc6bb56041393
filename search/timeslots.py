"""Weekly time slots: precomputed index fields, and exact occurrence times. Pure functions, no I/O.

Week arithmetic is in the listing's LOCAL wall time. A minute-of-week counts from Sunday 00:00 local
(0) to Saturday 23:59 (10079), matching Meeting Guide's day numbers (0 = Sunday). The index stores:

- `start_minutes`: the minute-of-week of every start;
- `open_blocks`: the 5-minute buckets b with start <= 5*b < end (end = closes_at, or start + 60 minutes
  when there is none; closes_at <= opens_at crosses midnight; Saturday night wraps to Sunday), stored as
  the aligned power-of-two blocks that exactly cover them (`block_cover`). "Open at bucket b" is then one
  equality filter on the 12 blocks that contain b (`blocks_containing`): a listing open 9-17 on weekdays
  carries about 40 values instead of 480 buckets, which halves the index's size and its build time;
- `start_of_day`: minute-of-day of every start (for time-of-day windows without a weekday);
- `days`: the weekdays (0-6) with a start.

Monthly rules ("1SA", "-1SU") are indexed as their weekday, so index-side time filters may over-match
them on the other weeks of the month; `occurrence_status` computes exact times from the stored slots
(ordinal weekday, `valid_from`/`valid_to`) for the hits shown. Times that are not multiples of 5
minutes are rounded inward by the bucket rule (a slot from 19:02 is "open" from the 19:05 bucket).
"""

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from core.inputs import is_zone_name

DAY = 1440
WEEK = 7 * DAY
BUCKET = 5
BUCKETS_PER_WEEK = WEEK // BUCKET
BLOCK_LEVELS = 12  # block sizes 1, 2, 4 ... 2048 buckets; 2048 >= BUCKETS_PER_WEEK
BLOCK_STRIDE = 4096  # a block's value: level * BLOCK_STRIDE + its first bucket >> level
DEFAULT_DURATION = 60
DAY_CODES = ("SU", "MO", "TU", "WE", "TH", "FR", "SA")
_BYDAY = re.compile(r"^(-?[1-5])?(SU|MO|TU|WE|TH|FR|SA)$")
# How far ahead `occurrence_status` looks for a next start (monthly fifth weekdays, seasonal dates).
LOOKAHEAD_DAYS = 400


@dataclass(frozen=True, slots=True)
class Slot:
    """One weekly (nth == 0) or monthly (nth = 1..5 or -1..-5) start on a weekday, in local wall time."""

    day: int  # 0 = Sunday
    opens: time
    closes: time | None = None
    nth: int = 0
    valid_from: date | None = None
    valid_to: date | None = None

    @property
    def start(self) -> int:
        return self.day * DAY + self.opens.hour * 60 + self.opens.minute

    @property
    def duration(self) -> int:
        """Minutes; closes_at <= opens_at means the slot ends the next day."""
        if self.closes is None:
            return DEFAULT_DURATION
        opens = self.opens.hour * 60 + self.opens.minute
        closes = self.closes.hour * 60 + self.closes.minute
        return closes - opens if closes > opens else closes + DAY - opens

    def to_doc(self) -> list[Any]:
        return [
            self.day,
            self.opens.strftime("%H:%M"),
            self.closes.strftime("%H:%M") if self.closes else None,
            self.nth,
            self.valid_from.isoformat() if self.valid_from else None,
            self.valid_to.isoformat() if self.valid_to else None,
        ]

    @classmethod
    def from_doc(cls, raw: Sequence[Any]) -> "Slot":
        day, opens, closes, nth, valid_from, valid_to = (list(raw) + [None] * 6)[:6]
        return cls(
            day=int(day),
            opens=time.fromisoformat(opens),
            closes=time.fromisoformat(closes) if closes else None,
            nth=int(nth or 0),
            valid_from=date.fromisoformat(valid_from) if valid_from else None,
            valid_to=date.fromisoformat(valid_to) if valid_to else None,
        )


def slots_from_schedules(schedules: Iterable[Any]) -> list[Slot]:
    """Slots of WEEKLY and MONTHLY schedules (rows like `directory.listings.models.Schedule`) with a start time.

    Rows without `opens_at` or with an unreadable `byday` token are skipped; `interval` > 1 is read as
    every week (the index cannot tell alternate weeks apart).
    """
    slots: list[Slot] = []
    for sched in schedules:
        if sched.opens_at is None:
            continue
        monthly = (sched.freq or "WEEKLY").upper() == "MONTHLY"
        for token in (sched.byday or "").upper().replace(" ", "").split(","):
            match = _BYDAY.match(token)
            if not match:
                continue
            nth = int(match[1]) if (match[1] and monthly) else 0
            slots.append(
                Slot(
                    day=DAY_CODES.index(match[2]),
                    opens=sched.opens_at.replace(second=0, microsecond=0),
                    closes=sched.closes_at.replace(second=0, microsecond=0) if sched.closes_at else None,
                    nth=nth,
                    valid_from=sched.valid_from,
                    valid_to=sched.valid_to,
                )
            )
    return sorted(set(slots), key=lambda s: (s.start, s.nth))


def bucket_ranges(slot: Slot) -> list[tuple[int, int]]:
    """Half-open ranges of the 5-minute week buckets b with start <= 5b < end, split at the week's end."""
    first, last = -(-slot.start // BUCKET), -(-(slot.start + slot.duration) // BUCKET)
    if first >= BUCKETS_PER_WEEK:  # a start in the week's last minutes: its first bucket is Sunday's first
        first, last = first - BUCKETS_PER_WEEK, last - BUCKETS_PER_WEEK
    if last <= BUCKETS_PER_WEEK:
        return [(first, last)] if first < last else []
    return [(first, BUCKETS_PER_WEEK), (0, last - BUCKETS_PER_WEEK)]


def open_buckets(slot: Slot) -> list[int]:
    """5-minute week buckets b with start <= 5b < end, wrapped at the end of the week."""
    return [b for low, high in bucket_ranges(slot) for b in range(low, high)]


def block_cover(ranges: Iterable[tuple[int, int]]) -> list[int]:
    """The aligned power-of-two blocks that exactly cover the union of half-open bucket ranges.

    A block of level l holds buckets [k * 2**l, (k + 1) * 2**l) and is stored as l * BLOCK_STRIDE + k.
    Blocks never overlap, so a bucket is covered exactly when one of `blocks_containing(bucket)` is listed.
    Each run takes the largest aligned block that fits at its start, so a run of n buckets needs at most
    about 2 * log2(n) blocks.
    """
    cover: list[int] = []
    merged: list[list[int]] = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], high)
        elif low < high:
            merged.append([low, high])
    for start, end in merged:
        while start < end:
            level = 0
            while level + 1 < BLOCK_LEVELS and start % (2 << level) == 0 and start + (2 << level) <= end:
                level += 1
            cover.append(level * BLOCK_STRIDE + (start >> level))
            start += 1 << level
    return cover


def blocks_containing(bucket: int) -> list[int]:
    """The one block of each level that contains this bucket."""
    return [level * BLOCK_STRIDE + (bucket >> level) for level in range(BLOCK_LEVELS)]


def week_fields(slots: Sequence[Slot]) -> dict[str, Any]:
    """The filterable weekly fields of a document."""
    starts = sorted({s.start for s in slots})
    return {
        "start_minutes": starts,
        "start_of_day": sorted({m % DAY for m in starts}),
        "open_blocks": block_cover([r for slot in slots for r in bucket_ranges(slot)]),
        "days": sorted({s.day for s in slots}),
        "first_start": starts[0] if starts else None,
        "has_schedule": bool(starts),
    }


# --- query time ------------------------------------------------------------------------------------


@lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo:
    """A ZoneInfo, cached; KeyError-free callers should check `is_zone` first."""
    return ZoneInfo(name)


def is_zone(name: str) -> bool:
    return is_zone_name(name)


def minute_of_week(moment: datetime, zone_name: str) -> int:
    """The local wall-clock minute-of-week of an aware instant in a zone (DST-correct)."""
    local = moment.astimezone(zone(zone_name))
    return ((local.weekday() + 1) % 7) * DAY + local.hour * 60 + local.minute


def group_zones(zone_names: Iterable[str], at: datetime) -> dict[int, list[str]]:
    """Zones whose local wall time at `at` is the same minute-of-week, grouped (one filter clause each)."""
    groups: dict[int, list[str]] = defaultdict(list)
    for name in sorted(set(zone_names)):
        if is_zone(name):
            groups[minute_of_week(at, name)].append(name)
    return dict(groups)


def week_ranges(low: int, high: int) -> list[tuple[int, int]]:
    """Inclusive minute-of-week ranges covering low..high, split where they wrap past the week's end."""
    if high - low >= WEEK - 1:
        return [(0, WEEK - 1)]
    low_w, high_w = low % WEEK, high % WEEK
    if low_w <= high_w:
        return [(low_w, high_w)]
    return [(low_w, WEEK - 1), (0, high_w)]


def bucket_of(minute: int) -> int:
    return (minute % WEEK) // BUCKET


# --- exact occurrences -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OccurrenceStatus:
    in_progress: bool
    started_at: datetime | None  # the current occurrence, when in progress
    ends_at: datetime | None
    next_start: datetime | None  # the first start at or after `at`


def _matches(slot: Slot, day: date) -> bool:
    if (day.weekday() + 1) % 7 != slot.day:
        return False
    if (slot.valid_from and day < slot.valid_from) or (slot.valid_to and day > slot.valid_to):
        return False
    if slot.nth > 0:
        return (day.day - 1) // 7 + 1 == slot.nth
    if slot.nth < 0:
        following = (day + timedelta(days=-7 * slot.nth)).month
        return (day + timedelta(days=-7 * (slot.nth + 1))).month == day.month and following != day.month
    return True


def _occurrence(slot: Slot, day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Start and end of a slot on a local date, as UTC instants; the end is wall-clock start + duration."""
    wall_start = datetime.combine(day, slot.opens)
    wall_end = wall_start + timedelta(minutes=slot.duration)
    return (wall_start.replace(tzinfo=tz).astimezone(UTC), wall_end.replace(tzinfo=tz).astimezone(UTC))


def occurrence_status(slots: Sequence[Slot], zone_name: str, at: datetime) -> OccurrenceStatus:
    """Exact in-progress state and next start of `slots` at the aware instant `at`, in the slots' zone."""
    if not slots or not is_zone(zone_name):
        return OccurrenceStatus(False, None, None, None)
    tz = zone(zone_name)
    at_utc = at.astimezone(UTC)
    today = at_utc.astimezone(tz).date()
    current: tuple[datetime, datetime] | None = None
    for offset in (-1, 0):  # a slot in progress started today or (crossing midnight) yesterday
        day = today + timedelta(days=offset)
        for slot in slots:
            if _matches(slot, day):
                start, end = _occurrence(slot, day, tz)
                if start <= at_utc < end and (current is None or start > current[0]):
                    current = (start, end)
    upcoming = _next_start(slots, tz, today, at_utc)
    return OccurrenceStatus(
        in_progress=current is not None,
        started_at=current[0].astimezone(tz) if current else None,
        ends_at=current[1].astimezone(tz) if current else None,
        next_start=upcoming.astimezone(tz) if upcoming else None,
    )


def _next_start(slots: Sequence[Slot], tz: ZoneInfo, today: date, at_utc: datetime) -> datetime | None:
    weekdays = {s.day for s in slots}
    ends = [s.valid_to for s in slots]
    last_day = max(e for e in ends if e) if all(ends) else None  # every slot has ended by then
    for offset in range(LOOKAHEAD_DAYS):
        day = today + timedelta(days=offset)
        if last_day is not None and day > last_day:
            return None
        if (day.weekday() + 1) % 7 not in weekdays:
            continue
        starts = [_occurrence(s, day, tz)[0] for s in slots if _matches(s, day)]
        upcoming = [s for s in starts if s >= at_utc]
        if upcoming:
            return min(upcoming)
    return None
