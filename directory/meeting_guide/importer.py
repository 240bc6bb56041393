"""Import a Meeting Guide feed (a file or an http(s) URL): validate, map every meeting, upsert by slug.

All or nothing: the feed is validated (`validate_feed`), every meeting is mapped to a `ListingIn` (whose
own checks also apply), and only when nothing failed are they written in one transaction through
`directory.listings.service.upsert_listings` (which records the outbox rows). Ids derive from the slug, so the same
feed imported twice changes nothing.

Attendance follows the format's rule: online when there is a conference URL or phone; in person unless the
type `TC` (location temporarily closed) is given or `approximate` is "yes"; both is hybrid; neither is
inactive. The fellowship comes from the entry's own `fellowship` when it has one, else from the option.
"""

import hashlib
import json
import re
from collections.abc import Sequence
from datetime import time
from pathlib import Path
from typing import Any

import httpx
from pydantic import ValidationError
from rich.progress import Progress
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core.errors import DomainError
from core.logging import get_logger
from core.outbox import OutboxEvent
from directory.hsds.report import ImportReport, Problem
from directory.listings.geocoding import OfflineGeocoder, approximate_point, timezone_for
from directory.listings.meeting_types import CODES, TEMPORARILY_CLOSED, TYPE_LANGUAGES
from directory.listings.models import Attendance, Service, ServiceKind
from directory.listings.rows import service_id, slugify
from directory.listings.schemas import (
    AddressIn,
    ListingIn,
    LocationIn,
    MeetingIn,
    OrganizationIn,
    ScheduleIn,
    is_timezone,
)
from directory.listings.service import ensure_taxonomy, upsert_listings
from directory.listings.taxonomy import FELLOWSHIPS
from directory.meeting_guide.feed import DAYS
from directory.meeting_guide.validate import validate_feed

log = get_logger(__name__)
MAX_FEED_BYTES = 50 * 1024 * 1024
_ZIP = re.compile(r"\b(\d{5})(?:-\d{4})?\b")
_STATE_ZIP = re.compile(r"^([A-Z]{2})\s+(\d{5}(?:-\d{4})?)$")
_ACCESSIBILITY = {"X": "wheelchair", "XB": "accessible_restroom"}


class FeedError(DomainError):
    """The feed could not be read at all (missing file, HTTP error, not JSON)."""


def import_meeting_guide(
    *, session: Session | None = None, engine: Engine | None = None, source: str | Path, fellowship: str = "AA",
    timezone: str | None = None, actor: str | None = None, progress: Progress | None = None,
) -> ImportReport:  # fmt: skip
    """Validate and import a Meeting Guide feed all-or-nothing; the report names row and field."""
    if (session is None) == (engine is None):
        raise ValueError("give exactly one of session or engine")
    if session is not None:
        return _run(session, source, fellowship, timezone, actor, progress)
    with Session(engine) as own:
        return _run(own, source, fellowship, timezone, actor, progress)


def _run(session: Session, source: str | Path, fellowship: str, timezone: str | None, actor: str | None,
         progress: Progress | None) -> ImportReport:  # fmt: skip
    report = ImportReport(actor=actor)
    name = str(source).rsplit("/", 1)[-1] or "feed"
    try:
        data = load_feed(source)
    except FeedError as exc:
        report.add(Problem(name, None, None, exc.message))
        return report
    for problem in validate_feed(data, name):
        report.add(problem)
    default = _fellowship(fellowship)
    if default is None:
        report.add(Problem(name, None, "fellowship", f"unknown fellowship {fellowship!r}"))
    if timezone is not None and not is_timezone(timezone):
        report.add(Problem(name, None, "timezone", f"{timezone!r} is not an IANA time zone"))
    if not report.ok:
        return report
    listings = _listings(data, name, default or "aa", timezone, report, progress)
    if report.ok:
        _write(session, listings, report, name)
    log.info("meeting guide import", actor=actor, ok=report.ok, meetings=len(listings))
    return report


def load_feed(source: str | Path) -> Any:
    text = str(source)
    try:
        if text.startswith(("http://", "https://")):
            response = httpx.get(text, timeout=30.0, follow_redirects=True)
            if response.status_code != 200:
                raise FeedError(f"{text} answered HTTP {response.status_code}")
            if len(response.content) > MAX_FEED_BYTES:
                raise FeedError("the feed is larger than 50 MB")
            return response.json()
        return json.loads(Path(text).read_text(encoding="utf-8-sig"))
    except (OSError, httpx.HTTPError) as exc:
        raise FeedError(f"cannot read {text}: {exc}") from exc
    except ValueError as exc:
        raise FeedError(f"{text} is not valid JSON: {exc}") from exc


def _fellowship(value: str | None) -> str | None:
    if not value:
        return None
    wanted = value.strip().lower()
    for code, known in FELLOWSHIPS.items():
        if wanted in (code, known.label.lower()):
            return code
    return None


