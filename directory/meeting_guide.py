"""Meeting Guide: the feed `GET /api/meeting-guide.json` and a validator written from the format's rules.

The feed lists every active meeting (inactive ones and inactive services are left out), in batches with a
fixed number of queries each. An online-only meeting is `approximate: "yes"` with no address; a meeting at
a confidential place shows only its city, state, ZIP and a coarse point. A meeting whose schedules start at
different times becomes one entry per start time (the format has one time per entry); the earliest keeps
the slug, the others get `-HHMM` added.
"""

import json
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from sqlmodel import Session, col, select

from core.deps import AppSettings
from directory.listing import ListingDetail, PlaceDetail, load_listings
from directory.meeting_guide_types import CODES
from directory.models import Attendance, Meeting, Phone, Schedule, Service, ServiceKind, ServiceStatus
from directory.sources import feed_reader

router = APIRouter(tags=["meeting-guide"])

FEED = "meeting-guide.json"
BATCH = 500
DAYS = ("SU", "MO", "TU", "WE", "TH", "FR", "SA")  # Meeting Guide day 0 is Sunday
CONFIDENTIAL_DECIMALS = 2


# --- validation: directory.sources.feed_reader reads feeds the way the format's prose does ---------------

validate_feed = feed_reader.validate_feed


# --- the feed ------------------------------------------------------------------------------------------


@router.get("/api/meeting-guide.json", name="meeting_guide_feed")
def meeting_guide_feed(request: Request, settings: AppSettings) -> StreamingResponse:
    """Every active meeting in the Meeting Guide format (a JSON array, streamed)."""
    base = settings.base_url.rstrip("/")

    def listing_url(service_id: uuid.UUID) -> str:
        return base + request.app.url_path_for("service", service_id=str(service_id))

    return StreamingResponse(_stream(request, listing_url), media_type="application/json")


ListingUrl = Callable[[uuid.UUID], str]


def _stream(request: Request, listing_url: ListingUrl) -> Iterator[str]:
    with Session(request.app.state.engine) as session:
        first = True
        yield "["
        for entries in feed_batches(session, listing_url):
            for entry in entries:
                yield ("" if first else ",") + _dumps(entry)
                first = False
        yield "]"


def _dumps(entry: dict[str, Any]) -> str:
    return json.dumps(entry, ensure_ascii=False)


def active_meetings(session: Session, after: uuid.UUID | None, limit: int) -> list[uuid.UUID]:
    stmt = (
        select(Service.id)
        .join(Meeting, col(Meeting.service_id) == Service.id)
        .where(Service.kind == ServiceKind.meeting, Service.status == ServiceStatus.active,
               Meeting.attendance_mode != Attendance.inactive)
    )  # fmt: skip
    if after is not None:
        stmt = stmt.where(col(Service.id) > after)
    return list(session.exec(stmt.order_by(col(Service.id)).limit(limit)).all())


def feed_batches(session: Session, listing_url: ListingUrl, batch: int = BATCH) -> Iterator[list[dict[str, Any]]]:
    """Feed entries, a batch of meetings at a time, in service id order."""
    last = None
    while ids := active_meetings(session, last, batch):
        listings = load_listings(session, ids)
        phones = _organization_phones(session, {d.organization.id for d in listings})
        yield [entry for d in listings for entry in feed_entries(d, listing_url, phones.get(d.organization.id))]
        session.expunge_all()
        last = ids[-1]


def _organization_phones(session: Session, org_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    stmt = select(Phone).where(col(Phone.organization_id).in_(org_ids)).order_by(col(Phone.id))
    found: dict[uuid.UUID, str] = {}
    for phone in session.exec(stmt):
        found.setdefault(phone.organization_id, phone.number)  # type: ignore[arg-type]
    return found


def feed_entries(
    detail: ListingDetail, listing_url: ListingUrl, entity_phone: str | None = None
) -> list[dict[str, Any]]:
    meeting = detail.meeting
    if meeting is None:
        return []
    base = _common(detail, listing_url, entity_phone)
    groups = _time_groups(detail.schedules)
    if not groups:
        return [base]
    entries = []
    for index, ((opens, closes, zone), days) in enumerate(sorted(groups.items())):
        entry = dict(base)
        if index:
            entry["slug"] = f"{meeting.slug}-{opens.replace(':', '')}"
        entry["day"] = days[0] if len(days) == 1 else days
        entry["time"] = opens
        if closes:
            entry["end_time"] = closes
        entry["timezone"] = zone
        entries.append(entry)
    return entries


def _time_groups(schedules: Sequence[Schedule]) -> dict[tuple[str, str, str], list[int]]:
    groups: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for s in schedules:
        if s.opens_at is None:
            continue
        key = (s.opens_at.strftime("%H:%M"), s.closes_at.strftime("%H:%M") if s.closes_at else "", s.timezone)
        for code in (s.byday or "").split(","):
            if code[-2:] in DAYS:
                groups[key].append(DAYS.index(code[-2:]))
    return {key: sorted(set(days)) for key, days in groups.items() if days}


def _common(detail: ListingDetail, listing_url: ListingUrl, entity_phone: str | None) -> dict[str, Any]:
    service, meeting, org = detail.service, detail.meeting, detail.organization
    assert meeting is not None
    entry: dict[str, Any] = {
        "name": service.name, "slug": meeting.slug, "types": [t for t in meeting.types if t in CODES],
        "notes": service.description or None, "location_notes": meeting.location_notes,
        "group": meeting.group_name, "group_notes": meeting.group_notes,
        "conference_url": meeting.conference_url, "conference_url_notes": meeting.conference_url_notes,
        "conference_phone": meeting.conference_phone, "conference_phone_notes": meeting.conference_phone_notes,
        "updated": _updated(service.last_modified), "url": listing_url(service.id),
        "entity": org.name, "entity_email": org.email, "entity_phone": entity_phone, "entity_url": org.website,
    }  # fmt: skip
    online_only = meeting.attendance_mode == Attendance.online or not detail.places
    entry.update({"approximate": "yes"} if online_only else _place(detail.places[0]))
    return {k: v for k, v in entry.items() if v not in (None, "")}


def _place(place: PlaceDetail) -> dict[str, Any]:
    loc, addr = place.location, place.address
    secret = bool(loc.is_confidential)
    lat, lng = loc.latitude, loc.longitude
    if secret and lat is not None and lng is not None:
        lat, lng = round(lat, CONFIDENTIAL_DECIMALS), round(lng, CONFIDENTIAL_DECIMALS)
    found: dict[str, Any] = {
        "location": None if secret else loc.name, "latitude": lat, "longitude": lng,
        "approximate": "yes" if secret or loc.coordinates_approximate else "no",
    }  # fmt: skip
    if addr is not None:
        street = None if secret else ", ".join(p for p in (addr.address_1, addr.address_2) if p) or None
        state_zip = f"{addr.state_province} {addr.postal_code}".strip()
        found.update({
            "address": street, "city": addr.city, "state": addr.state_province, "postal_code": addr.postal_code,
            "country": addr.country, "region": addr.region,
            "formatted_address": ", ".join(p for p in (street, addr.city, state_zip, addr.country) if p),
        })  # fmt: skip
    return found


def _updated(value: datetime | None) -> str | None:
    if value is None:
        return None
    utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return utc.strftime("%Y-%m-%d %H:%M:%S")
