"""Writing listings: the category taxonomy and idempotent listing upserts.

Every function is keyword-only, raises domain errors from `core.errors` and commits once at the end of its
use case. Every service whose public data changes gets an outbox row in the same transaction.
"""

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, select

from core.clock import utcnow
from core.errors import Conflict
from core.i18n import N_
from core.outbox import record_change
from directory.listings.details import (
    Accessibility,
    Attribute,
    CostOption,
    Language,
    ServiceArea,
    Taxonomy,
    TaxonomyTerm,
)
from directory.listings.models import (
    Address,
    ConfidentialAddress,
    Location,
    Meeting,
    Organization,
    Phone,
    Schedule,
    Service,
    ServiceAtLocation,
)
from directory.listings.rows import LOCATION_TABLES, SERVICE_TABLES, ListingRows, Row, listing_rows
from directory.listings.schemas import ListingIn
from directory.listings.taxonomy import (
    TAXONOMY_DESCRIPTION,
    TAXONOMY_ID,
    TAXONOMY_NAME,
    TAXONOMY_VERSION,
    TERMS,
)

MODELS: dict[str, type[SQLModel]] = {
    "organization": Organization,
    "location": Location,
    "address": Address,
    "confidential_address": ConfidentialAddress,
    "accessibility": Accessibility,
    "service": Service,
    "service_at_location": ServiceAtLocation,
    "schedule": Schedule,
    "meeting": Meeting,
    "phone": Phone,
    "language": Language,
    "cost_option": CostOption,
    "attribute": Attribute,
    "service_area": ServiceArea,
}
_PRIMARY_KEY: dict[str, str] = {"confidential_address": "location_id"}
_NEVER_UPDATED = frozenset({"created_at"})


def ensure_taxonomy(*, session: Session) -> None:
    """Create or update our category taxonomy and all its terms (safe to run any number of times)."""
    _write_taxonomy(session)
    session.commit()


def upsert_listing(*, session: Session, listing: ListingIn) -> uuid.UUID:
    """Create or update one listing; returns the service id."""
    return upsert_listings(session=session, listings=[listing])[0]


def upsert_listings(*, session: Session, listings: Iterable[ListingIn]) -> list[uuid.UUID]:
    """Create or update listings in one transaction; returns their service ids in input order.

    Rows are matched by their deterministic ids: changed rows are updated, rows the listing no longer has
    (a dropped phone, schedule or category) are deleted, nothing is duplicated. Raises `Conflict` when a
    meeting slug already belongs to another service.
    """
    rows = [listing_rows(listing) for listing in listings]
    try:
        _ensure_terms(session, rows)
        changed: set[uuid.UUID] = set()
        for listing in rows:
            changed |= _write_listing(session, listing)
        record_change(session, sorted(changed))
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(N_("listing conflicts with existing data: %(orig)s", orig=exc.orig)) from exc
    except Exception:
        session.rollback()
        raise
    return [r.service_id for r in rows]


def _write_taxonomy(session: Session) -> None:
    _upsert(
        session,
        "taxonomy",
        Taxonomy,
        {
            "id": TAXONOMY_ID,
            "name": TAXONOMY_NAME,
            "description": TAXONOMY_DESCRIPTION,
            "version": TAXONOMY_VERSION,
        },
    )
    session.flush()
    for t in TERMS:  # parents precede children, and the ORM inserts one table in the order added
        _upsert(
            session,
            "taxonomy_term",
            TaxonomyTerm,
            {
                "id": t.id,
                "code": t.code,
                "name": t.name,
                "description": t.description,
                "parent_id": t.parent_id,
                "taxonomy": TAXONOMY_NAME,
                "language": "en",
                "taxonomy_id": TAXONOMY_ID,
            },
        )
    session.flush()


