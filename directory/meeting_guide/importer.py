"""Import a Meeting Guide feed (a file or an http(s) URL) as one feed source's meetings.

The feed is read leniently (`directory.meeting_guide.reader`): a row that cannot be a meeting is skipped and
named, the rest go in; `strict` keeps all-or-nothing. The write (`directory.sources.apply`) creates,
updates and retires only that source's meetings, identified by (source, slug).

Attendance follows the format's prose: online when there is a conference URL or phone; in person when the
meeting has a specific address, unless the type `TC` (location temporarily closed) is given or
`approximate` is "yes" (an online meeting's "San Jose, CA, USA" is where it is rooted, not where to go);
both is hybrid; neither is inactive. An online meeting keeps its approximate place (marked approximate).
"""

import hashlib
import json
import re
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import httpx
from pydantic import ValidationError
from rich.progress import Progress
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.errors import DomainError
from core.inputs import one_line
from core.logging import get_logger
from core.urls import is_web_url
from directory.hsds.report import ImportReport, Problem
from directory.listings.geocoding import OfflineGeocoder, approximate_point, timezone_for
from directory.listings.meeting_types import TEMPORARILY_CLOSED, language_codes
from directory.listings.models import Attendance, ServiceKind
from directory.listings.schemas import (
    AddressIn,
    ListingIn,
    LocationIn,
    MeetingIn,
    OrganizationIn,
    ScheduleIn,
    is_timezone,
)
from directory.listings.taxonomy import FELLOWSHIPS
from directory.meeting_guide.feed import DAYS
from directory.sources.models import FeedSource
from directory.sources.service import fellowship_code, source_for_location
from directory.sources.world import WorldPlace, country_code, find_place, is_abroad, split_place

log = get_logger(__name__)
MAX_FEED_BYTES = 50 * 1024 * 1024
_ZIP = re.compile(r"\b(\d{5})(?:-\d{4})?\b")
_STATE_ZIP = re.compile(r"^([A-Z]{2})\s+(\d{5}(?:-\d{4})?)$")
_ACCESSIBILITY = {"X": "wheelchair", "XB": "accessible_restroom"}


class FeedError(DomainError):
    """The feed could not be read at all (missing file, HTTP error, not JSON)."""


def import_meeting_guide(
    *, session: Session | None = None, engine: Engine | None = None, source: str | Path, fellowship: str = "AA",
    timezone: str | None = None, actor: str | None = None, progress: Progress | None = None, strict: bool = False,
    feed: FeedSource | None = None,
) -> ImportReport:  # fmt: skip
    """Import a feed as the meetings of `feed` (default: the source registered for this location, made
    when there is none); the report names row and field of every problem."""
    if (session is None) == (engine is None):
        raise ValueError("give exactly one of session or engine")
    if session is not None:
        return _run(session, source, fellowship, timezone, actor, progress, strict, feed)
    with Session(engine) as own:
        return _run(own, source, fellowship, timezone, actor, progress, strict, feed)


def _run(session: Session, source: str | Path, fellowship: str, timezone: str | None, actor: str | None,
         progress: Progress | None, strict: bool, feed: FeedSource | None) -> ImportReport:  # fmt: skip
    from directory.sources.apply import apply_feed

    report = ImportReport(actor=actor)
    name = str(source).rsplit("/", 1)[-1] or "feed"
    try:
        data = load_feed(source)
    except FeedError as exc:
        report.add(Problem(name, None, None, exc.message))
        return report
    default = fellowship_code(fellowship)
    if default is None:
        report.add(Problem(name, None, "fellowship", f"unknown fellowship {fellowship!r}"))
    if timezone is not None and not is_timezone(timezone):
        report.add(Problem(name, None, "timezone", f"{timezone!r} is not an IANA time zone"))
    if not report.ok or default is None:
        return report
    feed = feed or source_for_location(session=session, location=str(source), fellowship=default, timezone=timezone)
    apply_feed(session=session, feed=feed, data=data, name=name, report=report, strict=strict or feed.strict,
               fellowship=default, timezone=timezone or feed.timezone, to_listing=to_listing,
               progress=progress)  # fmt: skip
    if not report.ok:
        session.rollback()  # nothing was written; nor is a source registered only for this import
    log.info("meeting guide import", actor=actor, ok=report.ok, source=feed.code, meetings=report.rows_read)
    return report


