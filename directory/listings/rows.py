"""Turns a `ListingIn` into plain row dicts, one list per table, with deterministic ids.

Pure (no database): the service layer writes these rows through the ORM one listing at a time, the seed
loader inserts them in bulk with SQLAlchemy Core. Timestamps are left out; the writer sets them.
Ids are uuid5 values of the stable keys, so the same input always yields the same rows.
"""

import re
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import zipcodes

from directory.listings.codes import ACCESSIBILITY_LABELS, LANGUAGE_NAMES
from directory.listings.schemas import ListingIn, LocationIn
from directory.listings.taxonomy import term_id

Row = dict[str, Any]

DIRECTORY_NAMESPACE = uuid.UUID("3b5f7a0e-8d2c-5e41-b6a9-0c1d2e3f4a5b")

# Insert order (parents first). Each child table is owned by the column named here.
LOCATION_TABLES: dict[str, str] = {
    "location": "id",
    "address": "location_id",
    "confidential_address": "location_id",
    "accessibility": "location_id",
}
SERVICE_TABLES: dict[str, str] = {
    "service": "id",
    "service_at_location": "service_id",
    "schedule": "service_id",
    "meeting": "service_id",
    "phone": "service_id",
    "language": "service_id",
    "cost_option": "service_id",
    "attribute": "link_id",
    "service_area": "service_id",
}


def organization_id(key: str) -> uuid.UUID:
    return uuid.uuid5(DIRECTORY_NAMESPACE, f"organization:{key}")


def service_id(key: str) -> uuid.UUID:
    return uuid.uuid5(DIRECTORY_NAMESPACE, f"service:{key}")


def location_id(key: str) -> uuid.UUID:
    return uuid.uuid5(DIRECTORY_NAMESPACE, f"location:{key}")


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:200] or "meeting"


@lru_cache(maxsize=4096)
def zip_centre(postal_code: str) -> tuple[float, float] | None:
    """Latitude and longitude of a US ZIP code's centre, from the bundled `zipcodes` data."""
    try:
        found = zipcodes.matching(postal_code[:5])
    except (TypeError, ValueError):
        return None
    if not found or not found[0].get("lat"):
        return None
    lat, lng = float(found[0]["lat"]), float(found[0]["long"])
    return None if lat == 0 and lng == 0 else (lat, lng)


@dataclass(slots=True)
class LocationRows:
    location_id: uuid.UUID
    tables: dict[str, list[Row]] = field(default_factory=dict)


@dataclass(slots=True)
class ListingRows:
    service_id: uuid.UUID
    organization: Row
    locations: list[LocationRows]
    tables: dict[str, list[Row]]


def listing_rows(listing: ListingIn) -> ListingRows:
    org = listing.organization
    org_id = org.id or organization_id(org.key)
    organization = {
        "id": org_id,
        "name": org.name,
        "alternate_name": org.alternate_name,
        "description": org.description,
        "website": org.website,
        "email": org.email,
    }
    locations = [_location_rows(loc, org_id, listing.timezone) for loc in listing.locations]
    sid = service_id(listing.key)
    tables = {
        "service": [_service_row(listing, sid, org_id)],
        "service_at_location": [
            {"id": uuid.uuid5(sid, f"sal:{loc.location_id}"), "service_id": sid, "location_id": loc.location_id}
            for loc in locations
        ],
        "schedule": _schedule_rows(listing, sid),
        "meeting": _meeting_rows(listing, sid),
        "phone": [
            {
                "id": uuid.uuid5(sid, f"phone:{i}"),
                "service_id": sid,
                "number": p.number,
                "extension": p.extension,
                "type": p.type,
                "description": p.description,
            }
            for i, p in enumerate(listing.phones)
        ],
        "language": [
            {
                "id": uuid.uuid5(sid, f"language:{code}"),
                "service_id": sid,
                "code": code,
                "name": LANGUAGE_NAMES.get(code),
            }
            for code in listing.languages
        ],
        "cost_option": [
            {
                "id": uuid.uuid5(sid, f"cost:{i}"),
                "service_id": sid,
                "kind": c.kind,
                "option": c.option,
                "amount": c.amount,
                "currency": c.currency or ("USD" if c.amount is not None else None),
                "amount_description": c.amount_description,
            }
            for i, c in enumerate(listing.cost_options)
        ],
        "attribute": [
            {
                "id": uuid.uuid5(sid, f"category:{code}"),
                "link_id": sid,
                "taxonomy_term_id": term_id(code),
                "link_type": "category",
                "link_entity": "service",
            }
            for code in listing.categories
        ],
        "service_area": []
        if listing.service_area is None
        else [{"id": uuid.uuid5(sid, "service_area"), "service_id": sid, "name": listing.service_area}],
    }
    return ListingRows(service_id=sid, organization=organization, locations=locations, tables=tables)


