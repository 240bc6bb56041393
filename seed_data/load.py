"""Loading sample data: the curated file (through the service layer) and generated listings (in bulk).

Curated file shape (`seed_data/curated.json`)::

    {"about": "...",
     "organizations": [{
        "key": "slug",                       # unique; ids derive from "curated:<key>"
        "name": "...", "description": "...", "website": "https://...", "email": "...",
        "locations": [{                      # LocationIn fields; services refer to them by key
            "key": "slug", "name": "...", "latitude": 41.9, "longitude": -87.6,
            "timezone": "America/Chicago",
            "address": {"address_1": "...", "city": "...", "state_province": "IL", "postal_code": "60614"},
            "confidential_address": {"address_1": "...", "latitude": ..., "longitude": ...},   # optional
            "accessibility": ["wheelchair", "hearing_loop", "asl", ...]}],
        "services": [{                       # ListingIn fields, except as noted
            "key": "slug", "name": "...", "description": "...",
            "locations": ["location key", ...],          # keys of this organization's locations
            "timezone": "America/Denver",                # optional: defaults to the first location's
            "categories": ["food-bank"],                 # optional for meetings: the fellowship's category
            "schedules": [{"byday": ["TU"], "opens_at": "19:00", "closes_at": "20:00"}],
            "meeting": {"fellowship": "aa", "types": ["O", "D"], "attendance_mode": "hybrid",
                        "conference_url": "https://..."},   # present => kind "meeting"
            "languages": ["en", "es"], "cost_options": [{"kind": "sliding_scale"}],
            "phones": [{"number": "(312) 555-0101", "type": "voice"}],
            "status": "temporarily closed", "capacity": "waitlist", "capacity_note": "...",
            "assured_days_ago": 12,                      # -> assured_date = today - 12 days
            "reopening_in_days": 21,                     # -> reopening_date = today + 21 days
            "capacity_updated_days_ago": 3}]}]}          # -> capacity_updated_at, noon UTC that day

Dates are relative so the sample data never looks stale or expired except where it is meant to.
"""

import json
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from sqlalchemy import Connection, Table, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from core.clock import utcnow
from core.outbox import OutboxEvent
from directory.listings.rows import LOCATION_TABLES, SERVICE_TABLES, Row, listing_rows, service_id
from directory.listings.schemas import ListingIn, LocationIn, OrganizationIn
from directory.listings.service import ensure_taxonomy, upsert_listings
from directory.listings.taxonomy import FELLOWSHIPS
from seed_data.generate import generate

CURATED_PATH = Path(__file__).with_name("curated.json")
BATCH_SIZE = 2000
_ID_CHUNK = 500  # stays far below every SQLite build's bound-parameter limit
T = TypeVar("T")
_RELATIVE_DATES = {"assured_days_ago": ("assured_date", -1), "reopening_in_days": ("reopening_date", 1)}


def curated_listings(*, today: date | None = None, path: Path = CURATED_PATH) -> list[ListingIn]:
    """The curated sample listings, validated, with relative dates resolved against `today`."""
    data = json.loads(path.read_text(encoding="utf-8"))
    day = today or utcnow().date()
    listings: list[ListingIn] = []
    for org in data["organizations"]:
        org_in = OrganizationIn.model_validate(
            {k: v for k, v in org.items() if k not in ("locations", "services")} | {"key": f"curated:{org['key']}"}
        )
        places = {
            loc["key"]: LocationIn.model_validate(loc | {"key": f"curated:{loc['key']}"})
            for loc in org.get("locations", [])
        }
        listings += [_curated_listing(svc, org_in, places, day) for svc in org["services"]]
    return listings