def _ensure_terms(session: Session, rows: list[ListingRows]) -> None:
    needed = {a["taxonomy_term_id"] for r in rows for a in r.tables["attribute"]}
    if not needed:
        return
    present = set(session.exec(select(TaxonomyTerm.id).where(col(TaxonomyTerm.id).in_(needed))).all())
    if present != needed:
        _write_taxonomy(session)


def _write_listing(session: Session, rows: ListingRows) -> set[uuid.UUID]:
    """Write one listing's rows; returns the ids of every service whose public data changed."""
    sid = rows.service_id
    changed: set[uuid.UUID] = set()
    if _upsert(session, "organization", Organization, rows.organization):
        changed |= _services_of_organization(session, rows.organization["id"])
    session.flush()
    for loc in rows.locations:
        if _write_group(session, loc.location_id, loc.tables, LOCATION_TABLES):
            changed |= _services_at(session, loc.location_id)
    _check_slug(session, sid, rows.tables["meeting"])
    if _write_group(session, sid, rows.tables, SERVICE_TABLES):
        changed.add(sid)
        _touch(session, sid)
    return changed


def _touch(session: Session, sid: uuid.UUID) -> None:
    # A changed schedule, meeting or phone row is a change of the listing: feeds publish it as `updated`.
    service = session.get(Service, sid)
    if service is not None:
        service.last_modified = utcnow()


def _write_group(session: Session, owner_id: uuid.UUID, tables: dict[str, list[Row]], owners: dict[str, str]) -> bool:
    changed = False
    for name, owner_column in owners.items():
        model = MODELS[name]
        for row in tables.get(name, []):
            changed |= _upsert(session, name, model, row)
        if owner_column != "id":
            keep = [row[_PRIMARY_KEY.get(name, "id")] for row in tables.get(name, [])]
            changed |= _delete_stale(session, name, model, owner_column, owner_id, keep)
        session.flush()
    return changed


def _upsert(session: Session, name: str, model: type[SQLModel], row: Row) -> bool:
    obj = session.get(model, row[_PRIMARY_KEY.get(name, "id")])
    if obj is None:
        session.add(model(**row))
        return True
    changed = False
    for column, value in row.items():
        if column in _NEVER_UPDATED or _same(getattr(obj, column), value):
            continue
        setattr(obj, column, value)
        changed = True
    if changed and hasattr(obj, "last_modified"):
        obj.last_modified = utcnow()
    return changed


def _delete_stale(
    session: Session, name: str, model: type[SQLModel], owner_column: str, owner_id: uuid.UUID, keep: list[Any]
) -> bool:
    pk = getattr(model, _PRIMARY_KEY.get(name, "id"))
    stmt = delete(model).where(getattr(model, owner_column) == owner_id, pk.not_in(keep))
    if model is Attribute:
        stmt = stmt.where(col(Attribute.link_entity) == "service")
    result = session.execute(stmt)
    return bool(getattr(result, "rowcount", 0))


def _services_of_organization(session: Session, org_id: uuid.UUID) -> set[uuid.UUID]:
    return set(session.exec(select(Service.id).where(Service.organization_id == org_id)).all())


def _services_at(session: Session, location_id: uuid.UUID) -> set[uuid.UUID]:
    stmt = select(ServiceAtLocation.service_id).where(ServiceAtLocation.location_id == location_id)
    return set(session.exec(stmt).all())


def _check_slug(session: Session, sid: uuid.UUID, meetings: list[Row]) -> None:
    for row in meetings:
        stmt = select(Meeting.service_id).where(Meeting.slug == row["slug"], Meeting.service_id != sid)
        if session.exec(stmt).first() is not None:
            raise Conflict(
                N_("the meeting slug %(slug)s is already used by another meeting", slug=repr(row["slug"])),
                field="slug",
            )


def _same(current: Any, new: Any) -> bool:
    if isinstance(current, datetime) and isinstance(new, datetime):
        return _as_utc(current) == _as_utc(new)
    return bool(current == new)


def _as_utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything we store is UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
