"""Reads behind the HSDS API: filters, pages and streams of services, places, organizations and taxonomy.

Every list is ordered by id, counted with one query and filled with one batch load, so a page costs the
same few queries whatever its size. Streams (`format=ndjson`) walk the ids in keyset order.
"""

import math
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, func, or_
from sqlalchemy.sql import ColumnElement, Select
from sqlmodel import Session, col, select

from core.errors import ValidationFailed
from core.i18n import N_
from directory.hsds import bodies, extensions
from directory.hsds.bundle import load_organizations, load_services
from directory.hsds.serialize import Row, taxonomy_rows, term_rows
from directory.listings.details import Attribute, Taxonomy, TaxonomyTerm
from directory.listings.geocoding import approximate_point
from directory.listings.models import Address, Location, Meeting, Organization, Service, ServiceAtLocation

STREAM_BATCH = 500
METERS_PER_DEGREE = 111_320.0


@dataclass(frozen=True)
class Filters:
    search: str | None = None
    taxonomy_term_id: uuid.UUID | None = None
    taxonomy_id: uuid.UUID | None = None
    organization_id: uuid.UUID | None = None
    modified_after: datetime | None = None
    postcode: str | None = None
    proximity: float | None = None


@dataclass(frozen=True)
class PageRequest:
    page: int = 1
    per_page: int = 50


def page_body(contents: list[Row], total: int, request: PageRequest) -> Row:
    """The HSDS Page wrapper."""
    total_pages = math.ceil(total / request.per_page)
    return {
        "total_items": total, "total_pages": total_pages, "page_number": request.page, "size": len(contents),
        "first_page": request.page == 1, "last_page": request.page >= total_pages, "empty": not contents,
        "contents": contents,
    }  # fmt: skip


def _like(text: str) -> str:
    escaped = text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _matches(text: str, *columns: Any) -> ColumnElement[bool]:
    pattern = _like(text)
    return or_(*(func.lower(c).like(pattern, escape="\\") for c in columns))


def _term_filter(term_id: uuid.UUID) -> ColumnElement[bool]:
    code = extensions.TYPE_BY_TERM.get(term_id)
    if code is not None:  # a Meeting Guide type: meetings whose JSON list holds this code
        typed = select(Meeting.service_id).where(cast(Meeting.types, String).like(f'%"{code}"%'))
        return col(Service.id).in_(typed)
    linked = select(Attribute.link_id).where(Attribute.taxonomy_term_id == term_id, Attribute.link_entity == "service")
    return col(Service.id).in_(linked)


def _taxonomy_filter(taxonomy_id: uuid.UUID) -> ColumnElement[bool]:
    if taxonomy_id == extensions.MEETING_TYPES_TAXONOMY_ID:
        return col(Service.id).in_(select(Meeting.service_id))
    if taxonomy_id == extensions.EXTENSIONS_TAXONOMY_ID:
        return col(Service.id).is_not(None)
    linked = (
        select(Attribute.link_id)
        .join(TaxonomyTerm, col(TaxonomyTerm.id) == Attribute.taxonomy_term_id)
        .where(TaxonomyTerm.taxonomy_id == taxonomy_id, Attribute.link_entity == "service")
    )
    return col(Service.id).in_(linked)


def _near(filters: Filters) -> ColumnElement[bool] | None:
    """Locations near the postcode's centre (within `proximity` metres), or with that postcode."""
    if filters.proximity is not None and not filters.postcode:
        raise ValidationFailed(N_("proximity needs a postcode to measure from"), field="proximity")
    if not filters.postcode:
        return None
    if filters.proximity is None:
        prefix = filters.postcode.strip()[:10]
        return col(Location.id).in_(select(Address.location_id).where(col(Address.postal_code).startswith(prefix)))
    place = approximate_point(postal_code=filters.postcode, city=None, state=None)
    if place is None:
        raise ValidationFailed(N_("unknown postcode %(postcode)s", postcode=repr(filters.postcode)), field="postcode")
    degrees = filters.proximity / METERS_PER_DEGREE
    shrink = max(math.cos(math.radians(place.latitude)), 0.01)
    dlat = col(Location.latitude) - place.latitude
    dlng = (col(Location.longitude) - place.longitude) * shrink
    return (
        col(Location.latitude).between(place.latitude - degrees, place.latitude + degrees)
        & col(Location.longitude).between(place.longitude - degrees / shrink, place.longitude + degrees / shrink)
        & (dlat * dlat + dlng * dlng <= degrees * degrees)
    )