def _listings(data: list[dict[str, Any]], name: str, fellowship: str, timezone: str | None, report: ImportReport,
              progress: Progress | None) -> list[ListingIn]:  # fmt: skip
    listings: list[ListingIn] = []
    slugs: dict[str, int] = {}
    task = progress.add_task(f"check {name}", total=len(data)) if progress else None
    for row, entry in enumerate(data, start=1):
        slug = slugify(str(entry["slug"]))
        if slugs.setdefault(slug, row) != row:
            report.add(Problem(name, row, "slug", f"slug becomes {slug!r} like meeting {slugs[slug]}'s"))
        try:
            listings.append(to_listing(entry, slug, fellowship, timezone))
        except ValidationError as exc:
            for err in exc.errors():
                field = ".".join(str(p) for p in err["loc"] if not isinstance(p, int)) or None
                report.add(Problem(name, row, field, err["msg"]))
        except ValueError as exc:
            report.add(Problem(name, row, None, str(exc)))
        if progress is not None and task is not None:
            progress.advance(task)
    return _shared(listings)


def _shared(listings: list[ListingIn]) -> list[ListingIn]:
    """Meetings that share a place or an entity share one row: the first meeting's version of it, with the
    accessibility of every meeting there (a type like X describes the place, whichever meeting names it)."""
    orgs: dict[str, OrganizationIn] = {}
    places: dict[str, LocationIn] = {}
    access: dict[str, list[str]] = {}
    for listing in listings:
        orgs.setdefault(listing.organization.key, listing.organization)
        for place in listing.locations:
            places.setdefault(place.key, place)
            access.setdefault(place.key, []).extend(place.accessibility)
    merged = {key: place.model_copy(update={"accessibility": list(dict.fromkeys(access[key]))})
              for key, place in places.items()}  # fmt: skip
    return [
        listing.model_copy(update={"organization": orgs[listing.organization.key],
                                   "locations": [merged[p.key] for p in listing.locations]})
        for listing in listings
    ]  # fmt: skip


def _write(session: Session, listings: list[ListingIn], report: ImportReport, name: str) -> None:
    ids = [service_id(listing.key) for listing in listings]
    existing = _existing(session, ids)
    before = session.exec(select(func.max(OutboxEvent.id))).one() or 0
    try:
        ensure_taxonomy(session=session)
        upsert_listings(session=session, listings=listings)
    except DomainError as exc:
        report.add(Problem(name, None, exc.field, f"nothing was changed: {exc.message}"))
        return
    changed = session.exec(
        select(func.count(func.distinct(OutboxEvent.entity_id))).where(col(OutboxEvent.id) > before)
    ).one()
    counts = report.count("meeting")
    counts.inserted = len(set(ids) - existing)
    counts.updated = max(0, int(changed) - counts.inserted)
    counts.unchanged = len(ids) - counts.inserted - counts.updated
    report.rows_read = len(listings)
    report.services_changed = int(changed)


def _existing(session: Session, ids: Sequence[Any]) -> set[Any]:
    found: set[Any] = set()
    for start in range(0, len(ids), 900):
        chunk = list(ids[start : start + 900])
        found |= set(session.exec(select(Service.id).where(col(Service.id).in_(chunk))).all())
    return found


# --- one entry -> one listing --------------------------------------------------------------------------


def attendance(entry: dict[str, Any]) -> Attendance:
    online = bool(entry.get("conference_url") or entry.get("conference_phone"))
    in_person = TEMPORARILY_CLOSED not in (entry.get("types") or []) and entry.get("approximate") != "yes"
    if online and in_person:
        return Attendance.hybrid
    if online:
        return Attendance.online
    return Attendance.in_person if in_person else Attendance.inactive


def to_listing(entry: dict[str, Any], slug: str, fellowship: str, default_zone: str | None) -> ListingIn:
    own = _fellowship(entry.get("fellowship")) if isinstance(entry.get("fellowship"), str) else None
    fellowship = own or fellowship
    mode = attendance(entry)
    types = [t for t in entry.get("types") or [] if t in CODES]
    place = _location(entry, slug) if mode in (Attendance.in_person, Attendance.hybrid) else None
    zone = _zone(entry, place, default_zone)
    if place is not None:
        place = place.model_copy(update={"timezone": zone})
    entity = (entry.get("entity") or "").strip() or f"{FELLOWSHIPS[fellowship].label} meetings"
    return ListingIn(
        key=_key("mg", slug), kind=ServiceKind.meeting, name=entry["name"].strip(),
        description=entry.get("notes") or "", url=(entry.get("url") or "").strip() or None, timezone=zone,
        organization=OrganizationIn(key=_key("mg-org", slugify(entity)), name=entity[:300],
                                    website=(entry.get("entity_url") or "").strip() or None,
                                    email=entry.get("entity_email") or None),
        locations=[place] if place is not None else [],
        schedules=_schedules(entry), categories=[FELLOWSHIPS[fellowship].category],
        service_area=_online_area(entry) if place is None else None,
        languages=[TYPE_LANGUAGES[t] for t in types if t in TYPE_LANGUAGES] or ["en"],
        meeting=MeetingIn(fellowship=fellowship, types=types, attendance_mode=mode, slug=slug,
                          conference_url=entry.get("conference_url") or None,
                          conference_url_notes=entry.get("conference_url_notes") or None,
                          conference_phone=entry.get("conference_phone") or None,
                          conference_phone_notes=entry.get("conference_phone_notes") or None,
                          group_name=entry.get("group") or None, group_notes=entry.get("group_notes") or None,
                          location_notes=entry.get("location_notes") or None),
    )  # fmt: skip


