""" "My list": listings a visitor saved on their own device, shown together and as one calendar file.

The list lives in the visitor's browser (localStorage, static/js/seeker.js); the server only ever sees the
ids in the request that shows or downloads it, keeps nothing and sets no cookie. Read in public mode, like
every anonymous page, so confidential addresses cannot appear.
"""

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from icalendar import Calendar
from sqlmodel import Session

from core.errors import NotFound, ValidationFailed
from core.i18n import N_
from core.inputs import one_line
from directory.listings import ics, pages
from directory.listings import queries as listing

MAX_SAVED = 50  # the browser keeps at most this many too


@dataclass
class MyListPage:
    items: list[pages.ListingPage]
    ids: list[uuid.UUID]
    missing: int  # saved ids that no longer name a listing


def _checked(ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    unique = list(dict.fromkeys(ids))
    if len(unique) > MAX_SAVED:
        raise ValidationFailed(N_("My list holds at most %(n)d listings.", n=MAX_SAVED), field="id")
    return unique


def my_list_page(*, session: Session, ids: Sequence[uuid.UUID], now: datetime) -> MyListPage:
    wanted = _checked(ids)
    details = listing.load_listings(session, wanted)
    items = [
        pages.ListingPage(
            detail=d,
            places=[pages.place_view(p) for p in d.places],
            schedule=[pages.schedule_row(s, now, None) for s in d.schedules],
            timing=pages.timing(d.schedules, now),
            stale=pages.is_stale(d.service.assured_date, now.date()),
            online=bool(d.meeting and d.meeting.attendance_mode in ("online", "hybrid")),
            viewer_tz=None,
        )
        for d in details
    ]
    return MyListPage(items=items, ids=[d.service.id for d in details], missing=len(wanted) - len(details))


def my_list_calendar(
    *,
    session: Session,
    ids: Sequence[uuid.UUID],
    listing_url: Callable[[uuid.UUID], str],
    today: date,
    name: str,
) -> bytes:
    """Every saved listing's schedule in one iCalendar file (events as in each listing's own file)."""
    details = listing.load_listings(session, _checked(ids))
    if not details:
        raise NotFound(N_("None of these listings exist any more; nothing to put in a calendar."))
    calendar = Calendar()
    calendar.add("prodid", ics.PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", one_line(name))
    for detail in details:
        for schedule in detail.schedules:
            event = ics.schedule_event(detail, schedule, listing_url=listing_url(detail.service.id), today=today)
            if event is not None:
                calendar.add_component(event)
    calendar.add_missing_timezones(
        first_date=date(today.year - 1, 1, 1), last_date=date(today.year + ics.TIMEZONE_YEARS, 1, 1)
    )
    return bytes(calendar.to_ical())
