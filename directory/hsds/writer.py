"""The writing pass of an import: checked rows become inserts and updates, a batch at a time.

Rows are matched by id. A row that differs from the stored one is updated (only the fields the input
states); an identical one is left alone, so importing the same file twice changes nothing. Our extension
attributes are folded back into their columns and the meeting table; places without a point get an
approximate one; each schedule's HSDS offset becomes a named zone. The caller owns the transaction.
"""

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, update
from sqlmodel import Session, col

from core.outbox import OutboxEvent
from directory.hsds import extensions
from directory.hsds.bundle import CHUNK
from directory.hsds.ledger import Ledger, as_uuids
from directory.hsds.report import ImportReport
from directory.hsds.spec import BY_NAME, table_of
from directory.hsds.timezones import zone_for_offset
from directory.hsds.validate import columns
from directory.listings.geocoding import approximate_point, timezone_for
from directory.listings.models import Meeting

Row = dict[str, Any]
SELF_REFERENCES = {"organization": "parent_organization_id", "taxonomy_term": "parent_id"}
# Our export fills a required but empty description with the name; reading it back changes nothing.
DESCRIBED = frozenset({"organization", "program", "taxonomy", "taxonomy_term"})
CONFIDENTIAL_DECIMALS = 2  # the rounding of a confidential place's public point in our export
_OWNERS = (("service", "service_id"), ("location", "location_id"), ("organization", "organization_id"))
_STAMPED = ("created_at", "last_modified")


def _table(resource: str) -> Table:
    return table_of(BY_NAME[resource].model)


def _chunks(items: Iterable[Any], size: int = CHUNK) -> Iterable[list[Any]]:
    ordered = sorted(items, key=str)
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, datetime) and isinstance(new, datetime):
        return _utc(old) == _utc(new)
    return bool(old == new)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _merge(rows: list[Row]) -> list[Row]:
    """Rows of one batch with the same id become one (a body may state an object in several places)."""
    merged: dict[Any, Row] = {}
    for row in rows:
        target = merged.setdefault(row["id"], {})
        for name, value in row.items():
            if value is not None or name not in target:
                target[name] = value
    return list(merged.values())


