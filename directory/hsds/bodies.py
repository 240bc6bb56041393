"""Nested HSDS JSON bodies (service, service_at_location, organization, location, taxonomy term).

Built from a loaded `Bundle`, so a page of bodies costs a fixed number of queries. Arrays of the body's
own level are always present; deeper arrays only when they have items. Extension attributes (meetings,
time zones, capacity...) ride along in `attributes` with a small `taxonomy_term` object.
"""

from functools import lru_cache
from typing import Any

from directory.hsds.bundle import Bundle
from directory.hsds.serialize import Row, clean, extension_rows, hsds_row, term_rows
from directory.listings.details import (
    Accessibility,
    CostOption,
    Funding,
    Language,
    OrganizationIdentifier,
    RequiredDocument,
    ServiceArea,
    Taxonomy,
    TaxonomyTerm,
)
from directory.listings.models import (
    Address,
    Contact,
    Location,
    Meeting,
    Organization,
    Phone,
    Program,
    Schedule,
    Service,
    ServiceAtLocation,
)

_TERM_FIELDS = ("id", "code", "name", "description")


@lru_cache(maxsize=1)
def _constant_terms() -> dict[str, Row]:
    return {row["id"]: {k: row[k] for k in _TERM_FIELDS if row.get(k) is not None} for row in term_rows()}


def _attribute(row: Row, term: Row | None) -> Row:
    body = clean(row)
    if term is not None:
        body["taxonomy_term"] = term
    return body


def attributes(b: Bundle, table: str, obj: Any) -> list[Row]:
    """Stored attributes linked to this row, then our extension attributes of it."""
    found = []
    for a in b.attributes.get(obj.id, []):
        term = b.terms.get(a.taxonomy_term_id)
        brief = None if term is None else {k: v for k, v in clean(hsds_row("taxonomy_term", term)).items()
                                          if k in _TERM_FIELDS}  # fmt: skip
        found.append(_attribute(hsds_row("attribute", a), brief))
    extra = extension_rows(table, obj)
    if table == "service" and (meeting := _meeting(b, obj)) is not None:
        extra += extension_rows("meeting", meeting)
    constants = _constant_terms()
    found += [_attribute(row, constants.get(row["taxonomy_term_id"])) for row in extra]
    return found


def _meeting(b: Bundle, service: Service) -> Meeting | None:
    found = b.children(Meeting, "service_id", service.id)
    return found[0] if found else None


def _nested(body: Row, key: str, items: list[Row], always: bool = False) -> Row:
    if items or always:
        body[key] = items
    return body


def simple(b: Bundle, resource: str, obj: Any, **extra: Any) -> Row:
    body = clean(hsds_row(resource, obj, **extra))
    return _nested(body, "attributes", attributes(b, resource, obj))


def phone(b: Bundle, obj: Phone) -> Row:
    body = simple(b, "phone", obj)
    return _nested(body, "languages", [simple(b, "language", x) for x in b.children(Language, "phone_id", obj.id)])


def contact(b: Bundle, obj: Contact) -> Row:
    body = simple(b, "contact", obj)
    return _nested(body, "phones", [phone(b, p) for p in b.children(Phone, "contact_id", obj.id)])


def location(b: Bundle, obj: Location) -> Row:
    body = simple(b, "location", obj)
    secret = bool(obj.is_confidential)
    kids = {
        "languages": [simple(b, "language", x) for x in b.children(Language, "location_id", obj.id)],
        "addresses": [simple(b, "address", x, confidential=secret) for x in b.children(Address, "location_id", obj.id)],
        "contacts": [contact(b, x) for x in b.children(Contact, "location_id", obj.id)],
        "accessibility": [simple(b, "accessibility", x) for x in b.children(Accessibility, "location_id", obj.id)],
        "phones": [phone(b, x) for x in b.children(Phone, "location_id", obj.id)],
        "schedules": [simple(b, "schedule", x) for x in b.children(Schedule, "location_id", obj.id)],
    }  # fmt: skip
    for key, items in kids.items():
        _nested(body, key, items)
    return body