def _service_conditions(filters: Filters) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if filters.search:
        found.append(_matches(filters.search, Service.name, Service.alternate_name, Service.description))
    if filters.taxonomy_term_id:
        found.append(_term_filter(filters.taxonomy_term_id))
    if filters.taxonomy_id:
        found.append(_taxonomy_filter(filters.taxonomy_id))
    if filters.organization_id:
        found.append(col(Service.organization_id) == filters.organization_id)
    if filters.modified_after:
        found.append(col(Service.last_modified) >= filters.modified_after)
    return found


def services_query(filters: Filters) -> Select:
    stmt = select(Service.id).where(*_service_conditions(filters))
    near = _near(filters)
    if near is not None:
        places = select(ServiceAtLocation.service_id).join(Location, col(Location.id) == ServiceAtLocation.location_id)
        stmt = stmt.where(col(Service.id).in_(places.where(near)))
    return stmt


def service_at_locations_query(filters: Filters) -> Select:
    stmt = (
        select(ServiceAtLocation.id)
        .join(Service, col(Service.id) == ServiceAtLocation.service_id)
        .join(Location, col(Location.id) == ServiceAtLocation.location_id)
        .where(*_service_conditions(filters))
    )
    near = _near(filters)
    return stmt if near is None else stmt.where(near)


def organizations_query(search: str | None) -> Select:
    stmt = select(Organization.id)
    return stmt.where(_matches(search, Organization.name, Organization.alternate_name)) if search else stmt


def page_ids(session: Session, stmt: Select, request: PageRequest) -> tuple[list[uuid.UUID], int]:
    id_column = stmt.selected_columns[0]
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    offset = (request.page - 1) * request.per_page
    ids = session.exec(stmt.order_by(id_column).offset(offset).limit(request.per_page)).all()  # type: ignore[call-overload]
    return list(ids), int(total)


def stream_ids(session: Session, stmt: Select, batch: int = STREAM_BATCH) -> Iterator[list[uuid.UUID]]:
    """All ids of `stmt` in id order, a batch at a time (keyset pagination)."""
    id_column = stmt.selected_columns[0]
    last: uuid.UUID | None = None
    while True:
        page = stmt if last is None else stmt.where(id_column > last)
        ids = list(session.exec(page.order_by(id_column).limit(batch)).all())  # type: ignore[call-overload]
        if not ids:
            return
        yield ids
        last = ids[-1]


Renderer = Callable[[Session, Sequence[uuid.UUID]], list[Row]]


def render_services(*, full: bool = False, minimal: bool = False) -> Renderer:
    def render(session: Session, ids: Sequence[uuid.UUID]) -> list[Row]:
        b = load_services(session, ids, full=full)
        found = [b.rows[Service][i] for i in ids if i in b.rows[Service]]
        if minimal:
            return [_minimal(bodies.service_item(b, s)) for s in found]
        return [bodies.service(b, s) if full else bodies.service_item(b, s) for s in found]

    return render


def _minimal(item: Row) -> Row:
    return {k: item[k] for k in ("id", "name", "status", "last_modified") if k in item}


def render_service_at_locations(*, full: bool = False) -> Renderer:
    def render(session: Session, ids: Sequence[uuid.UUID]) -> list[Row]:
        sals = {s.id: s for s in session.exec(select(ServiceAtLocation).where(col(ServiceAtLocation.id).in_(ids)))}
        b = load_services(session, list({s.service_id for s in sals.values()}), full=full)
        if not full:
            b.load(Location, {s.location_id for s in sals.values()})
        render_one = bodies.service_at_location_full if full else bodies.service_at_location_item
        return [render_one(b, sals[i]) for i in ids if i in sals]

    return render


def render_organizations(*, full: bool = False, full_service: bool = False) -> Renderer:
    def render(session: Session, ids: Sequence[uuid.UUID]) -> list[Row]:
        if not (full or full_service):
            orgs = {o.id: o for o in session.exec(select(Organization).where(col(Organization.id).in_(ids)))}
            return [bodies.clean(bodies.hsds_row("organization", orgs[i])) for i in ids if i in orgs]
        b = load_organizations(session, ids, full_services=full_service)
        mode = "full" if full_service else "list"
        return [
            bodies.organization(b, b.rows[Organization][i], services=mode) for i in ids if i in b.rows[Organization]
        ]

    return render


def organization_body(session: Session, organization_id: uuid.UUID, *, full_service: bool) -> Row | None:
    found = render_organizations(full=True, full_service=full_service)(session, [organization_id])
    return found[0] if found else None


def one(session: Session, render: Renderer, row_id: uuid.UUID) -> Row | None:
    found = render(session, [row_id])
    return found[0] if found else None


