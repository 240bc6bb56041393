"""Batch loading for HSDS bodies: one query per table for a whole batch of services or organizations.

A `Bundle` holds rows by id and children grouped by their parent column. It never loads
`confidential_address`.
"""

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlmodel import Session, SQLModel, col, select

from directory.listings.details import (
    Accessibility,
    Attribute,
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

CHUNK = 900
Key = tuple[type[SQLModel], str]

SERVICE_CHILDREN: tuple[type[SQLModel], ...] = (
    Phone, Schedule, Language, CostOption, Funding, ServiceArea, RequiredDocument, Contact, Meeting,
)  # fmt: skip
SAL_CHILDREN: tuple[type[SQLModel], ...] = (Phone, Contact, Schedule)
LOCATION_CHILDREN: tuple[type[SQLModel], ...] = (Address, Accessibility, Phone, Language, Contact, Schedule)
ORGANIZATION_CHILDREN: tuple[type[SQLModel], ...] = (
    Program, OrganizationIdentifier, Funding, Contact, Phone, Location,
)  # fmt: skip


def fetch(session: Session, model: type[SQLModel], column: str, ids: Iterable[Any]) -> list[Any]:
    """Rows whose `column` is one of `ids`, in chunks that every database accepts."""
    wanted = sorted({i for i in ids if i is not None}, key=str)
    found: list[Any] = []
    attribute = getattr(model, column)
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        found.extend(session.exec(select(model).where(col(attribute).in_(chunk))).all())
    return found


class Bundle:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.rows: dict[type[SQLModel], dict[uuid.UUID, Any]] = defaultdict(dict)
        self.groups: dict[Key, dict[uuid.UUID, list[Any]]] = {}
        self.attributes: dict[uuid.UUID, list[Attribute]] = defaultdict(list)
        self.terms: dict[uuid.UUID, TaxonomyTerm] = {}
        self.taxonomies: dict[uuid.UUID, Taxonomy] = {}

    # -- access -------------------------------------------------------------------------------------
    def get(self, model: type[SQLModel], row_id: uuid.UUID | None) -> Any:
        return None if row_id is None else self.rows[model].get(row_id)

    def children(self, model: type[SQLModel], column: str, parent_id: uuid.UUID) -> list[Any]:
        return self.groups.get((model, column), {}).get(parent_id, [])

    # -- loading ------------------------------------------------------------------------------------
    def load(self, model: type[SQLModel], ids: Iterable[uuid.UUID]) -> list[Any]:
        rows = fetch(self.session, model, "id", ids)
        self.rows[model].update((r.id, r) for r in rows)
        return rows

    def load_children(self, model: type[SQLModel], column: str, parent_ids: Iterable[uuid.UUID]) -> list[Any]:
        rows = sorted(fetch(self.session, model, column, parent_ids), key=lambda r: str(r.id))
        grouped = self.groups.setdefault((model, column), defaultdict(list))
        for r in rows:
            grouped[getattr(r, column)].append(r)
            self.rows[model][r.id] = r
        return rows

    def load_attributes(self) -> None:
        linked = {i for rows in self.rows.values() for i in rows}
        attrs = sorted(fetch(self.session, Attribute, "link_id", linked), key=lambda a: str(a.id))
        for a in attrs:
            self.attributes[a.link_id].append(a)
        self.load_terms({a.taxonomy_term_id for a in attrs})

    def load_terms(self, term_ids: Iterable[uuid.UUID]) -> None:
        terms = fetch(self.session, TaxonomyTerm, "id", term_ids)
        self.terms.update((t.id, t) for t in terms)
        taxonomies = fetch(self.session, Taxonomy, "id", {t.taxonomy_id for t in terms})
        self.taxonomies.update((t.id, t) for t in taxonomies)


def load_services(session: Session, service_ids: Sequence[uuid.UUID], *, full: bool = True) -> Bundle:
    """Services with organization and program; with `full`, everything a full HSDS body shows."""
    b = Bundle(session)
    services = b.load(Service, service_ids)
    b.load(Organization, {s.organization_id for s in services})
    b.load(Program, {s.program_id for s in services})
    if full:
        sals = b.load_children(ServiceAtLocation, "service_id", service_ids)
        _load_places(b, {s.location_id for s in sals})
        for model in SAL_CHILDREN:
            b.load_children(model, "service_at_location_id", [s.id for s in sals])
        for model in SERVICE_CHILDREN:
            b.load_children(model, "service_id", service_ids)
        _load_nested_phones(b)
        b.load_attributes()
    return b


def load_organizations(
    session: Session, organization_ids: Sequence[uuid.UUID], *, services: bool = True, full_services: bool = False
) -> Bundle:
    b = Bundle(session)
    b.load(Organization, organization_ids)
    for model in ORGANIZATION_CHILDREN:
        b.load_children(model, "organization_id", organization_ids)
    _load_place_children(b, list(b.rows[Location]))
    _load_nested_phones(b)
    b.load_attributes()
    if services:
        ids = [s.id for s in b.load_children(Service, "organization_id", organization_ids)]
        if full_services and ids:
            nested = load_services(session, ids)
            merge(b, nested)
    return b


def load_locations(b: Bundle, location_ids: Iterable[uuid.UUID]) -> None:
    _load_places(b, location_ids)
    _load_nested_phones(b)


def _load_places(b: Bundle, location_ids: Iterable[uuid.UUID]) -> None:
    ids = list(location_ids)
    b.load(Location, ids)
    _load_place_children(b, ids)


def _load_place_children(b: Bundle, location_ids: list[uuid.UUID]) -> None:
    for model in LOCATION_CHILDREN:
        b.load_children(model, "location_id", location_ids)


def _load_nested_phones(b: Bundle) -> None:
    b.load_children(Phone, "contact_id", list(b.rows[Contact]))
    b.load_children(Language, "phone_id", list(b.rows[Phone]))


def merge(into: Bundle, other: Bundle) -> None:
    for model, by_id in other.rows.items():
        into.rows[model].update(by_id)
    for key, groups in other.groups.items():
        target = into.groups.setdefault(key, defaultdict(list))
        for parent, children in groups.items():
            target[parent] = children
    for link, attrs in other.attributes.items():
        into.attributes[link] = attrs
    into.terms.update(other.terms)
    into.taxonomies.update(other.taxonomies)