def service_at_location(b: Bundle, obj: ServiceAtLocation) -> Row:
    body = simple(b, "service_at_location", obj)
    column = "service_at_location_id"
    _nested(body, "contacts", [contact(b, x) for x in b.children(Contact, column, obj.id)])
    _nested(body, "phones", [phone(b, x) for x in b.children(Phone, column, obj.id)])
    _nested(body, "schedules", [simple(b, "schedule", x) for x in b.children(Schedule, column, obj.id)])
    place = b.get(Location, obj.location_id)
    if place is not None:
        body["location"] = location(b, place)
    return body


def _organization_brief(b: Bundle, organization_id: Any) -> Row | None:
    org = b.get(Organization, organization_id)
    return None if org is None else clean(hsds_row("organization", org))


def service_item(b: Bundle, obj: Service) -> Row:
    """A `/services` page item: the service's own fields with its organization and program."""
    body = clean(hsds_row("service", obj))
    if (org := _organization_brief(b, obj.organization_id)) is not None:
        body["organization"] = org
    if (program := b.get(Program, obj.program_id)) is not None:
        body["program"] = clean(hsds_row("program", program))
    return body


def service(b: Bundle, obj: Service, *, with_places: bool = True) -> Row:
    """A full `/services/{id}` body."""
    body = service_item(b, obj)
    sid = obj.id
    if with_places:
        body["service_at_locations"] = [
            service_at_location(b, x) for x in b.children(ServiceAtLocation, "service_id", sid)
        ]

    def own(model: Any) -> list[Any]:
        return b.children(model, "service_id", sid)

    lists = {
        "schedules": [simple(b, "schedule", x) for x in own(Schedule)],
        "phones": [phone(b, x) for x in own(Phone)],
        "languages": [simple(b, "language", x) for x in own(Language)],
        "cost_options": [simple(b, "cost_option", x) for x in own(CostOption)],
        "funding": [simple(b, "funding", x) for x in own(Funding)],
        "required_documents": [simple(b, "required_document", x) for x in own(RequiredDocument)],
        "service_areas": [simple(b, "service_area", x) for x in own(ServiceArea)],
        "contacts": [contact(b, x) for x in own(Contact)],
        "attributes": attributes(b, "service", obj),
    }
    for key, items in lists.items():
        _nested(body, key, items, always=True)
    return body


def service_at_location_item(b: Bundle, obj: ServiceAtLocation) -> Row:
    body = clean(hsds_row("service_at_location", obj))
    if (place := b.get(Location, obj.location_id)) is not None:
        body["location"] = clean(hsds_row("location", place))
    if (svc := b.get(Service, obj.service_id)) is not None:
        body["service"] = service_item(b, svc)
    return body


def service_at_location_full(b: Bundle, obj: ServiceAtLocation) -> Row:
    body = service_at_location(b, obj)
    if (svc := b.get(Service, obj.service_id)) is not None:
        body["service"] = service(b, svc, with_places=False)
    return body


def organization(b: Bundle, obj: Organization, *, services: str | None = "list") -> Row:
    """A full `/organizations/{id}` body; `services` is "list", "full" or None (left out)."""
    body = clean(hsds_row("organization", obj))
    oid = obj.id
    lists = {
        "funding": [simple(b, "funding", x) for x in b.children(Funding, "organization_id", oid)],
        "contacts": [contact(b, x) for x in b.children(Contact, "organization_id", oid)],
        "phones": [phone(b, x) for x in b.children(Phone, "organization_id", oid)],
        "locations": [location(b, x) for x in b.children(Location, "organization_id", oid)],
        "programs": [simple(b, "program", x) for x in b.children(Program, "organization_id", oid)],
        "organization_identifiers": [
            simple(b, "organization_identifier", x) for x in b.children(OrganizationIdentifier, "organization_id", oid)
        ],
        "attributes": attributes(b, "organization", obj),
    }  # fmt: skip
    if services is not None:
        found = b.children(Service, "organization_id", oid)
        lists["services"] = [service(b, s) if services == "full" else _service_brief(s) for s in found]
    for key, items in lists.items():
        _nested(body, key, items, always=True)
    return body


def _service_brief(obj: Service) -> Row:
    return clean(hsds_row("service", obj))


def taxonomy_term(term: TaxonomyTerm | Row, taxonomy: Taxonomy | Row | None) -> Row:
    body = clean(term if isinstance(term, dict) else hsds_row("taxonomy_term", term))
    if taxonomy is not None:
        body["taxonomy_detail"] = clean(taxonomy if isinstance(taxonomy, dict) else hsds_row("taxonomy", taxonomy))
    return body
