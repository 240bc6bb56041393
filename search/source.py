"""What the document builders read, loaded fast: SQLAlchemy Core rows of only the columns they use.

`directory.listings.queries.load_listings` builds ORM objects for the pages; building a search document from them
cost about 1 ms, so a full reindex was mostly Python. This loader fills the same `ListingDetail` with Core
rows instead: the builders only read attributes, and a Core row of these columns carries the same names
and Python types as the ORM object (ids as UUID, dates as date, `types` as a list). A test checks that
both paths build identical documents. The `cast`s below state that stand-in; nothing here writes.

Privacy: like `load_listings`, it never reads `confidential_address`, and it reads no phone numbers.
"""

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, cast

from sqlalchemy import Row, String, select, type_coerce
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from directory.listings.details import Accessibility, Attribute, CostOption, Language, TaxonomyTerm
from directory.listings.models import Address, Location, Meeting, Organization, Schedule, Service, ServiceAtLocation
from directory.listings.queries import ListingDetail, PlaceDetail, schedule_key


def _c(model: Any) -> Any:
    """A table's columns (`Model.__table__.c`; SQLModel does not type `__table__`)."""
    return model.__table__.c


def _cols(model: Any, *names: str) -> list[ColumnElement[Any]]:
    return [_c(model)[name] for name in names]


def _raw(column: Any, label: str | None = None) -> ColumnElement[Any]:
    """An id column as the driver returns it, without building a UUID per row (join keys only)."""
    return type_coerce(column, String()).label(label or column.name)


_SERVICE = _cols(
    Service,
    "id",  # first: the filter below uses it
    "organization_id",
    "kind",
    "name",
    "alternate_name",
    "description",
    "status",
    "capacity",
    "capacity_note",
    "reopening_date",
    "assured_date",
    "created_at",
)
SERVICE = [*_SERVICE, _raw(_c(Service).id, "raw_id")]
ORGANIZATION = _cols(Organization, "id", "name", "alternate_name")
_SAL = _c(ServiceAtLocation)
PLACE = [_raw(_SAL.service_id), _raw(_SAL.location_id), _SAL.id.label("service_at_location_id")]
_LOCATION = _cols(Location, "name", "latitude", "longitude", "timezone", "coordinates_approximate", "is_confidential")
LOCATION = [_raw(_c(Location).id), *_LOCATION]
_ADDRESS = _cols(Address, "address_1", "address_2", "city", "state_province", "postal_code", "region")
ADDRESS = [_raw(_c(Address).location_id), *_ADDRESS]
_SCHEDULE = _cols(Schedule, "freq", "byday", "opens_at", "closes_at", "valid_from", "valid_to", "timezone")
SCHEDULE = [_raw(_c(Schedule).service_id), *_SCHEDULE]
_MEETING = _cols(Meeting, "fellowship", "group_name", "types", "attendance_mode")
MEETING = [_raw(_c(Meeting).service_id), *_MEETING]


def _grouped(rows: Iterable[Row[Any]]) -> dict[Any, list[Any]]:
    """Rows grouped by their first column (a raw id)."""
    grouped: dict[Any, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[row[0]].append(row)
    return grouped


def load_sources(conn: Connection, service_ids: Sequence[uuid.UUID]) -> list[ListingDetail]:
    """The listings of these services (missing ones left out), in the order asked, one query per table."""
    ids = list(dict.fromkeys(service_ids))
    services = {r.id: r for r in conn.execute(select(*SERVICE).where(SERVICE[0].in_(ids))).all()} if ids else {}
    if not services:
        return []
    org_ids = {r.organization_id for r in services.values()}
    orgs = {r.id: r for r in conn.execute(select(*ORGANIZATION).where(ORGANIZATION[0].in_(org_ids))).all()}
    places = _places(conn, ids)
    schedules = _grouped(conn.execute(select(*SCHEDULE).where(_c(Schedule).service_id.in_(ids))).all())
    meeting_owner = _c(Meeting).service_id
    meetings = {r.service_id: r for r in conn.execute(select(*MEETING).where(meeting_owner.in_(ids))).all()}
    languages = _codes(conn, _c(Language).service_id, "code", _c(Language).service_id.in_(ids))
    costs = _codes(conn, _c(CostOption).service_id, "kind", _c(CostOption).service_id.in_(ids))
    terms = _terms(conn, ids)
    return [
        ListingDetail(
            service=cast(Service, service),
            organization=cast(Organization, orgs[service.organization_id]),
            places=places.get(service.raw_id, []),
            schedules=cast(list[Schedule], sorted(schedules.get(service.raw_id, []), key=schedule_key)),
            meeting=cast(Meeting | None, meetings.get(service.raw_id)),
            categories=cast(list[TaxonomyTerm], terms.get(service.raw_id, [])),
            languages=cast(list[Language], languages.get(service.raw_id, [])),
            phones=[],
            costs=cast(list[CostOption], costs.get(service.raw_id, [])),
        )
        for service in (services.get(sid) for sid in ids)
        if service is not None
    ]


def _places(conn: Connection, ids: list[uuid.UUID]) -> dict[Any, list[PlaceDetail]]:
    """Each service's places (location, first address, accessibility codes), by the service's raw id."""
    links = _grouped(conn.execute(select(*PLACE).where(_SAL.service_id.in_(ids))).all())
    loc_ids = list({link.location_id for rows in links.values() for link in rows})
    if not loc_ids:
        return {}
    locations = {r.id: r for r in conn.execute(select(*LOCATION).where(_cast_in(_c(Location).id, loc_ids))).all()}
    address_owner = _c(Address).location_id
    addresses = _grouped(conn.execute(select(*ADDRESS).where(_cast_in(address_owner, loc_ids))).all())
    access_owner = _c(Accessibility).location_id
    access = _codes(conn, access_owner, "code", _cast_in(access_owner, loc_ids))
    return {
        service: [
            PlaceDetail(
                service_at_location_id=link.service_at_location_id,
                location=cast(Location, locations[link.location_id]),
                address=cast(Address | None, (addresses.get(link.location_id) or [None])[0]),
                accessibility=cast(list[Accessibility], access.get(link.location_id, [])),
            )
            for link in rows
        ]
        for service, rows in links.items()
    }


def _cast_in(column: Any, raw_ids: list[Any]) -> ColumnElement[bool]:
    """`column IN raw_ids`, for ids read raw (the same driver values, bound without conversion)."""
    return type_coerce(column, String()).in_(raw_ids)


def _codes(conn: Connection, owner: Any, name: str, where: ColumnElement[bool]) -> dict[Any, list[Any]]:
    """Rows with one attribute (`code` or `kind`, the column's own name), grouped by their owner's raw id."""
    return _grouped(conn.execute(select(_raw(owner), owner.table.c[name]).where(where)).all())


def _terms(conn: Connection, ids: list[uuid.UUID]) -> dict[Any, list[Any]]:
    attribute, term = _c(Attribute), _c(TaxonomyTerm)
    stmt = (
        select(_raw(attribute.link_id), term.code, term.name)
        .join(term.id.table, term.id == attribute.taxonomy_term_id)
        .where(attribute.link_id.in_(ids), attribute.link_entity == "service")
    )
    return _grouped(conn.execute(stmt).all())
