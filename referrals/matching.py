"""Open referrals: which organizations offer a category within a radius of a ZIP code."""

import math
import uuid

from sqlmodel import Session, col, select

from core.errors import ValidationFailed
from core.i18n import N_
from directory.listings.details import Attribute
from directory.listings.geocoding import approximate_point
from directory.listings.models import Location, Service, ServiceAtLocation, ServiceStatus
from directory.listings.taxonomy import CATEGORY_CODES, children, term_id

EARTH_RADIUS_MILES = 3958.8


def miles_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * math.asin(math.sqrt(a))


def with_descendants(code: str) -> list[str]:
    found, queue = [], [code]
    while queue:
        current = queue.pop()
        found.append(current)
        queue.extend(children(current))
    return found


def candidate_organizations(
    session: Session, *, category: str, postal_code: str, radius_miles: int, exclude: uuid.UUID | None = None
) -> list[uuid.UUID]:
    """Organizations with an active listing in `category` (or a sub-category) within the radius."""
    if category not in CATEGORY_CODES:
        raise ValidationFailed(N_("Unknown category %(category)s.", category=repr(category)), field="open_category")
    place = approximate_point(postal_code=postal_code, city=None, state=None)
    if place is None:
        raise ValidationFailed(
            N_("ZIP code %(postal_code)s was not found.", postal_code=repr(postal_code)), field="open_postal_code"
        )
    term_ids = [term_id(c) for c in with_descendants(category)]
    rows = session.exec(
        select(Service.organization_id, Location.latitude, Location.longitude)
        .join(Attribute, col(Attribute.link_id) == Service.id)
        .join(ServiceAtLocation, col(ServiceAtLocation.service_id) == Service.id)
        .join(Location, col(Location.id) == ServiceAtLocation.location_id)
        .where(
            Attribute.link_entity == "service",
            col(Attribute.taxonomy_term_id).in_(term_ids),
            Service.status == ServiceStatus.active,
            col(Location.latitude).is_not(None),
        )
    ).all()
    found: dict[uuid.UUID, None] = {}
    for org_id, lat, lon in rows:
        if lat is None or lon is None or org_id == exclude:
            continue
        if miles_between(place.latitude, place.longitude, lat, lon) <= radius_miles:
            found[org_id] = None
    if not found:
        raise ValidationFailed(
            N_(
                "No organization offers this within %(radius_miles)s miles of %(postal_code)s. Widen the radius.",
                radius_miles=radius_miles,
                postal_code=postal_code,
            ),
            field="open_radius_miles",
        )
    return list(found)
