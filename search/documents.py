"""Meilisearch documents from the public read model (`directory.listings.queries.ListingDetail`).

One document per service-at-location (in-person or hybrid) and one per online-only service (or a service
with no place). `build_documents` is pure; `documents_for` loads listings and says, per service, which
document ids it now has (an empty list means: delete every document of that service).

Privacy: builders only see `ListingDetail`, which never holds `confidential_address`. A confidential
location additionally gets no street, and its public (ZIP-centre) point is rounded to ~1 km.
"""

import uuid
from collections.abc import Sequence
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from sqlmodel import Session

from directory.listings.closures import is_temporarily_closed
from directory.listings.codes import LANGUAGE_NAMES
from directory.listings.freshness import reference_date
from directory.listings.geocoding import state_name
from directory.listings.models import Attendance, Schedule, ServiceKind, ServiceStatus
from directory.listings.queries import ListingDetail, PlaceDetail
from directory.listings.taxonomy import CATEGORY_CODES, FELLOWSHIPS, ancestors, term
from search.source import load_sources
from search.timeslots import slots_from_schedules, week_fields

Document = dict[str, Any]

# Listings in these states are not searchable at all (their documents are deleted).
HIDDEN_STATUSES = frozenset({ServiceStatus.inactive.value, ServiceStatus.defunct.value})
CONFIDENTIAL_POINT_DECIMALS = 2
DEFAULT_TIMEZONE = "America/New_York"


def listing_url(service_id: uuid.UUID | str) -> str:
    return f"/services/{service_id}"


def is_searchable(listing: ListingDetail) -> bool:
    if listing.service.status in HIDDEN_STATUSES:
        return False
    return not (listing.meeting and listing.meeting.attendance_mode == Attendance.inactive)


def attendance_of(listing: ListingDetail) -> str:
    """in_person | online | hybrid: a meeting's own mode; a service is in person when it has a place."""
    if listing.meeting is not None:
        return str(listing.meeting.attendance_mode)
    return Attendance.in_person.value if listing.places else Attendance.online.value


def build_documents(listing: ListingDetail) -> list[Document]:
    if not is_searchable(listing):
        return []
    common = _common(listing)
    if common["attendance"] == Attendance.online.value or not listing.places:
        return [{**common, "id": str(listing.service.id), **_no_place()}]
    return [{**common, "id": str(place.service_at_location_id), **_place(place)} for place in listing.places]


def documents_for(
    session: Session, service_ids: Sequence[uuid.UUID]
) -> tuple[list[Document], dict[uuid.UUID, list[str]]]:
    """Documents of these services, plus each service's current document ids ([] = delete all)."""
    found = {d.service.id: d for d in load_sources(session.connection(), service_ids)}
    docs: list[Document] = []
    ids: dict[uuid.UUID, list[str]] = {}
    for sid in dict.fromkeys(service_ids):
        built = build_documents(found[sid]) if sid in found else []
        docs.extend(built)
        ids[sid] = [d["id"] for d in built]
    return docs, ids


def _categories(listing: ListingDetail) -> tuple[list[str], list[str], list[str]]:
    """Codes with their ancestors; names of the assigned terms; names of the broader terms (searchable)."""
    terms = sorted(listing.categories, key=lambda t: t.code or "")  # deterministic documents
    codes: list[str] = []
    names = [t.name for t in terms]
    direct = [t.code for t in terms if t.code]
    if listing.meeting is not None and listing.meeting.fellowship in FELLOWSHIPS:
        direct.append(FELLOWSHIPS[listing.meeting.fellowship].category)
    for code in direct:
        try:
            codes.extend(ancestors(code))
        except KeyError:  # a code outside our tree (imported data) is still filterable as itself
            codes.append(code)
    codes = list(dict.fromkeys(codes))
    broader = [term(c).name for c in codes if c in CATEGORY_CODES and term(c).name not in names]
    return codes, list(dict.fromkeys(names)), broader