def _service_row(listing: ListingIn, sid: uuid.UUID, org_id: uuid.UUID) -> Row:
    return {
        "id": sid,
        "organization_id": org_id,
        "kind": listing.kind.value,
        "name": listing.name,
        "alternate_name": listing.alternate_name,
        "description": listing.description,
        "url": listing.url,
        "email": listing.email,
        "status": listing.status.value,
        "reopening_date": listing.reopening_date,
        "capacity": listing.capacity.value,
        "capacity_note": listing.capacity_note,
        "capacity_updated_at": listing.capacity_updated_at,
        "eligibility_description": listing.eligibility_description,
        "application_process": listing.application_process,
        "fees_description": listing.fees_description,
        "minimum_age": listing.minimum_age,
        "maximum_age": listing.maximum_age,
        "alert": listing.alert,
        "assured_date": listing.assured_date,
        "assurer_email": listing.assurer_email,
    }


def _location_rows(loc: LocationIn, org_id: uuid.UUID, default_tz: str) -> LocationRows:
    lid = location_id(loc.key)
    lat, lng, approximate = loc.latitude, loc.longitude, loc.coordinates_approximate
    if loc.confidential_address is not None and loc.address is not None:
        # The public point of a confidential location is only ever its ZIP centre.
        centre = zip_centre(loc.address.postal_code)
        lat, lng = centre if centre else (None, None)
        approximate = True
    rows = LocationRows(lid)
    rows.tables["location"] = [
        {
            "id": lid,
            "location_type": "physical",
            "organization_id": org_id,
            "name": loc.name,
            "description": loc.description,
            "transportation": loc.transportation,
            "latitude": lat,
            "longitude": lng,
            "timezone": loc.timezone or default_tz,
            "coordinates_approximate": approximate,
            "is_confidential": loc.is_confidential,
        }
    ]
    rows.tables["address"] = (
        []
        if loc.address is None
        else [
            {
                "id": uuid.uuid5(lid, "address"),
                "location_id": lid,
                "address_1": loc.address.address_1,
                "address_2": loc.address.address_2,
                "city": loc.address.city,
                "state_province": loc.address.state_province,
                "postal_code": loc.address.postal_code,
                "country": loc.address.country,
                "region": loc.address.region,
                "address_type": "physical",
            }
        ]
    )
    secret = loc.confidential_address
    rows.tables["confidential_address"] = (
        []
        if secret is None
        else [
            {
                "location_id": lid,
                "address_1": secret.address_1,
                "address_2": secret.address_2,
                "latitude": secret.latitude,
                "longitude": secret.longitude,
            }
        ]
    )
    rows.tables["accessibility"] = [
        {
            "id": uuid.uuid5(lid, f"accessibility:{code}"),
            "location_id": lid,
            "code": code,
            "description": ACCESSIBILITY_LABELS[code],
        }
        for code in loc.accessibility
    ]
    return rows


def _schedule_rows(listing: ListingIn, sid: uuid.UUID) -> list[Row]:
    return [
        {
            "id": uuid.uuid5(sid, f"schedule:{i}"),
            "service_id": sid,
            "timezone": listing.timezone,
            "freq": s.freq,
            "interval": 1,
            "byday": ",".join(s.byday),
            "opens_at": s.opens_at,
            "closes_at": s.closes_at,
            "description": s.description,
            "valid_from": s.valid_from,
            "valid_to": s.valid_to,
        }
        for i, s in enumerate(listing.schedules)
    ]


def _meeting_rows(listing: ListingIn, sid: uuid.UUID) -> list[Row]:
    m = listing.meeting
    if m is None:
        return []
    return [
        {
            "id": uuid.uuid5(sid, "meeting"),
            "service_id": sid,
            "slug": m.slug or slugify(listing.key),
            "fellowship": m.fellowship,
            "types": list(m.types),
            "attendance_mode": m.attendance_mode.value,
            "conference_url": m.conference_url,
            "conference_url_notes": m.conference_url_notes,
            "conference_phone": m.conference_phone,
            "conference_phone_notes": m.conference_phone_notes,
            "group_name": m.group_name,
            "group_notes": m.group_notes,
            "location_notes": m.location_notes,
            "source_id": m.source_id,
            "source_slug": m.source_slug,
            "source_updated": m.source_updated,
        }
    ]