class Writer:
    def __init__(self, session: Session, ledger: Ledger, report: ImportReport) -> None:
        self.session, self.ledger, self.report = session, ledger, report
        self.now = datetime.now(UTC)
        self.need_point: set[uuid.UUID] = set()
        self.deferred: dict[str, list[Row]] = defaultdict(list)
        # Owners (service, location, organization) of rows that were inserted or really changed: only their
        # services get an outbox row, so re-importing an unchanged export queues nothing.
        self.changed: dict[str, set[Any]] = defaultdict(set)

    # -- rows -----------------------------------------------------------------------------------------
    def write(self, resource: str, rows: list[Row]) -> None:
        rows = _merge(rows)
        if resource == "attribute":
            rows = self._apply_extensions(rows)
        prepared = [self._prepare(resource, row) for row in rows]
        if resource == "schedule":
            self._zones(prepared)
        self._upsert(resource, prepared)

    def finish_resource(self, resource: str) -> None:
        if deferred := self.deferred.pop(resource, None):
            self._update(_table(resource), deferred)
        if resource == "address":
            self._fix_points()

    def _prepare(self, resource: str, row: Row) -> Row:
        for name in [n for n in row if (resource, n) in self.ledger.dangling]:
            if row[name] is not None and row[name].int in self.ledger.dangling[(resource, name)]:
                row[name] = None
        if (self_ref := SELF_REFERENCES.get(resource)) and row.get(self_ref) is not None:
            # Parents may come later in the same file: link them once every row exists.
            self.deferred[resource].append({"b_id": row["id"], self_ref: row.pop(self_ref)})
        if resource == "phone" and row.get("extension") is not None:
            row["extension"] = str(row["extension"])
        if resource == "location" and row.get("latitude") is None:
            self.need_point.add(row["id"])
        return row

    @staticmethod
    def _place_zone(row: Row, old: Any) -> None:
        """A place's zone follows its point: set when the place is new, moved, or has none yet."""
        lat, lng = row.get("latitude"), row.get("longitude")
        if lat is None or lng is None:
            return
        if old is None or old["timezone"] is None or not (_same(old["latitude"], lat) and _same(old["longitude"], lng)):
            row["timezone"] = timezone_for(lat, lng)

    def _upsert(self, resource: str, rows: list[Row]) -> None:
        table = _table(resource)
        existing: dict[Any, Any] = {}
        for chunk in _chunks(r["id"] for r in rows):
            existing.update(
                (r.id, r._mapping) for r in self.session.execute(select(table).where(table.c.id.in_(chunk)))
            )
        inserts, updates = [], []
        for row in rows:
            old = existing.get(row["id"])
            if resource == "location":
                self._place_zone(row, old)
            if old is None:
                inserts.append(self._complete(resource, row))
                self._note(resource, row)
                continue
            _keep_stored(resource, row, old)
            changes = {k: self._value(resource, k, v) for k, v in row.items() if k != "id"}
            changes = {k: v for k, v in changes.items() if not _same(old[k], v)}
            if changes and "last_modified" in table.c and "last_modified" not in row:
                changes["last_modified"] = self.now
            if changes:
                updates.append({"b_id": row["id"], **changes})
                self._note(resource, row)
        counts = self.report.count(resource)
        counts.inserted += len(inserts)
        counts.updated += len(updates)
        counts.unchanged += len(rows) - len(inserts) - len(updates)
        if inserts:
            self.session.execute(insert(table), inserts)
        self._update(table, updates)

    def _note(self, resource: str, row: Row) -> None:
        if resource in ("service", "location", "organization"):
            self.changed[resource].add(row["id"])
        elif resource == "attribute" and row.get("link_entity") in ("service", "location", "organization"):
            self.changed[row["link_entity"]].add(row["link_id"])
        for owner, column in _OWNERS:
            if row.get(column) is not None:
                self.changed[owner].add(row[column])

    def _value(self, resource: str, name: str, value: Any) -> Any:
        column = columns(resource).get(name)
        if value is None and column is not None and not column.nullable:
            return column.default  # HSDS may leave out what our table keeps as an empty default
        return value

    def _complete(self, resource: str, row: Row) -> Row:
        full = {name: self._value(resource, name, row.get(name)) for name in columns(resource)}
        for stamp in _STAMPED:
            if stamp in full and row.get(stamp) is None:
                full[stamp] = self.now
        return full

    def _update(self, table: Table, updates: list[Row]) -> None:
        groups: dict[tuple[str, ...], list[Row]] = defaultdict(list)
        for change in updates:
            groups[tuple(sorted(change))].append(change)
        for keys, params in groups.items():
            if len(keys) > 1:
                self.session.execute(update(table).where(table.c.id == bindparam("b_id")), params)

    # -- time zones and points ------------------------------------------------------------------------
    def _zones(self, rows: list[Row]) -> None:
        places = self._place_zones(rows)
        table = _table("schedule")
        stmt = select(table.c.id, table.c.timezone).where(table.c.id.in_([r["id"] for r in rows]))
        stored: dict[Any, str] = {row_id: zone for row_id, zone in self.session.execute(stmt)}
        for row in rows:
            offset = row.get("timezone")
            opens = row.get("opens_at")
            if offset is None and isinstance(opens, time) and (shift := opens.utcoffset()) is not None:
                offset = shift.total_seconds() / 3600  # "09:00-05:00" says the offset itself
            for name in ("opens_at", "closes_at"):
                if isinstance(row.get(name), time):
                    row[name] = row[name].replace(tzinfo=None)
            # The zone already stored wins when it fits: an offset cannot tell two zones apart.
            row["timezone"] = zone_for_offset(offset, stored.get(row["id"]), places.get(row["id"]))

    def _place_zones(self, rows: list[Row]) -> dict[Any, str]:
        """The zone of each schedule's place: its location, its service-at-location's, or its service's."""
        sal = _table("service_at_location")
        wanted_sals = {r["service_at_location_id"] for r in rows if r.get("service_at_location_id")}
        sal_place = dict(self._pairs(select(sal.c.id, sal.c.location_id).where(sal.c.id.in_(wanted_sals))))
        wanted_services = {r["service_id"] for r in rows if r.get("service_id")}
        service_place: dict[Any, Any] = {}
        stmt = select(sal.c.service_id, sal.c.location_id).where(sal.c.service_id.in_(wanted_services))
        for service_id, location_id in self._pairs(stmt.order_by(sal.c.id)):
            service_place.setdefault(service_id, location_id)
        choice = {
            r["id"]: r.get("location_id")
            or sal_place.get(r.get("service_at_location_id"))
            or service_place.get(r.get("service_id"))
            for r in rows
        }
        zones = self._location_zones({v for v in choice.values() if v})
        return {row_id: zones[lid] for row_id, lid in choice.items() if zones.get(lid)}

    def _pairs(self, stmt: Any) -> list[tuple[Any, Any]]:
        return [(a, b) for a, b in self.session.execute(stmt)]

    def _location_zones(self, location_ids: set[Any]) -> dict[Any, str]:
        loc = _table("location")
        stmt = select(loc.c.id, loc.c.timezone, loc.c.latitude, loc.c.longitude).where(loc.c.id.in_(location_ids))
        zones: dict[Any, str] = {}
        for lid, zone, lat, lng in self.session.execute(stmt):
            found = zone or (timezone_for(lat, lng) if lat is not None and lng is not None else None)
            if found:
                zones[lid] = found
        return zones

    def _fix_points(self) -> None:
        loc, addr = _table("location"), _table("address")
        for chunk in _chunks(self.need_point):
            stmt = (
                select(loc.c.id, addr.c.postal_code, addr.c.city, addr.c.state_province)
                .join(addr, addr.c.location_id == loc.c.id)
                .where(loc.c.id.in_(chunk), loc.c.latitude.is_(None))
                .order_by(addr.c.id)
            )
            fixes: dict[Any, Row] = {}
            for lid, postal, city, state in self.session.execute(stmt):
                place = None if lid in fixes else approximate_point(postal_code=postal, city=city, state=state)
                if place is not None:
                    fixes[lid] = {
                        "b_id": lid, "latitude": place.latitude, "longitude": place.longitude,
                        "coordinates_approximate": True, "timezone": place.timezone or None,
                    }  # fmt: skip
            self._update(loc, list(fixes.values()))
            self.changed["location"] |= set(fixes)
        self.need_point.clear()

    # -- extensions and meetings ----------------------------------------------------------------------
    def _apply_extensions(self, rows: list[Row]) -> list[Row]:
        """Fold our extension attributes into their columns; return the attributes to store as rows."""
        stored, changes = [], defaultdict(list)
        for row in rows:
            term = row.get("taxonomy_term_id")
            if term not in extensions.TERM_IDS:
                stored.append(row)
                continue
            ext = extensions.BY_TERM.get(term)
            if ext is None or ext.table == "meeting" or row["link_id"].int in self.ledger.skipped_targets:
                continue  # meeting details are written from the ledger
            changes[ext.table].append({"b_id": row["link_id"], ext.column: extensions.decode(ext, row.get("value"))})
        for table, updates in changes.items():
            updates = self._differing(table, updates)
            self._note_owners(table, [u["b_id"] for u in updates])
            self._update(_table(table), updates)
        return stored

    def _note_owners(self, table_name: str, ids: list[Any]) -> None:
        """Note the service, place or organization owning these rows (the meeting extension is its service's)."""
        if table_name in ("service", "meeting", "location", "organization"):
            self.changed["service" if table_name == "meeting" else table_name] |= set(ids)
            return
        table = _table(table_name)
        owners = [(owner, table.c[column]) for owner, column in _OWNERS if column in table.c]
        for chunk in _chunks(ids):
            for row in self.session.execute(select(*(c for _, c in owners)).where(table.c.id.in_(chunk))):
                for (owner, _), value in zip(owners, row, strict=True):
                    if value is not None:
                        self.changed[owner].add(value)

    def _differing(self, table_name: str, updates: list[Row]) -> list[Row]:
        """The extension updates that change a stored value (the rest would write the same value again)."""
        table = _table(table_name)
        stored: dict[Any, Any] = {}
        for chunk in _chunks({u["b_id"] for u in updates}):
            stored.update((r.id, r._mapping) for r in self.session.execute(select(table).where(table.c.id.in_(chunk))))
        return [u for u in updates if u["b_id"] not in stored
                or any(not _same(stored[u["b_id"]][k], v) for k, v in u.items() if k != "b_id")]  # fmt: skip

    def write_meetings(self) -> None:
        meetings = {uuid.UUID(int=sid): values for sid, values in self.ledger.meetings.items()}
        for chunk in _chunks(meetings):
            stmt = select(Meeting).where(col(Meeting.service_id).in_(chunk))
            known = {m.service_id: m for m in self.session.execute(stmt).scalars()}
            inserts, updates = [], []
            for sid in chunk:
                values = dict(meetings[sid])
                values["types"] = list(dict.fromkeys(values.get("types", [])))
                if sid in known:
                    changes = {k: v for k, v in values.items() if getattr(known[sid], k) != v}
                    if changes:
                        updates.append({"b_id": known[sid].id, **changes})
                else:
                    inserts.append({**_MEETING_DEFAULTS, "id": uuid.uuid5(sid, "meeting"), "service_id": sid, **values})
            if inserts:
                self.session.execute(insert(_meeting_table()), inserts)
            self._update(_meeting_table(), updates)
            self.changed["service"] |= {i["service_id"] for i in inserts}
            self.changed["service"] |= {sid for sid in chunk if sid in known and any(
                u["b_id"] == known[sid].id for u in updates)}  # fmt: skip
            self._update(_table("service"), [{"b_id": sid, "kind": "meeting"} for sid in chunk])
            counts = self.report.count("meeting")
            counts.inserted += len(inserts)
            counts.updated += len(updates)
            counts.unchanged += len(chunk) - len(inserts) - len(updates)

    def record_changes(self) -> None:
        """An outbox row for every service whose data the import changed, in the import's transaction."""
        touched = {sid.int for sid in self.changed["service"]}
        sal, service = _table("service_at_location"), _table("service")
        places = {lid.int for lid in self.changed["location"]}
        touched |= self._services(select(sal.c.service_id), sal.c.location_id, places)
        of_organizations = {oid.int for oid in self.changed["organization"]}
        touched |= self._services(select(service.c.id), service.c.organization_id, of_organizations)
        outbox = table_of(OutboxEvent)
        # The rows `core.outbox.record_change` adds, written in bulk: one ORM object per service would cost
        # a minute per 100,000 services.
        for chunk in _chunks(as_uuids(touched), 1000):
            rows = [{"entity": "service", "entity_id": sid, "created_at": self.now, "attempts": 0} for sid in chunk]
            self.session.execute(insert(outbox), rows)
        self.report.services_changed = len(touched)

    def _services(self, stmt: Any, column: Any, ids: set[int]) -> set[int]:
        found: set[int] = set()
        for chunk in _chunks(as_uuids(ids)):
            found |= {sid.int for sid in self.session.execute(stmt.where(column.in_(chunk))).scalars()}
        return found


