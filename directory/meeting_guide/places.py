"""Where a meeting is, as feeds say it: `regions` from general to specific, and an online meeting's area.

TSML UI groups meetings by `regions` (falling back to the city, which merges every Springfield into one),
and both TSML UI and the Meeting Guide app drop a meeting that has no geographic information. The format
asks an online-only meeting for the approximate area it serves ("Chicago, IL, USA"), flagged
`approximate: "yes"`. That area comes from, in order: the meeting's own service area, a place of the
organization that holds it, else the city its time zone is named after.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from core.errors import DomainError
from directory.listings.details import ServiceArea
from directory.listings.geocoding import OfflineGeocoder, resolve_place, state_name
from directory.listings.models import Address, Location

# The city each US time zone is named after: the last resort for an online meeting with no other place.
ZONE_CITIES = {
    "America/New_York": "New York, NY", "America/Detroit": "Detroit, MI", "America/Chicago": "Chicago, IL",
    "America/Indiana/Indianapolis": "Indianapolis, IN", "America/Denver": "Denver, CO",
    "America/Boise": "Boise, ID", "America/Phoenix": "Phoenix, AZ", "America/Los_Angeles": "Los Angeles, CA",
    "America/Anchorage": "Anchorage, AK", "Pacific/Honolulu": "Honolulu, HI", "America/Puerto_Rico": "San Juan, PR",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Area:
    city: str
    state: str
    region: str | None = None  # a neighbourhood, when known
    timezone: str | None = None  # for a meeting with no schedule: the format's clients need a zone

    def fields(self) -> dict[str, Any]:
        """The feed fields of an approximate area: city and state, no street and no point."""
        return {
            "city": self.city, "state": self.state, "country": "US", "approximate": "yes",
            "formatted_address": f"{self.city}, {self.state}, USA",
            "regions": regions(self.state, self.city, self.region),
        }  # fmt: skip


def regions(state: str | None, city: str | None, neighbourhood: str | None = None) -> list[str]:
    """General to specific: the state's full name, the city, the neighbourhood (each only when known).

    The state is kept even where it shares the city's name (New York, New York): it is a different level.
    """
    state, city, neighbourhood = (
        (state_name(state or "") or state or "").strip(),
        (city or "").strip(),
        (neighbourhood or "").strip(),
    )
    return [name for name in (state, city, "" if neighbourhood == city else neighbourhood) if name]


@lru_cache(maxsize=4096)
def area_named(text: str) -> Area | None:
    """A "City, ST" or ZIP as an area, through the offline gazetteer; None when it names no place."""
    try:
        place = resolve_place(text)
    except DomainError:
        return None
    return Area(place.city, place.state, timezone=place.timezone) if place.city and place.state else None


def service_areas(session: Session, service_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Area]:
    """The first service area of each listing that names a place we can find."""
    ids = list(service_ids)
    stmt = select(ServiceArea.service_id, ServiceArea.name).where(col(ServiceArea.service_id).in_(ids))
    found: dict[uuid.UUID, Area] = {}
    for service_id, name in session.exec(stmt.order_by(col(ServiceArea.id))):
        area = area_named(name) if name else None
        if area is not None and service_id is not None:
            found.setdefault(service_id, area)
    return found


def organization_areas(session: Session, organization_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Area]:
    """Each organization's first public place with a city and state (an online group's home base)."""
    ids = list(organization_ids)
    stmt = (
        sa_select(
            col(Location.organization_id),
            col(Address.city),
            col(Address.state_province),
            col(Address.region),
            col(Location.timezone),
        )
        .join(Address, col(Address.location_id) == Location.id)
        .where(col(Location.organization_id).in_(ids), col(Address.city) != "", col(Address.state_province) != "")
        .order_by(col(Location.id))
    )
    found: dict[uuid.UUID, Area] = {}
    for org_id, city, state, region, zone in session.execute(stmt):
        if org_id is not None:
            found.setdefault(org_id, Area(city, state, region, zone))
    return found


@lru_cache(maxsize=4096)
def area_near(latitude: float, longitude: float) -> Area | None:
    """The town of the nearest ZIP centre: for a place that has a point but no address (some imports)."""
    found = OfflineGeocoder().reverse((latitude, longitude))
    raw = getattr(found, "raw", None) or {}
    city, state = str(raw.get("city") or ""), str(raw.get("state") or "")
    return Area(city, state, timezone=raw.get("timezone") or None) if city and state else None


def zone_area(zone: str | None) -> Area | None:
    return area_named(ZONE_CITIES[zone]) if zone in ZONE_CITIES else None