def _common(listing: ListingDetail) -> Document:
    service, meeting = listing.service, listing.meeting
    categories, category_names, broader_names = _categories(listing)
    languages = list(dict.fromkeys(lang.code for lang in listing.languages if lang.code))
    fellowship = meeting.fellowship if meeting else None
    closed = is_temporarily_closed(service, meeting)
    return {
        "service_id": str(service.id),
        "organization_id": str(listing.organization.id),
        "kind": str(service.kind or ServiceKind.service),
        "name": service.name,
        "alternate_name": service.alternate_name,
        "description": service.description,
        "organization": listing.organization.name,
        "organization_alternate_name": listing.organization.alternate_name,
        "categories": categories,
        "category_names": category_names,
        "broader_category_names": broader_names,
        "fellowship": fellowship,
        "fellowship_name": FELLOWSHIPS[fellowship].label if fellowship and fellowship in FELLOWSHIPS else None,
        "group_name": meeting.group_name if meeting else None,
        "types": list(meeting.types) if meeting else [],
        "attendance": attendance_of(listing),
        "languages": languages,
        "language_names": [LANGUAGE_NAMES.get(code, code) for code in languages],
        "cost": sorted({c.kind for c in listing.costs if c.kind}),
        # A closed listing (its own status, an inactive or `TC` in-person meeting) is "temporarily closed" here, so
        # the time filters (`status = "active"`) leave it out; `closed` ranks it after open listings.
        "status": ServiceStatus.temporarily_closed.value if closed else str(service.status),
        "closed": int(closed),
        "capacity": str(service.capacity),
        "capacity_note": service.capacity_note,
        "reopening_date": service.reopening_date.isoformat() if service.reopening_date else None,
        "assured_date": service.assured_date.isoformat() if service.assured_date else None,
        # Freshness: the last verification, or the day a never-verified listing was added. The ordinal
        # is the last ranking rule, so among otherwise equal hits stale listings rank lower.
        "verified_on": reference_date(service).isoformat(),
        "verified_day": reference_date(service).toordinal(),
        "timezone": _timezone(listing),
        **schedule_fields(listing.schedules),
        "url": listing_url(service.id),
    }


def schedule_fields(schedules: Sequence[Schedule]) -> Document:
    """`slots` and the weekly fields of these schedule rows (shared between documents: never mutate them)."""
    return _schedule_fields(
        tuple((s.freq, s.byday, s.opens_at, s.closes_at, s.valid_from, s.valid_to) for s in schedules)
    )


@lru_cache(maxsize=8192)
def _schedule_fields(key: tuple[tuple[Any, ...], ...]) -> Document:
    """Cached: opening hours repeat across a directory (weekdays 9-5, meetings at 19:00)."""
    fields = ("freq", "byday", "opens_at", "closes_at", "valid_from", "valid_to")
    rows = [SimpleNamespace(**dict(zip(fields, values, strict=True))) for values in key]
    slots = slots_from_schedules(rows)
    return {"slots": [s.to_doc() for s in slots], **week_fields(slots)}


def _timezone(listing: ListingDetail) -> str:
    """The zone the weekly fields are in: the schedules' zone (one per listing), else the place's zone."""
    if listing.schedules:
        return listing.schedules[0].timezone
    for place in listing.places:
        if place.location.timezone:
            return place.location.timezone
    return DEFAULT_TIMEZONE


def _no_place() -> Document:
    return {
        "address": None,
        "location_name": None,
        "city": None,
        "postal_code": None,
        "accessibility": [],
        "regions": [],
        "confidential": False,
        "approximate": False,
        "lat": None,
        "lng": None,
    }


def _place(place: PlaceDetail) -> Document:
    loc, addr = place.location, place.address
    confidential = bool(loc.is_confidential)
    street = None
    if addr is not None and not confidential:
        street = ", ".join(p for p in (addr.address_1, addr.address_2) if p) or None
    address = (
        None
        if addr is None
        else {
            "street": street,
            "city": addr.city or None,
            "state": addr.state_province or None,
            "postal_code": addr.postal_code or None,
        }
    )
    doc: Document = {
        "address": address,
        "location_name": None if confidential else loc.name,
        "city": addr.city if addr else None,
        "postal_code": addr.postal_code if addr else None,
        "accessibility": sorted({a.code for a in place.accessibility if a.code}),
        "regions": regions_of(addr.city, addr.state_province, addr.region) if addr else [],
        "confidential": confidential,
        "approximate": bool(loc.coordinates_approximate or confidential),
        "lat": None,
        "lng": None,
    }
    point = _public_point(loc.latitude, loc.longitude, confidential)
    if point is not None:
        doc["lat"], doc["lng"] = point
        doc["_geo"] = {"lat": point[0], "lng": point[1]}
    return doc


def regions_of(city: str | None, state: str | None, neighbourhood: str | None) -> list[str]:
    """The region filter's values, general to specific: the state, "City, ST", "Neighbourhood, City".

    A city keeps its state (every Springfield is a different place); a neighbourhood keeps its city.
    """
    city, state, neighbourhood = (city or "").strip(), (state or "").strip(), (neighbourhood or "").strip()
    found = [state_name(state) or state if state else "", f"{city}, {state}" if city and state else city]
    if neighbourhood and neighbourhood != city:
        found.append(f"{neighbourhood}, {city}" if city else neighbourhood)
    return [value[:100] for value in dict.fromkeys(found) if value]


def _public_point(lat: float | None, lng: float | None, confidential: bool) -> tuple[float, float] | None:
    if lat is None or lng is None or not (-90 <= lat <= 90 and -180 <= lng <= 180) or (lat == 0 and lng == 0):
        return None
    if confidential:
        return round(lat, CONFIDENTIAL_POINT_DECIMALS), round(lng, CONFIDENTIAL_POINT_DECIMALS)
    return float(lat), float(lng)
