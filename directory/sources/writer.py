"""Write many listings at once by comparing them with what is stored: a batch of reads, then only the
inserts, updates and deletes that differ. The same rules as `directory.service.upsert_listings` (rows by
deterministic id, rows a listing no longer has are deleted, outbox rows for every service whose public
data changed), but thousands of times fewer round trips, so a daily sync of a 2,000-meeting feed takes
seconds, and an unchanged feed reads and writes nothing but the comparison.
"""

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from core.clock import utcnow
from core.errors import Conflict
from core.i18n import N_
from core.outbox import record_change
from directory.listings.models import Service, ServiceAtLocation
from directory.listings.rows import LOCATION_TABLES, SERVICE_TABLES, ListingRows, Row, listing_rows
from directory.listings.schemas import ListingIn
from directory.listings.service import _PRIMARY_KEY, MODELS, _same

CHUNK = 500
_NEVER_UPDATED = frozenset({"created_at", "last_modified"})
_STAMPED = frozenset({"organization", "location", "service"})  # tables with created_at / last_modified


def write_listings(*, session: Session, listings: Sequence[ListingIn]) -> list[uuid.UUID]:
    """Create, update or leave each listing; commits once. Returns the ids of services that changed."""
    rows = [listing_rows(listing) for listing in listings]
    conn = session.connection()
    try:
        changed_orgs, changed_locations, changed_services = _apply(conn, rows)
        changed = set(changed_services)
        changed |= _owned(conn, Service.__table__, Service.__table__.c.organization_id, changed_orgs, "id")  # type: ignore[attr-defined]
        sal = ServiceAtLocation.__table__  # type: ignore[attr-defined]
        changed |= _owned(conn, sal, sal.c.location_id, changed_locations, "service_id")
        record_change(session, sorted(changed))
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(N_("listing conflicts with existing data: %(orig)s", orig=exc.orig)) from exc
    except Exception:
        session.rollback()
        raise
    return sorted(changed)


def _apply(conn: Connection, rows: list[ListingRows]) -> tuple[set[Any], set[Any], set[Any]]:
    orgs = {r.organization["id"]: r.organization for r in rows}
    changed_orgs = _sync_table(conn, "organization", "id", {k: [v] for k, v in orgs.items()})
    locations: dict[str, dict[Any, list[Row]]] = defaultdict(dict)
    services: dict[str, dict[Any, list[Row]]] = defaultdict(dict)
    for listing in rows:
        for loc in listing.locations:
            for name in LOCATION_TABLES:
                locations[name][loc.location_id] = loc.tables.get(name, [])
        for name in SERVICE_TABLES:
            services[name][listing.service_id] = listing.tables.get(name, [])
    changed_locations: set[Any] = set()
    for name, owner in LOCATION_TABLES.items():
        changed_locations |= _sync_table(conn, name, owner, locations[name])
    changed_services: set[Any] = set()
    for name, owner in SERVICE_TABLES.items():
        changed_services |= _sync_table(conn, name, owner, services[name])
    return changed_orgs, changed_locations, changed_services


def _sync_table(conn: Connection, name: str, owner: str, wanted: dict[Any, list[Row]]) -> set[Any]:
    """Make the rows of `name` owned by each key of `wanted` exactly those given; returns changed owners."""
    table: Table = MODELS[name].__table__  # type: ignore[attr-defined]
    pk = _PRIMARY_KEY.get(name, "id")
    stored = _stored(conn, table, owner, list(wanted), name)
    inserts: list[Row] = []
    defaults: dict[str, Row] = {}
    changed: set[Any] = set()
    now = utcnow()
    for owner_id, rows in wanted.items():
        keep = set()
        for row in rows:
            keep.add(row[pk])
            current = stored.pop(row[pk], None)
            if current is None:
                inserts.append(_complete(name, row, now, defaults))
                changed.add(owner_id)
                continue
            diff = {c: v for c, v in row.items() if c not in _NEVER_UPDATED and not _same(current[c], v)}
            if diff:
                if name in _STAMPED:
                    diff["last_modified"] = now
                conn.execute(update(table).where(table.c[pk] == row[pk]).values(**diff))
                changed.add(owner_id)
    stale = list(stored.items())  # rows stored under these owners that no listing has now
    for start in range(0, len(stale), CHUNK):
        chunk = stale[start : start + CHUNK]
        conn.execute(delete(table).where(table.c[pk].in_([k for k, _ in chunk])))
        changed |= {r[owner] for _, r in chunk}
    for start in range(0, len(inserts), CHUNK):
        conn.execute(insert(table), inserts[start : start + CHUNK])
    return changed


def _stored(conn: Connection, table: Table, owner: str, owners: list[Any], name: str) -> dict[Any, dict[str, Any]]:
    pk = _PRIMARY_KEY.get(name, "id")
    found: dict[Any, dict[str, Any]] = {}
    for start in range(0, len(owners), CHUNK):
        stmt = select(table).where(table.c[owner].in_(owners[start : start + CHUNK]))
        if name == "attribute":  # only a service's own category links belong to the listing
            stmt = stmt.where(table.c.link_entity == "service")
        found.update({row[pk]: dict(row) for row in conn.execute(stmt).mappings()})
    return found


def _complete(name: str, row: Row, now: Any, defaults: dict[str, Row]) -> Row:
    """The row with every column's default filled in, as the ORM would on insert."""
    if name not in defaults:  # building a model per row is slow; the defaults are the same for every row
        model = MODELS[name]
        obj = model(**row)
        defaults[name] = {c.name: getattr(obj, c.name) for c in model.__table__.columns}  # type: ignore[attr-defined]
    full = {**defaults[name], **row}
    for stamp in ("created_at", "last_modified"):
        if stamp in full:  # a location has no created_at
            full[stamp] = now
    return full


def _owned(conn: Connection, table: Table, column: Any, owners: Iterable[Any], select_column: str) -> set[Any]:
    ids = list(owners)
    found: set[Any] = set()
    for start in range(0, len(ids), CHUNK):
        stmt = select(table.c[select_column]).where(column.in_(ids[start : start + CHUNK]))
        found |= set(conn.execute(stmt).scalars())
    return found