# --- taxonomies: our constant extension taxonomies first, then the stored ones ------------------------


def taxonomies_page(session: Session, search: str | None, request: PageRequest) -> Row:
    constants = [t for t in taxonomy_rows() if not search or _like_text(search, t["name"])]
    stmt = select(Taxonomy).where(col(Taxonomy.id).not_in(extensions.TAXONOMY_IDS))
    if search:
        stmt = stmt.where(_matches(search, Taxonomy.name))
    render = lambda t: bodies.clean(bodies.hsds_row("taxonomy", t))  # noqa: E731
    return _union_page(session, constants, stmt.order_by(col(Taxonomy.id)), request, render)


def taxonomy_terms_page(session: Session, filters: "TermFilters", request: PageRequest) -> Row:
    constants = [t for t in term_rows() if _constant_term_matches(t, filters)]
    taxonomy_names = {t["id"]: t for t in taxonomy_rows()}
    stmt = select(TaxonomyTerm).where(*_term_conditions(filters))
    taxonomies = {t.id: t for t in session.exec(select(Taxonomy))}

    def stored(term: TaxonomyTerm) -> Row:
        return bodies.taxonomy_term(term, taxonomies.get(term.taxonomy_id) if term.taxonomy_id else None)

    items = [bodies.taxonomy_term(t, taxonomy_names.get(t["taxonomy_id"])) for t in constants]
    return _union_page(session, items, stmt.order_by(col(TaxonomyTerm.id)), request, stored)


@dataclass(frozen=True)
class TermFilters:
    search: str | None = None
    taxonomy_id: uuid.UUID | None = None
    parent_id: uuid.UUID | None = None
    top_only: bool = False


def _constant_term_matches(term: Row, f: TermFilters) -> bool:
    if f.parent_id is not None:
        return False  # our constant terms are flat
    if f.taxonomy_id is not None and str(f.taxonomy_id) != term["taxonomy_id"]:
        return False
    return not f.search or _like_text(f.search, term["name"], term.get("code") or "")


def _term_conditions(f: TermFilters) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = [col(TaxonomyTerm.id).not_in(extensions.TERM_IDS)]
    if f.search:
        found.append(_matches(f.search, TaxonomyTerm.name, TaxonomyTerm.code))
    if f.taxonomy_id is not None:
        found.append(col(TaxonomyTerm.taxonomy_id) == f.taxonomy_id)
    if f.parent_id is not None:
        found.append(col(TaxonomyTerm.parent_id) == f.parent_id)
    if f.top_only:
        # "Only terms that have no child terms", as the HSDS API describes it.
        children = select(TaxonomyTerm.parent_id).where(col(TaxonomyTerm.parent_id).is_not(None))
        found.append(col(TaxonomyTerm.id).not_in(children))
    return found


def _like_text(search: str, *values: str) -> bool:
    needle = search.strip().lower()
    return any(needle in v.lower() for v in values)


def _union_page(
    session: Session, constants: list[Row], stmt: Select, request: PageRequest, render: Callable[[Any], Row]
) -> Row:
    counted = stmt.order_by(None)
    stored_total = session.exec(select(func.count()).select_from(counted.subquery())).one()
    total = len(constants) + int(stored_total)
    start = (request.page - 1) * request.per_page
    head = constants[start : start + request.per_page]
    rest = request.per_page - len(head)
    rows: list[Any] = []
    if rest > 0:
        offset = max(0, start - len(constants))
        rows = list(session.exec(stmt.offset(offset).limit(rest)).all())  # type: ignore[call-overload]
    return page_body(head + [render(r) for r in rows], total, request)


def taxonomy_body(session: Session, taxonomy_id: uuid.UUID) -> Row | None:
    for row in taxonomy_rows():
        if row["id"] == str(taxonomy_id):
            return row
    found = session.get(Taxonomy, taxonomy_id)
    return None if found is None else bodies.clean(bodies.hsds_row("taxonomy", found))


def taxonomy_term_body(session: Session, term_id: uuid.UUID) -> Row | None:
    taxonomies = {t["id"]: t for t in taxonomy_rows()}
    for row in term_rows():
        if row["id"] == str(term_id):
            return bodies.taxonomy_term(row, taxonomies.get(row["taxonomy_id"]))
    term = session.get(TaxonomyTerm, term_id)
    if term is None:
        return None
    taxonomy = session.get(Taxonomy, term.taxonomy_id) if term.taxonomy_id else None
    return bodies.taxonomy_term(term, taxonomy)
