"""Meeting Guide: the entries of our feeds (served by `directory.meeting_guide.views`; the format's
validator is `directory.meeting_guide.reader`).

A feed lists active meetings someone can go to or join (see `served`), in batches with a fixed
number of queries each. Every entry carries geographic information: an online-only meeting the approximate
area it serves (`approximate: "yes"`, no street), a meeting at a confidential place only its city, state,
ZIP and a coarse point. Each entry has one weekday and one start time (the format allows a list of days,
but TSML UI, the client everybody embeds, mishandles feeds that use it), a time zone and `regions`.
"""

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, not_, or_
from sqlmodel import Session, col, select

from core.urls import web_href
from directory.listings.meeting_types import CODES
from directory.listings.models import (
    Address,
    Attendance,
    Location,
    Meeting,
    Phone,
    Schedule,
    Service,
    ServiceAtLocation,
    ServiceKind,
    ServiceStatus,
)
from directory.listings.queries import ListingDetail, PlaceDetail, load_listings
from directory.meeting_guide.places import Area, area_near, organization_areas, regions, service_areas, zone_area

BATCH = 500
DAYS = ("SU", "MO", "TU", "WE", "TH", "FR", "SA")  # Meeting Guide day 0 is Sunday
CONFIDENTIAL_DECIMALS = 2


ListingUrl = Callable[[uuid.UUID], str]


def served() -> list[ColumnElement[bool]]:
    """Which meetings a feed carries (joined as Service and Meeting): active ones someone can go to or join.

    Left out besides inactive meetings: a meeting only in person whose place has no street, no confidential
    address and no exact point ("somewhere in Philadelphia"). The format asks in-person meetings for a
    specific address; TSML UI lists such an entry as inactive and the Meeting Guide app, which ignores
    `approximate`, would send people to the town's centre. Our own listing page still shows it.
    """
    place = (
        select(ServiceAtLocation.id)
        .join(Location, col(Location.id) == ServiceAtLocation.location_id)
        .outerjoin(Address, col(Address.location_id) == Location.id)
        .where(col(ServiceAtLocation.service_id) == Service.id,
               or_(col(Location.is_confidential), col(Address.address_1) != "",
                   and_(col(Location.latitude).is_not(None), not_(col(Location.coordinates_approximate)))))
    )  # fmt: skip
    return [
        col(Service.kind) == ServiceKind.meeting, col(Service.status) == ServiceStatus.active,
        col(Meeting.attendance_mode) != Attendance.inactive,
        or_(col(Meeting.attendance_mode) != Attendance.in_person, place.exists()),
    ]  # fmt: skip


def active_meetings(
    session: Session, after: uuid.UUID | None, limit: int, fellowship: str | None = None
) -> list[uuid.UUID]:
    stmt = select(Service.id).join(Meeting, col(Meeting.service_id) == Service.id).where(*served())
    if fellowship is not None:
        stmt = stmt.where(Meeting.fellowship == fellowship)
    if after is not None:
        stmt = stmt.where(col(Service.id) > after)
    return list(session.exec(stmt.order_by(col(Service.id)).limit(limit)).all())


def feed_batches(
    session: Session, listing_url: ListingUrl, batch: int = BATCH, fellowship: str | None = None
) -> Iterator[list[dict[str, Any]]]:
    """Feed entries, a batch of meetings at a time, in service id order (one fellowship's, or all)."""
    last = None
    while ids := active_meetings(session, last, batch, fellowship):
        listings = load_listings(session, ids)
        phones = _organization_phones(session, {d.organization.id for d in listings})
        areas = _online_areas(session, [d for d in listings if _online_only(d)])
        yield [
            entry
            for d in listings
            for entry in feed_entries(d, listing_url, phones.get(d.organization.id), areas.get(d.service.id))
        ]
        session.expunge_all()
        last = ids[-1]