def _online_area(entry: dict[str, Any]) -> str | None:
    """An online meeting's approximate area ("Chicago, IL, USA"), kept so our own feed can give it again."""
    parts = [str(entry.get(k) or "").strip() for k in ("city", "state", "postal_code")]
    text = str(entry.get("formatted_address") or "").strip() or ", ".join(p for p in parts if p)
    return text[:300] if len(text) >= 2 else None


def _key(prefix: str, text: str) -> str:
    key = f"{prefix}:{text}"
    return key if len(key) <= 150 else f"{prefix}:{hashlib.sha1(text.encode()).hexdigest()}"  # noqa: S324


def _schedules(entry: dict[str, Any]) -> list[ScheduleIn]:
    day = entry.get("day")
    if day is None or entry.get("time") is None:
        return []
    days = day if isinstance(day, list) else [day]
    closes = time.fromisoformat(entry["end_time"]) if entry.get("end_time") else None
    return [ScheduleIn(byday=[DAYS[d] for d in days], opens_at=time.fromisoformat(entry["time"]), closes_at=closes)]


def _zone(entry: dict[str, Any], place: LocationIn | None, default: str | None) -> str:
    if entry.get("timezone"):
        return str(entry["timezone"])
    if place is not None and place.latitude is not None and place.longitude is not None:
        found = timezone_for(place.latitude, place.longitude)
        if found:
            return found
    near = approximate_point(postal_code=entry.get("postal_code"), city=entry.get("city"), state=entry.get("state"))
    if near is not None and near.timezone:
        return near.timezone
    if default:
        return default
    raise ValueError("no time zone: give the meeting a timezone or coordinates, or run with --timezone")


def _location(entry: dict[str, Any], slug: str) -> LocationIn:
    parts = _address_parts(entry)
    lat, lng = _float(entry.get("latitude")), _float(entry.get("longitude"))
    approximate = False
    if lat is None or lng is None:
        near = approximate_point(postal_code=parts.get("postal_code"), city=parts.get("city"), state=parts.get("state"))
        if near is None:
            raise ValueError("an in-person meeting needs coordinates or an address we can place")
        lat, lng, approximate = near.latitude, near.longitude, True
    elif not parts.get("postal_code"):
        parts = {**_reverse(lat, lng), **{k: v for k, v in parts.items() if v}}
    address = _address(parts)
    identity = f"{entry.get('formatted_address') or f'{lat:.5f},{lng:.5f}'}|{entry.get('location') or ''}"
    return LocationIn(
        key=_key("mg-loc", hashlib.sha1(str(identity).lower().encode()).hexdigest()[:20]),  # noqa: S324
        name=(entry.get("location") or None), latitude=lat, longitude=lng, coordinates_approximate=approximate,
        address=address, description=None if address is not None else entry.get("formatted_address"),
        accessibility=[_ACCESSIBILITY[t] for t in entry.get("types") or [] if t in _ACCESSIBILITY],
    )  # fmt: skip


def _float(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _address_parts(entry: dict[str, Any]) -> dict[str, str]:
    """Street, city, state, ZIP and country from the entry's fields, else from its formatted_address."""
    parts = {k: str(entry.get(k) or "").strip() for k in ("address", "city", "state", "postal_code", "country")}
    formatted = str(entry.get("formatted_address") or "")
    pieces = [p.strip() for p in formatted.split(",") if p.strip()]
    if pieces and pieces[-1].upper() in ("USA", "US", "UNITED STATES"):
        parts["country"] = parts["country"] or "US"
        pieces = pieces[:-1]
    if pieces and (match := _STATE_ZIP.match(pieces[-1])):
        parts["state"] = parts["state"] or match[1]
        parts["postal_code"] = parts["postal_code"] or match[2]
        pieces = pieces[:-1]
        if pieces:
            parts["city"] = parts["city"] or pieces[-1]
            pieces = pieces[:-1]
        parts["address"] = parts["address"] or ", ".join(pieces)
    return parts


def _reverse(lat: float, lng: float) -> dict[str, str]:
    found = OfflineGeocoder().reverse((lat, lng))
    raw = getattr(found, "raw", None) or {}
    return {"postal_code": str(raw.get("postal_code") or ""), "city": str(raw.get("city") or ""),
            "state": str(raw.get("state") or "")}  # fmt: skip


def _address(parts: dict[str, str]) -> AddressIn | None:
    postal = _ZIP.search(parts.get("postal_code") or "")
    country = (parts.get("country") or "US").upper()
    if country in ("USA", "UNITED STATES"):
        country = "US"
    if not (postal and parts.get("city") and len(parts.get("state") or "") >= 2 and len(country) == 2):
        return None
    return AddressIn(address_1=parts.get("address") or "", city=parts["city"], state_province=parts["state"],
                     postal_code=postal[0], country=country)  # fmt: skip
