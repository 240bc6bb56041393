"""When a schedule row happens: its recurrence as a dateutil rule in local wall-clock time.

Rules run on naive local times and the zone is attached afterwards, so a 7 pm meeting stays at 7 pm
local time on both sides of a daylight-saving change.
"""

import re
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from dateutil import rrule

from directory.listings.models import Schedule

_DAYS = {"MO": rrule.MO, "TU": rrule.TU, "WE": rrule.WE, "TH": rrule.TH, "FR": rrule.FR, "SA": rrule.SA, "SU": rrule.SU}
_BYDAY = re.compile(r"^(-?[1-5])?(MO|TU|WE|TH|FR|SA|SU)$")
WEEKDAY_INDEX = {code: i for i, code in enumerate(["MO", "TU", "WE", "TH", "FR", "SA", "SU"])}


def parse_byday(byday: str) -> list[tuple[int | None, str]]:
    """ "1SA,-1SU" -> [(1, "SA"), (-1, "SU")]; "MO" -> [(None, "MO")]. Unknown parts are skipped."""
    parsed: list[tuple[int | None, str]] = []
    for part in byday.split(","):
        match = _BYDAY.match(part.strip().upper())
        if match:
            parsed.append((int(match.group(1)) if match.group(1) else None, match.group(2)))
    return parsed


def _rule(schedule: Schedule, start: datetime) -> rrule.rrule:
    days = [_DAYS[code](n) if n else _DAYS[code] for n, code in parse_byday(schedule.byday)]
    last = schedule.until or schedule.valid_to
    until = datetime.combine(last, time(23, 59, 59)) if last else None
    freq: Literal[1, 2] = rrule.MONTHLY if schedule.freq == "MONTHLY" else rrule.WEEKLY
    return rrule.rrule(
        freq,
        dtstart=start,
        interval=max(1, schedule.interval or 1),
        byweekday=days or None,
        until=until,
        count=None if until else schedule.count,
    )


def first_local_start(schedule: Schedule, today: date) -> datetime | None:
    """The first occurrence on or after the schedule's own start (or `today`), zoned in its time zone."""
    if schedule.opens_at is None:
        return None
    anchor = schedule.dtstart or schedule.valid_from or today
    start = datetime.combine(anchor, schedule.opens_at)
    found = _rule(schedule, start).after(start, inc=True)
    return found.replace(tzinfo=ZoneInfo(schedule.timezone)) if found else None


def next_start(schedule: Schedule, now: datetime) -> datetime | None:
    """The next start at or after `now` (an aware datetime), in the schedule's own time zone."""
    if schedule.opens_at is None:
        return None
    tz = ZoneInfo(schedule.timezone)
    local_now = now.astimezone(tz).replace(tzinfo=None, second=0, microsecond=0)
    anchor = schedule.dtstart or schedule.valid_from or (local_now.date() - timedelta(days=1))
    start = datetime.combine(min(anchor, local_now.date()), schedule.opens_at)
    if schedule.dtstart and schedule.dtstart > local_now.date():
        start = datetime.combine(schedule.dtstart, schedule.opens_at)
    found = _rule(schedule, start).after(local_now, inc=True)
    return found.replace(tzinfo=tz) if found else None


def is_in_progress(schedule: Schedule, now: datetime, length: timedelta) -> bool:
    """True when an occurrence started within `length` before `now`."""
    began = next_start(schedule, now - length)
    return began is not None and began <= now


def duration(opens_at: time, closes_at: time | None, default: timedelta = timedelta(hours=1)) -> timedelta:
    if closes_at is None:
        return default
    minutes = (closes_at.hour * 60 + closes_at.minute) - (opens_at.hour * 60 + opens_at.minute)
    if minutes <= 0:  # closes after midnight
        minutes += 24 * 60
    return timedelta(minutes=minutes)