def _organization_phones(session: Session, org_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    stmt = select(Phone).where(col(Phone.organization_id).in_(org_ids)).order_by(col(Phone.id))
    found: dict[uuid.UUID, str] = {}
    for phone in session.exec(stmt):
        found.setdefault(phone.organization_id, phone.number)  # type: ignore[arg-type]
    return found


def _online_only(detail: ListingDetail) -> bool:
    return detail.meeting is not None and (detail.meeting.attendance_mode == Attendance.online or not detail.places)


def _approximate_place(detail: ListingDetail) -> Area | None:
    """The approximate place an imported online meeting keeps (its feed's "Springfield, MO, USA")."""
    for place in detail.places:
        address = place.address
        if address is not None and address.city and address.state_province:
            return Area(city=address.city, state=address.state_province)
        point = place.location
        if point.latitude is not None and point.longitude is not None:
            return area_near(point.latitude, point.longitude)
    return None


def _online_areas(session: Session, online: list[ListingDetail]) -> dict[uuid.UUID, Area]:
    """The approximate area of each online-only meeting (see directory/meeting_guide/places.py for the order)."""
    own = service_areas(session, [d.service.id for d in online])
    homes = organization_areas(session, {d.organization.id for d in online if d.service.id not in own})
    found: dict[uuid.UUID, Area] = {}
    for d in online:
        zone = d.schedules[0].timezone if d.schedules else None
        area = own.get(d.service.id) or _approximate_place(d) or homes.get(d.organization.id) or zone_area(zone)
        if area is not None:
            found[d.service.id] = area
    return found


def feed_entries(
    detail: ListingDetail, listing_url: ListingUrl, entity_phone: str | None = None, area: Area | None = None
) -> list[dict[str, Any]]:
    """One entry per weekday and start time: TSML UI mishandles feeds with several `day` arrays."""
    meeting = detail.meeting
    if meeting is None:
        return []
    base = _common(detail, listing_url, entity_phone, area)
    slots = _slots(detail.schedules)
    if not slots:  # by appointment: no day or time, still a time zone
        zone = _place_zone(detail) or (area.timezone if area is not None else None)
        return [base | ({"timezone": zone} if zone else {})]
    entries = []
    for slug, day, (opens, closes, zone) in _slugged(meeting.slug, slots):
        entry = base | {"slug": slug, "day": day, "time": opens, "timezone": zone}
        if closes:
            entry["end_time"] = closes
        entries.append(entry)
    return entries


Slot = tuple[str, str, str]  # opens, closes, zone


def _slots(schedules: Sequence[Schedule]) -> dict[Slot, list[int]]:
    groups: dict[Slot, list[int]] = defaultdict(list)
    for s in schedules:
        if s.opens_at is None:
            continue
        key = (s.opens_at.strftime("%H:%M"), s.closes_at.strftime("%H:%M") if s.closes_at else "", s.timezone)
        for code in (s.byday or "").split(","):
            if code[-2:] in DAYS:
                groups[key].append(DAYS.index(code[-2:]))
    return {key: sorted(set(days)) for key, days in groups.items() if days}


def _slugged(slug: str, slots: dict[Slot, list[int]]) -> Iterator[tuple[str, int, Slot]]:
    """Stable slugs: the earliest start keeps the meeting's slug, a later one adds `-HHMM`; within a start
    time the first weekday keeps it and each other day adds its code (`sunrise-sa`)."""
    used: set[str] = set()
    for index, (slot, days) in enumerate(sorted(slots.items())):
        group = slug if index == 0 else f"{slug}-{slot[0].replace(':', '')}"
        if group in used:  # the same start with another end time or zone
            group = f"{group}-{index}"
        for n, day in enumerate(days):
            name = group if n == 0 else f"{group}-{DAYS[day].lower()}"
            used.add(name)
            yield name, day, slot


def _place_zone(detail: ListingDetail) -> str | None:
    zones = [s.timezone for s in detail.schedules] + [p.location.timezone for p in detail.places]
    return next((z for z in zones if z), None)


def _common(
    detail: ListingDetail, listing_url: ListingUrl, entity_phone: str | None, area: Area | None
) -> dict[str, Any]:
    service, meeting, org = detail.service, detail.meeting, detail.organization
    assert meeting is not None
    entry: dict[str, Any] = {
        "name": service.name, "slug": meeting.slug, "types": [t for t in meeting.types if t in CODES],
        "notes": service.description or None, "location_notes": meeting.location_notes,
        "group": meeting.group_name, "group_notes": meeting.group_notes,
        "conference_url": web_href(meeting.conference_url), "conference_url_notes": meeting.conference_url_notes,
        "conference_phone": meeting.conference_phone, "conference_phone_notes": meeting.conference_phone_notes,
        "updated": _updated(max([service.last_modified] + [p.location.last_modified for p in detail.places])),
        "url": listing_url(service.id), "entity": org.name, "entity_email": org.email,
        "entity_phone": entity_phone, "entity_url": web_href(org.website),
    }  # fmt: skip
    if _online_only(detail):
        entry.update(area.fields() if area is not None else {"approximate": "yes"})
    else:
        entry.update(_place(detail.places[0]))
    return {k: v for k, v in entry.items() if v not in (None, "", [])}


def _place(place: PlaceDetail) -> dict[str, Any]:
    loc, addr = place.location, place.address
    secret = bool(loc.is_confidential)
    lat, lng = loc.latitude, loc.longitude
    exact = lat is not None and lng is not None and not loc.coordinates_approximate
    has_street = addr is not None and bool(addr.address_1) and not secret
    if secret and lat is not None and lng is not None:
        lat, lng = round(lat, CONFIDENTIAL_DECIMALS), round(lng, CONFIDENTIAL_DECIMALS)
    elif has_street and not exact:
        # A street placed only at its ZIP or town centre: the point would pin the meeting there, and clients
        # (TSML UI, the Meeting Guide app) place a street themselves.
        lat = lng = None
    found: dict[str, Any] = {
        "location": None if secret else loc.name, "latitude": lat, "longitude": lng,
        # The format's `approximate` is about the address, not the point: a street is a place to go. TSML UI
        # takes an approximate place for "not in person", so a meeting without a link shows as inactive.
        "approximate": "no" if has_street or (exact and not secret) else "yes",
    }  # fmt: skip
    if addr is None and lat is not None and lng is not None and (near := area_near(round(lat, 3), round(lng, 3))):
        # No address (an import gave only a point): its town, so clients still have somewhere to list it.
        found.update({k: v for k, v in near.fields().items() if k != "approximate"})
    if addr is not None:
        street = None if secret else ", ".join(p for p in (addr.address_1, addr.address_2) if p) or None
        state_zip = f"{addr.state_province} {addr.postal_code}".strip()
        found.update({
            "address": street, "city": addr.city, "state": addr.state_province, "postal_code": addr.postal_code,
            "country": addr.country, "regions": regions(addr.state_province, addr.city, addr.region),
            "formatted_address": ", ".join(p for p in (street, addr.city, state_zip, addr.country) if p),
        })  # fmt: skip
    return found


def _updated(value: datetime | None) -> str | None:
    if value is None:
        return None
    utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return utc.strftime("%Y-%m-%d %H:%M:%S")