def load_feed(source: str | Path) -> Any:
    text = str(source)
    try:
        if text.startswith(("http://", "https://")):
            response = httpx.get(text, timeout=30.0, follow_redirects=True)
            if response.status_code != 200:
                raise FeedError(f"{text} answered HTTP {response.status_code}")
            return parse_feed(response.content, text)
        return parse_feed(Path(text).read_bytes(), text)
    except (OSError, httpx.HTTPError) as exc:
        raise FeedError(f"cannot read {text}: {exc}") from exc


def parse_feed(body: bytes, where: str) -> Any:
    """The JSON of a feed body; one clear sentence when it is not JSON at all."""
    if len(body) > MAX_FEED_BYTES:
        raise FeedError(f"{where} is larger than 50 MB")
    try:
        return json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise FeedError(f"{where} is not UTF-8 text, so it is not a Meeting Guide feed") from exc
    except ValueError as exc:
        raise FeedError(f"{where} is not valid JSON (line {getattr(exc, 'lineno', '?')}: "
                        f"{getattr(exc, 'msg', exc)}), so no meeting was read") from exc  # fmt: skip


# --- one entry -> one listing --------------------------------------------------------------------------


def attendance(entry: dict[str, Any]) -> Attendance:
    online = bool(entry.get("conference_url") or entry.get("conference_phone"))
    types = entry.get("types") or []
    closed = TEMPORARILY_CLOSED in types or entry.get("approximate") == "yes"
    # With a link and no street, the place is where an online meeting is rooted, not where to go.
    in_person = not closed and (not online or specific_address(entry))
    if online and in_person:
        return Attendance.hybrid
    if online:
        return Attendance.online
    return Attendance.in_person if in_person else Attendance.inactive


def specific_address(entry: dict[str, Any]) -> bool:
    """A street to go to: `approximate: "no"`, a street field, or a formatted address that names one."""
    if entry.get("approximate") == "no" or entry.get("address"):
        return True
    pieces = [p.strip() for p in str(entry.get("formatted_address") or "").split(",") if p.strip()]
    return len(pieces) >= 4 or bool(pieces and pieces[0][:1].isdigit() and len(pieces) >= 2)


def to_listing(entry: dict[str, Any], *, feed: FeedSource, served_slug: str, fellowship: str,
               default_zone: str | None, owner: OrganizationIn) -> ListingIn:  # fmt: skip
    """One clean feed entry (see feed_reader.read_entry) as a listing of this feed source."""
    own = fellowship_code(entry.get("fellowship"))
    fellowship = own or fellowship
    mode = attendance(entry)
    types = list(entry.get("types") or [])
    place = _place_of(entry, feed.code, mode)
    zone = _zone(entry, place, default_zone)
    if place is not None:
        place = place.model_copy(update={"timezone": zone})
    key = slug_key(entry["slug"])
    entity = entry.get("entity")
    org = owner if not entity else OrganizationIn(
        key=_key("mg-org", key_text(entity)), name=entity[:300],
        website=entry.get("entity_url") if _http(entry.get("entity_url")) else None,
        email=entry.get("entity_email"))  # fmt: skip
    return ListingIn(
        key=_key(f"mg:{feed.code}", key), kind=ServiceKind.meeting, name=entry["name"][:300],
        description=entry.get("notes") or "", url=entry.get("url") if _http(entry.get("url")) else None,
        timezone=zone, organization=org, locations=[place] if place is not None else [],
        schedules=_schedules(entry), categories=[FELLOWSHIPS[fellowship].category],
        service_area=_online_area(entry) if place is None else None,
        languages=language_codes(types) or ["en"],
        meeting=MeetingIn(fellowship=fellowship, types=types, attendance_mode=mode, slug=served_slug,
                          conference_url=entry.get("conference_url"),
                          conference_url_notes=entry.get("conference_url_notes"),
                          conference_phone=entry.get("conference_phone"),
                          conference_phone_notes=entry.get("conference_phone_notes"),
                          group_name=entry.get("group"), group_notes=entry.get("group_notes"),
                          location_notes=entry.get("location_notes"), source_id=feed.id,
                          source_slug=entry["slug"], source_updated=_updated(entry.get("updated"))),
    )  # fmt: skip