def _curated_listing(svc: dict[str, Any], org: OrganizationIn, places: dict[str, LocationIn], day: date) -> ListingIn:
    data = dict(svc)
    try:
        locations = [places[key] for key in data.pop("locations", [])]
    except KeyError as exc:
        raise ValueError(f"service {svc['key']!r} refers to unknown location {exc.args[0]!r}") from exc
    for field, (target, sign) in _RELATIVE_DATES.items():
        if field in data:
            data[target] = day + sign * timedelta(days=data.pop(field))
    if "capacity_updated_days_ago" in data:
        updated = day - timedelta(days=data.pop("capacity_updated_days_ago"))
        data["capacity_updated_at"] = datetime.combine(updated, time(12), tzinfo=UTC)
    if "meeting" in data:
        data.setdefault("kind", "meeting")
        data.setdefault("categories", [FELLOWSHIPS[data["meeting"]["fellowship"]].category])
    if "timezone" not in data and locations:
        data["timezone"] = locations[0].timezone
    data.update(key=f"curated:{svc['key']}", organization=org, locations=locations)
    return ListingIn.model_validate(data)


def load_curated(*, session: Session) -> int:
    """Create or update the curated listings in one transaction; returns how many there are."""
    listings = curated_listings()
    upsert_listings(session=session, listings=listings)
    return len(listings)


def load_generated(
    *, engine: Engine, size: int, seed: int = 42, progress: bool = True, batch_size: int = BATCH_SIZE
) -> int:
    """Bulk-insert `size` generated listings; returns how many were new.

    One transaction per batch writes the rows of every table plus one outbox row per new service.
    Services (and shared organizations and locations) that already exist are skipped, so re-running
    with the same size and seed adds nothing, and a bigger size adds only the missing listings.
    """
    with Session(engine) as session:
        ensure_taxonomy(session=session)
    inserted = 0
    with _progress(enabled=progress) as bar:
        task = bar.add_task(f"Loading {size:,} generated listings", total=size)
        for batch in _batched(generate(size, seed), batch_size):
            with engine.begin() as conn:
                inserted += _insert_batch(conn, batch)
            bar.advance(task, len(batch))
    return inserted


def _progress(*, enabled: bool) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        disable=not enabled,
    )


def _batched(items: Iterable[ListingIn], size: int) -> Iterator[list[ListingIn]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _insert_batch(conn: Connection, batch: list[ListingIn]) -> int:
    new = _new_only(conn, "service", {service_id(listing.key): listing for listing in batch})
    if not new:
        return 0
    fresh = [listing_rows(listing) for listing in new]
    now = utcnow()
    tables: dict[str, list[Row]] = {name: [] for name in (*LOCATION_TABLES, *SERVICE_TABLES)}
    organizations = _new_only(conn, "organization", {r.organization["id"]: r.organization for r in fresh})
    places = _new_only(conn, "location", {loc.location_id: loc for r in fresh for loc in r.locations})
    for place in places:
        for name, rows in place.tables.items():
            tables[name] += rows
    for listing in fresh:
        for name, rows in listing.tables.items():
            tables[name] += rows
    _stamp(organizations, created_at=now, last_modified=now)
    _stamp(tables["location"], last_modified=now)
    _stamp(tables["service"], created_at=now, last_modified=now)
    _insert(conn, _table("organization"), organizations)
    for name, rows in tables.items():
        _insert(conn, _table(name), rows)
    outbox = [{"entity": "service", "entity_id": r.service_id, "created_at": now, "attempts": 0} for r in fresh]
    _insert(conn, _table(OutboxEvent.__tablename__), outbox)
    return len(fresh)


def _new_only(conn: Connection, table: str, by_id: dict[uuid.UUID, T]) -> list[T]:
    """The values whose id is not yet in `table` (ids are unique within `by_id` already)."""
    ids = list(by_id)
    id_column = _table(table).c.id
    existing: set[uuid.UUID] = set()
    for start in range(0, len(ids), _ID_CHUNK):
        chunk = ids[start : start + _ID_CHUNK]
        existing.update(conn.execute(select(id_column).where(id_column.in_(chunk))).scalars())
    return [value for key, value in by_id.items() if key not in existing]


def _stamp(rows: list[Row], **values: datetime) -> None:
    for row in rows:
        row.update(values)


def _table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


def _insert(conn: Connection, table: Table, rows: list[Row]) -> None:
    if rows:
        conn.execute(table.insert(), rows)
