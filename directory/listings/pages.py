"""Context builders for the public listing and organization pages (one function per page, no I/O in views).

Everything here reads through `directory.listings.queries` in public mode, so a confidential street address can't
reach these pages; places of confidential locations additionally drop directions links.
"""

import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from core.errors import ValidationFailed
from core.i18n import N_
from directory.listings import queries as listing
from directory.listings.closures import is_temporarily_closed, reopening
from directory.listings.models import Organization, Schedule
from directory.listings.occurrences import WEEKDAY_INDEX, duration, is_in_progress, next_start, parse_byday
from directory.listings.queries import ListingDetail, PlaceDetail
from directory.listings.schemas import is_timezone

STALE_AFTER = timedelta(days=180)
SOON = timedelta(minutes=60)
VIEWER_ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Puerto_Rico",
    "Etc/UTC",
)


def viewer_zones(current: str | None) -> list[str]:
    """Time zones offered on a listing page; the one in use is always among them."""
    return list(VIEWER_ZONES) if current in (None, *VIEWER_ZONES) else [str(current), *VIEWER_ZONES]


@dataclass
class ScheduleRow:
    days: list[tuple[int | None, int]]  # (ordinal within the month or None, weekday with Monday = 0)
    monthly: bool
    opens_at: time | None
    closes_at: time | None
    timezone: str
    next_start: datetime | None
    viewer_start: datetime | None  # the next start in the visitor's zone, for online meetings
    description: str | None


@dataclass
class PlaceView:
    location_id: uuid.UUID
    name: str | None
    street: str | None  # None for confidential locations
    street_2: str | None
    city: str
    state: str
    postal_code: str
    confidential: bool
    latitude: float | None
    longitude: float | None
    transportation: str | None
    accessibility: list[str] = field(default_factory=list)

    @property
    def geo_uri(self) -> str | None:
        if self.confidential or self.latitude is None or self.longitude is None:
            return None
        return f"geo:{self.latitude:.6f},{self.longitude:.6f}"

    @property
    def directions_url(self) -> str | None:
        """A route to this place (the start is left to the visitor's device), not a pin on a map."""
        if self.confidential or self.latitude is None or self.longitude is None:
            return None
        return f"https://www.openstreetmap.org/directions?route=%3B{self.latitude:.6f}%2C{self.longitude:.6f}"


@dataclass
class Timing:
    in_progress: bool
    next_start: datetime | None
    minutes_until: int | None  # only when it starts within the hour


@dataclass
class ListingPage:
    detail: ListingDetail
    places: list[PlaceView]
    schedule: list[ScheduleRow]
    timing: Timing
    stale: bool
    online: bool
    viewer_tz: str | None
    closed: bool = False  # temporarily closed: no next time, `reopens` instead
    reopens: date | None = None

    @property
    def time_zones(self) -> list[str]:
        return viewer_zones(self.viewer_tz)


@dataclass
class OrganizationPage:
    organization: Organization
    meetings: list[ListingDetail]
    services: list[ListingDetail]
    places: list[PlaceView]


def checked_timezone(tz: str | None) -> str | None:
    if tz in (None, ""):
        return None
    if not is_timezone(tz):
        raise ValidationFailed(N_("Unknown time zone; use a name like America/Chicago."), field="tz")
    return tz


def place_view(place: PlaceDetail) -> PlaceView:
    loc, address = place.location, place.address
    confidential = bool(loc.is_confidential)
    return PlaceView(
        location_id=loc.id,
        name=loc.name,
        street=None if confidential or address is None else (address.address_1 or None),
        street_2=None if confidential or address is None else address.address_2,
        city=address.city if address else "",
        state=address.state_province if address else "",
        postal_code=address.postal_code if address else "",
        confidential=confidential,
        latitude=None if confidential else loc.latitude,
        longitude=None if confidential else loc.longitude,
        transportation=None if confidential else loc.transportation,
        accessibility=[a.code or a.description or "" for a in place.accessibility if a.code or a.description],
    )


def schedule_row(schedule: Schedule, now: datetime, viewer: ZoneInfo | None) -> ScheduleRow:
    start = next_start(schedule, now)
    return ScheduleRow(
        days=[(n, WEEKDAY_INDEX[code]) for n, code in parse_byday(schedule.byday)],
        monthly=schedule.freq == "MONTHLY",
        opens_at=schedule.opens_at,
        closes_at=schedule.closes_at,
        timezone=schedule.timezone,
        next_start=start,
        viewer_start=start.astimezone(viewer) if start and viewer else None,
        description=schedule.description,
    )


def _row(
    schedule: Schedule, now: datetime, viewer: ZoneInfo | None, *, closed: bool, reopens: date | None
) -> ScheduleRow:
    """A closed listing's usual schedule: its next times count from the reopening day, or there are none."""
    if not closed:
        return schedule_row(schedule, now, viewer)
    if reopens is None:
        return replace(schedule_row(schedule, now, viewer), next_start=None, viewer_start=None)
    return schedule_row(schedule, datetime.combine(reopens, time(), ZoneInfo(schedule.timezone)), viewer)


def timing(schedules: list[Schedule], now: datetime) -> Timing:
    timed = [s for s in schedules if s.opens_at is not None]
    in_progress = any(is_in_progress(s, now, duration(s.opens_at, s.closes_at)) for s in timed if s.opens_at)
    first = min((start for s in timed if (start := next_start(s, now)) is not None), default=None)
    minutes = None
    if first is not None and first - now <= SOON:
        minutes = max(0, int((first - now).total_seconds() // 60))
    return Timing(in_progress=in_progress, next_start=first, minutes_until=minutes)


def is_stale(assured: date | None, today: date) -> bool:
    return assured is None or today - assured > STALE_AFTER


def listing_page(*, session: Session, service_id: uuid.UUID, now: datetime, viewer_tz: str | None) -> ListingPage:
    detail = listing.get_listing(session, service_id)
    tz_name = checked_timezone(viewer_tz)
    meeting = detail.meeting
    online = bool(meeting and meeting.attendance_mode in ("online", "hybrid"))
    viewer = ZoneInfo(tz_name) if tz_name and online else None
    closed = is_temporarily_closed(detail.service, meeting)
    reopens = reopening(detail.service, meeting, today=now.date())
    return ListingPage(
        detail=detail,
        places=[place_view(p) for p in detail.places],
        schedule=[_row(s, now, viewer, closed=closed, reopens=reopens) for s in detail.schedules],
        timing=Timing(in_progress=False, next_start=None, minutes_until=None)
        if closed
        else timing(detail.schedules, now),
        stale=is_stale(detail.service.assured_date, now.date()),
        online=online,
        viewer_tz=tz_name if online else None,
        closed=closed,
        reopens=reopens,
    )


def organization_page(*, session: Session, organization_id: uuid.UUID) -> OrganizationPage:
    org = listing.get_organization(session, organization_id)
    details = listing.organization_listings(session, organization_id)
    places: dict[uuid.UUID, PlaceView] = {}
    for item in details:
        for place in item.places:
            places.setdefault(place.location.id, place_view(place))
    return OrganizationPage(
        organization=org,
        meetings=[d for d in details if d.meeting is not None],
        services=[d for d in details if d.meeting is None],
        places=sorted(places.values(), key=lambda p: (p.city, p.street or "", p.name or "")),
    )