def _online_area(entry: dict[str, Any]) -> str | None:
    """An online meeting's approximate area ("Chicago, IL, USA"), kept so our own feed can give it again."""
    parts = [str(entry.get(k) or "").strip() for k in ("city", "state", "postal_code")]
    text = str(entry.get("formatted_address") or "").strip() or ", ".join(p for p in parts if p)
    return text[:300] if len(text) >= 2 else None


def key_text(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def slug_key(slug: str) -> str:
    """The key part of a feed slug: its slug form, or a hash when the slug has nothing URL-safe in it."""
    text = key_text(slug)
    return text if text != "x" else hashlib.sha1(slug.encode()).hexdigest()[:16]  # noqa: S324


def _updated(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None


def _key(prefix: str, text: str) -> str:
    key = f"{prefix}:{text}"
    return key if len(key) <= 150 else f"{prefix}:{hashlib.sha1(text.encode()).hexdigest()}"  # noqa: S324


def _http(value: Any) -> bool:
    # The one URL rule (core/urls.py): a link breaking it is left out of the listing, and the reader names it.
    return isinstance(value, str) and is_web_url(value)


def _schedules(entry: dict[str, Any]) -> list[ScheduleIn]:
    days, opens = entry.get("day"), entry.get("time")
    if not days or opens is None:
        return []
    closes = time.fromisoformat(entry["end_time"]) if entry.get("end_time") else None
    return [ScheduleIn(byday=[DAYS[d] for d in days], opens_at=time.fromisoformat(opens), closes_at=closes)]


def _zone(entry: dict[str, Any], place: LocationIn | None, default: str | None) -> str:
    if entry.get("timezone"):
        return str(entry["timezone"])
    lat, lng = entry.get("latitude"), entry.get("longitude")
    if place is not None and place.latitude is not None and place.longitude is not None:
        lat, lng = place.latitude, place.longitude
    if lat is not None and lng is not None and (found := timezone_for(lat, lng)):
        return found
    parts = _address_parts(entry)
    if (abroad := _abroad(parts)) is not None:
        return abroad.timezone
    near = approximate_point(postal_code=parts.get("postal_code"), city=parts.get("city"), state=parts.get("state"))
    if near is not None and near.timezone:
        return near.timezone
    if default:
        return default
    raise ValueError("no time zone: give the meeting a timezone or coordinates, or give the source a time zone")


def _place_of(entry: dict[str, Any], code: str, mode: Attendance) -> LocationIn | None:
    if mode in (Attendance.in_person, Attendance.hybrid):
        return _location(entry, code, approximate_only=False)
    try:  # an online (or closed) meeting keeps where it is rooted, marked approximate, when it says
        return _location(entry, code, approximate_only=True)
    except ValueError:
        return None


def _location(entry: dict[str, Any], code: str, *, approximate_only: bool) -> LocationIn:
    parts = _address_parts(entry)
    lat, lng = entry.get("latitude"), entry.get("longitude")
    approximate = approximate_only
    if lat is None or lng is None:
        lat, lng = _approximate_point(entry, parts)
        approximate = True
    elif not parts.get("postal_code") and not approximate_only and parts.get("country", "US") == "US":
        parts = {**_reverse(lat, lng), **{k: v for k, v in parts.items() if v}}
    address = _address(parts)
    if approximate_only and address is not None:
        address = address.model_copy(update={"address_1": "", "address_2": None})
    identity = f"{entry.get('formatted_address') or f'{lat:.5f},{lng:.5f}'}|{entry.get('location') or ''}"
    digest = hashlib.sha1(f"{approximate_only}|{identity}".lower().encode()).hexdigest()[:20]  # noqa: S324
    return LocationIn(
        key=_key(f"mg-loc:{code}", digest), name=None if approximate_only else entry.get("location"),
        latitude=lat, longitude=lng, coordinates_approximate=approximate,
        address=address, description=None if address is not None else entry.get("formatted_address"),
        accessibility=[] if approximate_only else [_ACCESSIBILITY[t] for t in entry.get("types") or []
                                                   if t in _ACCESSIBILITY],
    )  # fmt: skip


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
    elif len(pieces) >= 2 and re.fullmatch(r"[A-Z]{2}", pieces[-1]):  # "San Jose, CA": a city, no street
        parts["state"] = parts["state"] or pieces[-1]
        parts["city"] = parts["city"] or pieces[-2]
    elif formatted and not parts["city"]:  # "Edmonton, AB, Canada", "Dublin, Ireland", "... London, UK"
        place = split_place(formatted)
        parts["country"] = parts["country"] or place["country"] or ""
        parts["state"] = parts["state"] or place["region"] or ""
        parts["city"] = parts["city"] or place["city"] or ""
    if parts["country"] and (code := country_code(parts["country"])):
        parts["country"] = code
    parts["region"] = _neighbourhood(entry, parts)
    return parts


def _neighbourhood(entry: dict[str, Any], parts: dict[str, str]) -> str:
    """The most specific area the feed names (`regions`' last, else `sub_region`, else `region`), unless it only
    repeats the city or the state: it becomes the region filter's neighbourhood and the served feed's last region."""
    named = entry.get("regions")
    given = [str(r).strip() for r in named if isinstance(r, str | int)] if isinstance(named, list) else []
    candidates = [*reversed(given), str(entry.get("sub_region") or ""), str(entry.get("region") or "")]
    taken = {parts.get("city", "").casefold(), parts.get("state", "").casefold(), ""}
    for area in (one_line(c).strip()[:100] for c in candidates):
        if area.casefold() not in taken:
            return area
        if area:
            return ""  # the most specific name is the city itself: no neighbourhood
    return ""


def _abroad(parts: dict[str, str]) -> WorldPlace | None:
    if not is_abroad(region=parts.get("state"), country=parts.get("country")):
        return None
    return find_place(city=parts.get("city"), region=parts.get("state"), country=parts.get("country"))


def _approximate_point(entry: dict[str, Any], parts: dict[str, str]) -> tuple[float, float]:
    """A point for a place given without one: the city (or ZIP) centre, abroad from the world gazetteer."""
    if is_abroad(region=parts.get("state"), country=parts.get("country")):
        found = _abroad(parts)
        if found is None:
            raise ValueError(f"{parts.get('city')!r} is not in the world gazetteer (towns of 5,000 or more)")
        return found.latitude, found.longitude
    near = approximate_point(postal_code=parts.get("postal_code"), city=parts.get("city"), state=parts.get("state"),
                             timezone=entry.get("timezone"))  # fmt: skip
    if near is None:
        raise ValueError("an in-person meeting needs coordinates or an address we can place")
    return near.latitude, near.longitude


def _reverse(lat: float, lng: float) -> dict[str, str]:
    found = OfflineGeocoder().reverse((lat, lng))
    raw = getattr(found, "raw", None) or {}
    return {"postal_code": str(raw.get("postal_code") or ""), "city": str(raw.get("city") or ""),
            "state": str(raw.get("state") or "")}  # fmt: skip


def _address(parts: dict[str, str]) -> AddressIn | None:
    country = (parts.get("country") or "US").upper()
    postal = _ZIP.search(parts.get("postal_code") or "") if country == "US" else None
    code = postal[0] if postal else (parts.get("postal_code") or "").strip() if country != "US" else ""
    if not (code and parts.get("city") and len(parts.get("state") or "") >= 2 and len(country) == 2):
        return None
    try:
        return AddressIn(address_1=parts.get("address") or "", city=parts["city"], state_province=parts["state"],
                         postal_code=code, country=country, region=parts.get("region") or None)  # fmt: skip
    except ValidationError:
        return None  # an address we cannot keep as fields stays whole in the description
