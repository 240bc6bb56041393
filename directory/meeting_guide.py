"""Meeting Guide: the feed `GET /api/meeting-guide.json` and a validator written from the format's rules.

The feed lists every active meeting (inactive ones and inactive services are left out), in batches with a
fixed number of queries each. An online-only meeting is `approximate: "yes"` with no address; a meeting at
a confidential place shows only its city, state, ZIP and a coarse point. A meeting whose schedules start at
different times becomes one entry per start time (the format has one time per entry); the earliest keeps
the slug, the others get `-HHMM` added.
"""

import json
import re
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from sqlmodel import Session, col, select

from core.deps import AppSettings
from core.inputs import has_control_characters
from core.urls import is_web_url, web_href
from directory.hsds.report import Problem
from directory.listing import ListingDetail, PlaceDetail, load_listings
from directory.meeting_guide_types import CODES, LEGACY_CODES
from directory.models import Attendance, Meeting, Phone, Schedule, Service, ServiceKind, ServiceStatus
from directory.schemas import is_timezone

router = APIRouter(tags=["meeting-guide"])

FEED = "meeting-guide.json"
BATCH = 500
DAYS = ("SU", "MO", "TU", "WE", "TH", "FR", "SA")  # Meeting Guide day 0 is Sunday
CONFIDENTIAL_DECIMALS = 2
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_UPDATED = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
_TEXT_FIELDS = (
    "location", "formatted_address", "address", "city", "state", "postal_code", "country", "region", "notes",
    "location_notes", "group", "group_notes", "conference_url_notes", "conference_phone",
    "conference_phone_notes", "entity", "entity_email", "entity_phone", "entity_url", "url",
)  # fmt: skip
_NOTES = frozenset({"notes", "location_notes", "group_notes", "conference_url_notes", "conference_phone_notes"})
_LINK_FIELDS = ("url", "conference_url", "entity_url")  # web links: the one URL rule (core/urls.py)


# --- validation ----------------------------------------------------------------------------------------


def validate_feed(data: Any, file: str = "feed") -> list[Problem]:
    """Every problem of a Meeting Guide feed; `row` is the meeting's position (1 = first)."""
    if not isinstance(data, list):
        return [Problem(file, None, None, "a Meeting Guide feed is a JSON array of meetings")]
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for row, entry in enumerate(data, start=1):
        if not isinstance(entry, dict):
            problems.append(Problem(file, row, None, "each meeting is a JSON object"))
            continue
        found = _entry_problems(entry)
        slug = entry.get("slug")
        if isinstance(slug, str) and slug.strip():
            if slug in seen:
                found.append(("slug", f"slug {slug!r} is also used by meeting {seen[slug]}", "error"))
            seen.setdefault(slug, row)
        problems += [Problem(file, row, field, message, severity) for field, message, severity in found]  # type: ignore[arg-type]
    return problems


def _entry_problems(entry: dict[str, Any]) -> list[tuple[str, str, str]]:
    found: list[tuple[str, str, str]] = []

    def bad(field: str, message: str, severity: str = "error") -> None:
        found.append((field, message, severity))

    for field in ("name", "slug"):
        if not isinstance(entry.get(field), str) or not entry[field].strip():
            bad(field, f"{field} is required (non-empty text)")
        elif has_control_characters(entry[field]):
            bad(field, f"{field} has line breaks or control characters")
    _check_day_time(entry, bad)
    zone = entry.get("timezone")
    if zone is not None and not (isinstance(zone, str) and is_timezone(zone)):
        bad("timezone", f"{zone!r} is not an IANA time zone such as America/Chicago")
    _check_types(entry.get("types"), bad)
    _check_point(entry, bad)
    if entry.get("approximate") not in (None, "yes", "no"):
        bad("approximate", 'approximate is "yes" or "no"')
    for field in _LINK_FIELDS:
        url = entry.get(field)
        if url not in (None, "") and not (isinstance(url, str) and is_web_url(url.strip())):
            bad(field, f"{field} must be a full http(s) web address")
    if entry.get("updated") is not None and not _UPDATED.match(str(entry["updated"])):
        bad("updated", "updated is YYYY-MM-DD HH:MM:SS")
    for field in _TEXT_FIELDS:
        if entry.get(field) is not None and not isinstance(entry[field], str):
            bad(field, f"{field} is text")
        elif isinstance(entry.get(field), str) and has_control_characters(entry[field], multiline=field in _NOTES):
            bad(field, f"{field} has line breaks or control characters")
    return found


def _check_day_time(entry: dict[str, Any], bad: Any) -> None:
    day = entry.get("day")
    days = day if isinstance(day, list) else [day]
    if day is not None and (not days or any(type(d) is not int or not 0 <= d <= 6 for d in days)):
        bad("day", "day is 0 (Sunday) to 6 (Saturday), or a list of them")
    for field in ("time", "end_time"):
        value = entry.get(field)
        if value is not None and (not isinstance(value, str) or not _TIME.match(value)):
            bad(field, f"{field} is HH:MM on a 24-hour clock")
    if day is not None and entry.get("time") is None:
        bad("time", "a meeting with a day needs a time")
    if entry.get("time") is not None and day is None:
        bad("day", "a meeting with a time needs a day")


def _check_types(types: Any, bad: Any) -> None:
    if types is None:
        return
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        bad("types", "types is a list of type codes")
        return
    for code in types:
        if code in LEGACY_CODES:
            bad("types", f"type {code!r} is no longer in the list; attendance comes from conference_url", "warning")
        elif code not in CODES:
            bad("types", f"unknown meeting type {code!r}")


def _check_point(entry: dict[str, Any], bad: Any) -> None:
    lat, lng = _number(entry.get("latitude")), _number(entry.get("longitude"))
    for field, value, limit in (("latitude", lat, 90), ("longitude", lng, 180)):
        if entry.get(field) not in (None, "") and (value is None or not -limit <= value <= limit):
            bad(field, f"{field} is a number from -{limit} to {limit}")
    if (entry.get("latitude") in (None, "")) != (entry.get("longitude") in (None, "")):
        bad("latitude", "latitude and longitude come together")


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


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
        "conference_url": web_href(meeting.conference_url), "conference_url_notes": meeting.conference_url_notes,
        "conference_phone": meeting.conference_phone, "conference_phone_notes": meeting.conference_phone_notes,
        "updated": _updated(service.last_modified), "url": listing_url(service.id),
        "entity": org.name, "entity_email": org.email, "entity_phone": entity_phone,
        "entity_url": web_href(org.website),
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
