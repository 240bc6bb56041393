"""Which IANA time zone a service or an organization lives in, for showing staff times as people read them.

A listing's places carry their own zone (set from the address when it is geocoded); an organization's
zone is the one most of its places share. Schedules carry a zone too, and are the fallback for a
listing without places (an online meeting). None means "not known": callers fall back to a setting.
"""

import uuid
from collections import Counter
from collections.abc import Iterable

from sqlmodel import Session, col, select

from accounts.models import Membership, PeerProfile
from core.inputs import is_zone_name
from directory.listings.models import Location, Schedule, Service, ServiceAtLocation

# Where nothing says otherwise (a listing with neither places nor schedules): the zone new hours start in.
DEFAULT_ZONE = "America/New_York"


def most_common(names: Iterable[str | None]) -> str | None:
    ranked = Counter(n for n in names if n and is_zone_name(n)).most_common(1)
    return ranked[0][0] if ranked else None


def service_zone(session: Session, service_id: uuid.UUID) -> str | None:
    places = session.exec(
        select(Location.timezone)
        .join(ServiceAtLocation, col(ServiceAtLocation.location_id) == Location.id)
        .where(ServiceAtLocation.service_id == service_id)
    ).all()
    found = most_common(places)
    if found is None:
        found = most_common(session.exec(select(Schedule.timezone).where(Schedule.service_id == service_id)).all())
    return found


def organization_zones(session: Session, organization_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Each organization's zone (those with none known are left out), in two queries for any number."""
    ids = set(organization_ids)
    if not ids:
        return {}
    named: dict[uuid.UUID, list[str | None]] = {}
    for org_id, zone in session.exec(
        select(Location.organization_id, Location.timezone).where(col(Location.organization_id).in_(ids))
    ).all():
        if org_id is not None:
            named.setdefault(org_id, []).append(zone)
    missing = ids - {o for o, names in named.items() if most_common(names)}
    if missing:
        rows = session.exec(
            select(Service.organization_id, Schedule.timezone)
            .join(Schedule, col(Schedule.service_id) == Service.id)
            .where(col(Service.organization_id).in_(missing))
        ).all()
        for org_id, zone in rows:
            named.setdefault(org_id, []).append(zone)
    zones = {org_id: most_common(names) for org_id, names in named.items()}
    return {org_id: zone for org_id, zone in zones.items() if zone}


def organization_zone(session: Session, organization_id: uuid.UUID | None) -> str | None:
    if organization_id is None:
        return None
    return organization_zones(session, [organization_id]).get(organization_id)


def user_zone(session: Session, user_id: uuid.UUID) -> str | None:
    """A person's zone: that of the organizations they work in (memberships, else a peer's employer)."""
    org_ids = list(session.exec(select(Membership.organization_id).where(Membership.user_id == user_id)).all())
    employer = session.exec(select(PeerProfile.employer_organization_id).where(PeerProfile.user_id == user_id)).first()
    if employer is not None:
        org_ids.append(employer)
    return most_common(organization_zones(session, org_ids).values())
