"""A listing's schedule as an iCalendar file: one recurring VEVENT per schedule row, in its named time zone.

DTSTART carries the schedule's TZID and the calendar embeds the matching VTIMEZONE, so calendar apps keep
the meeting at the same local wall-clock time across daylight-saving changes.

A temporarily closed listing (`directory.listings.closures`) says so in every event: with a reopening day
the events start on it; without one they are marked tentative and named "Temporarily closed".

Input is checked for control characters at the edge, but rows stored before that rule (or by a future
path that forgets it) must not break the file: every text goes through `one_line`/`clean_text` here.
"""

import uuid
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from babel.dates import format_date
from icalendar import Calendar, Event, vRecur

from core.clock import utcnow
from core.i18n import N_, gettext
from core.inputs import clean_text, one_line
from core.urls import web_href
from directory.listings.closures import is_temporarily_closed, reopening
from directory.listings.models import Schedule
from directory.listings.occurrences import duration, first_local_start, next_start
from directory.listings.queries import ListingDetail

PRODID = "-//Community Resource Directory//Listings//EN"
UID_DOMAIN = "community-directory"
TIMEZONE_YEARS = 10
CLOSED_NOTE = N_("Temporarily closed. Call before you go.")
REOPENS_NOTE = N_("Temporarily closed until %(date)s.")


def recurrence(schedule: Schedule, tz: ZoneInfo) -> vRecur:
    rule: dict[str, object] = {"FREQ": "MONTHLY" if schedule.freq == "MONTHLY" else "WEEKLY"}
    if schedule.interval and schedule.interval > 1:
        rule["INTERVAL"] = schedule.interval
    days = [d for d in schedule.byday.split(",") if d]
    if days:
        rule["BYDAY"] = days
    if schedule.bymonthday:
        rule["BYMONTHDAY"] = [int(x) for x in schedule.bymonthday.split(",") if x]
    last_day = schedule.until or schedule.valid_to
    if last_day is not None:
        # With a zoned DTSTART, UNTIL must be in UTC (RFC 5545 3.3.10).
        rule["UNTIL"] = datetime.combine(last_day, time(23, 59, 59), tz).astimezone(UTC)
    elif schedule.count:
        rule["COUNT"] = schedule.count
    return vRecur(rule)


def _location_text(detail: ListingDetail) -> str | None:
    for place in detail.places:
        address = place.address
        if address is None:
            continue
        parts = [address.city, address.state_province, address.postal_code]
        if not place.location.is_confidential and address.address_1:
            parts.insert(0, address.address_1)
        return ", ".join(p for p in parts if p)
    return None


def _first_start(schedule: Schedule, today: date, reopens: date | None) -> datetime | None:
    """The first occurrence, or for a listing closed until `reopens`, the first on or after that day."""
    start = first_local_start(schedule, today)
    if reopens is None or start is None or start.date() >= reopens:
        return start
    return next_start(schedule, datetime.combine(reopens, time(), ZoneInfo(schedule.timezone)))


def closure_note(detail: ListingDetail, today: date, lang: str) -> str | None:
    """What a calendar event of a closed listing says about it; None when it is open."""
    if not is_temporarily_closed(detail.service, detail.meeting):
        return None
    reopens = reopening(detail.service, detail.meeting, today=today)
    if reopens is None:
        return gettext(lang, CLOSED_NOTE)
    return gettext(lang, REOPENS_NOTE, date=format_date(reopens, format="long", locale=lang))


def schedule_event(
    detail: ListingDetail, schedule: Schedule, *, listing_url: str, today: date, lang: str = "en"
) -> Event | None:
    if schedule.opens_at is None:
        return None
    tz = ZoneInfo(schedule.timezone)
    closed = closure_note(detail, today, lang)
    reopens = reopening(detail.service, detail.meeting, today=today)
    start = _first_start(schedule, today, reopens)
    if start is None:
        return None
    event = Event()
    event.add("uid", f"{schedule.id or uuid.uuid4()}@{UID_DOMAIN}")
    event.add("dtstamp", utcnow())
    summary = one_line(detail.service.name)
    if closed and reopens is None:
        event.add("status", "TENTATIVE")
        summary = f"{gettext(lang, 'Temporarily closed')}: {summary}"
    event.add("summary", summary)
    event.add("dtstart", start)
    event.add("dtend", start + duration(schedule.opens_at, schedule.closes_at))
    event.add("rrule", recurrence(schedule, tz))
    meeting = detail.meeting
    online = web_href(meeting.conference_url) if meeting and meeting.attendance_mode in ("online", "hybrid") else None
    where = _location_text(detail) if not (meeting and meeting.attendance_mode == "online") else None
    if where or online:
        event.add("location", one_line(where or online or ""))
    lines = [one_line(detail.organization.name), listing_url, *([closed] if closed else [])]
    if online:
        lines.append(online)
    if schedule.description:
        lines.append(clean_text(schedule.description))
    event.add("description", "\n".join(lines))
    event.add("url", listing_url)
    return event


def listing_calendar(detail: ListingDetail, *, listing_url: str, today: date | None = None, lang: str = "en") -> bytes:
    """The whole calendar file. `today` anchors the first occurrence (defaults to the current UTC date)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", one_line(detail.service.name))
    anchor = today or utcnow().date()
    for schedule in detail.schedules:
        event = schedule_event(detail, schedule, listing_url=listing_url, today=anchor, lang=lang)
        if event is not None:
            calendar.add_component(event)
    # Transitions from a year before the first event on; clients past the range use the TZID name itself.
    calendar.add_missing_timezones(
        first_date=date(anchor.year - 1, 1, 1), last_date=date(anchor.year + TIMEZONE_YEARS, 1, 1)
    )
    return bytes(calendar.to_ical())