_MEETING_DEFAULTS: dict[str, Any] = {
    "attendance_mode": "in_person", "conference_url": None, "conference_url_notes": None, "conference_phone": None,
    "conference_phone_notes": None, "group_name": None, "group_notes": None, "location_notes": None,
}  # fmt: skip


def _meeting_table() -> Table:
    return table_of(Meeting)


def _keep_stored(resource: str, row: Row, old: Any) -> None:
    """What an import gives in place of a stored value counts as that value, not as a change: the name
    standing in for an empty description, no point for a place we gave an approximate one, and a
    confidential place's withheld name, description and exact point (exported without them, or rounded)."""
    if (
        resource in DESCRIBED
        and not (old["description"] or "")
        and row.get("description") == row.get("name", old["name"])
    ):
        row["description"] = old["description"]
    if resource == "location" and old["coordinates_approximate"] and row.get("latitude") is None:
        row.pop("latitude", None)  # still no point given: the approximate one we placed it at stays
        row.pop("longitude", None)
    if resource != "location" or not old["is_confidential"]:
        return
    for name in ("name", "description", "alternate_name", "transportation"):
        if name in row and row[name] is None:
            row[name] = old[name]
    for name in ("latitude", "longitude"):
        if row.get(name) is not None and old[name] is not None and round(old[name], CONFIDENTIAL_DECIMALS) == row[name]:
            row[name] = old[name]
