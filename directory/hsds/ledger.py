"""What the validating pass of an import learns: ids, references, meeting extensions, touched services.

Only ids and small values are kept, never rows, so a large dataset is checked in bounded memory: ids are
held as integers (`uuid.int`) and where a reference was seen as one packed integer (which file and field,
which row). `finish` resolves references against the import and the database: a dangling required
reference is an error; a dangling optional one is a warning and the writer leaves it empty.
"""

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from directory.hsds import extensions
from directory.hsds.bundle import CHUNK
from directory.hsds.report import ImportReport, Problem
from directory.hsds.serialize import is_constant
from directory.hsds.sources import SourceRow
from directory.hsds.spec import BY_NAME, table_of
from directory.hsds.validate import ALSO_REQUIRED
from directory.hsds.values import BadValue
from directory.listings.models import Meeting
from directory.listings.taxonomy import FELLOWSHIPS

ROW_BITS = 32


def as_uuids(ids: Iterable[int]) -> list[uuid.UUID]:
    return [uuid.UUID(int=i) for i in sorted(ids)]


@dataclass
class Ledger:
    ids: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    refs: dict[tuple[str, str], dict[int, int]] = field(default_factory=lambda: defaultdict(dict))
    dangling: dict[tuple[str, str], set[int]] = field(default_factory=dict)
    meetings: dict[int, dict[str, Any]] = field(default_factory=dict)
    meeting_at: dict[int, int] = field(default_factory=dict)
    ext_targets: dict[str, dict[int, int]] = field(default_factory=lambda: defaultdict(dict))
    skipped_targets: set[int] = field(default_factory=set)
    services: set[int] = field(default_factory=set)
    _places: dict[tuple[str, str], int] = field(default_factory=dict)
    _place_list: list[tuple[str, str]] = field(default_factory=list)
    _pairs: dict[tuple[int, int], int] = field(default_factory=dict)

    # -- where things were seen: one integer per sighting ---------------------------------------------
    def _locate(self, src: SourceRow, name: str) -> int:
        place = (src.file, f"{src.pointer}/{name}" if src.pointer else name)
        index = self._places.get(place)
        if index is None:
            index = self._places[place] = len(self._place_list)
            self._place_list.append(place)
        return (index << ROW_BITS) | (src.row or 0)

    def problem(self, locator: int, message: str, severity: str = "error") -> Problem:
        file, where = self._place_list[locator >> ROW_BITS]
        row = locator & ((1 << ROW_BITS) - 1)
        return Problem(file, row or None, where, message, severity)  # type: ignore[arg-type]

    # -- the validating pass --------------------------------------------------------------------------
    def note(self, src: SourceRow, typed: dict[str, Any], report: ImportReport) -> None:
        row_id = typed.get("id")
        if row_id is None or is_constant(src.resource, row_id):
            return
        known = self.ids[src.resource]
        if src.tabular and row_id.int in known:
            report.add(Problem(src.file, src.row, "id", f"id {row_id} appears twice"))
        known.add(row_id.int)
        for ref in BY_NAME[src.resource].refs:
            if (value := typed.get(ref.name)) is not None and value.int not in self.refs[(src.resource, ref.name)]:
                self.refs[(src.resource, ref.name)][value.int] = self._locate(src, ref.name)
        if src.resource == "service":
            self.services.add(row_id.int)
        elif (service_id := typed.get("service_id")) is not None:
            self.services.add(service_id.int)
        if src.resource == "attribute":
            self._attribute(src, typed, report)
        elif src.resource == "service_at_location":
            self._pair(src, typed, report)

    def _pair(self, src: SourceRow, typed: dict[str, Any], report: ImportReport) -> None:
        service_id, location_id = typed.get("service_id"), typed.get("location_id")
        if service_id is None or location_id is None:
            return
        first = self._pairs.setdefault((service_id.int, location_id.int), typed["id"].int)
        if first != typed["id"].int:
            message = f"this service is already at this location ({uuid.UUID(int=first)})"
            report.add(Problem(src.file, src.row, "location_id", message))

    def _attribute(self, src: SourceRow, typed: dict[str, Any], report: ImportReport) -> None:
        term, link = typed.get("taxonomy_term_id"), typed.get("link_id")
        if link is None or term not in extensions.TERM_IDS:
            return
        if (code := extensions.TYPE_BY_TERM.get(term)) is not None:
            self._meeting(link.int, src).setdefault("types", []).append(code)
            return
        ext = extensions.BY_TERM[term]
        try:
            value = extensions.decode(ext, typed.get("value"))
        except BadValue as exc:
            report.add(Problem(src.file, src.row, f"{src.pointer}/value" if src.pointer else "value", str(exc)))
            return
        if ext.table == "meeting":
            self._meeting(link.int, src)[ext.column] = value
        elif link.int not in self.ext_targets[ext.table]:
            self.ext_targets[ext.table][link.int] = self._locate(src, "link_id")

    def _meeting(self, service_id: int, src: SourceRow) -> dict[str, Any]:
        if service_id not in self.meeting_at:
            self.meeting_at[service_id] = self._locate(src, "link_id")
        self.services.add(service_id)
        return self.meetings.setdefault(service_id, {})

    # -- after the whole input was read -------------------------------------------------------------
    def finish(self, session: Session, report: ImportReport) -> None:
        for (resource, name), values in self.refs.items():
            self._resolve(session, report, resource, name, values)
        for table, targets in self.ext_targets.items():
            missing = self._missing(session, table, set(targets))
            for target in sorted(missing):
                message = f"no {table} {uuid.UUID(int=target)}: extension attribute ignored"
                report.add(self.problem(targets[target], message, "warning"))
            self.skipped_targets |= missing
        self._check_meetings(session, report)

    def _resolve(
        self, session: Session, report: ImportReport, resource: str, name: str, values: dict[int, int]
    ) -> None:
        ref = BY_NAME[resource].by_name[name]
        target = ref.ref or ""
        missing = self._missing(session, target, set(values))
        required = ref.required or (resource, name) in ALSO_REQUIRED
        for value in sorted(missing):
            named = f"{target} {uuid.UUID(int=value)}"
            if required:
                report.add(self.problem(values[value], f"refers to {named}, which is neither in the import nor stored"))
            else:
                report.add(self.problem(values[value], f"{named} not found: reference left empty", "warning"))
        if not required and missing:
            self.dangling[(resource, name)] = missing

    def _missing(self, session: Session, resource: str, wanted: set[int]) -> set[int]:
        table = table_of(BY_NAME[resource].model)
        known = self.ids[resource]
        missing = {v for v in wanted if v not in known and not is_constant(resource, uuid.UUID(int=v))}
        candidates = as_uuids(missing)
        for start in range(0, len(candidates), CHUNK):
            chunk = candidates[start : start + CHUNK]
            missing -= {u.int for u in session.execute(select(table.c.id).where(table.c.id.in_(chunk))).scalars()}
        return missing

    def _check_meetings(self, session: Session, report: ImportReport) -> None:
        stored = _stored_meetings(session, as_uuids(self.meetings))
        slugs: dict[str, int] = {}
        for service_id, values in self.meetings.items():
            at = self.meeting_at[service_id]
            for needed in ("slug", "fellowship"):
                given = needed in values
                if (given and values[needed] is None) or (not given and service_id not in stored):
                    report.add(
                        self.problem(at, f"meeting of service {uuid.UUID(int=service_id)} has no meeting.{needed}")
                    )
            fellowship = values.get("fellowship")
            if fellowship is not None and fellowship not in FELLOWSHIPS:
                report.add(self.problem(at, f"unknown fellowship {fellowship!r}"))
            slug = values.get("slug")
            if slug is not None and slugs.setdefault(slug, service_id) != service_id:
                report.add(self.problem(at, f"meeting slug {slug!r} is used twice in this import"))
        for slug, owner in _slug_owners(session, sorted(slugs)):
            if owner.int != slugs[slug]:
                report.add(
                    self.problem(
                        self.meeting_at[slugs[slug]], f"meeting slug {slug!r} already belongs to service {owner}"
                    )
                )


def _stored_meetings(session: Session, service_ids: list[uuid.UUID]) -> set[int]:
    found: set[int] = set()
    for start in range(0, len(service_ids), CHUNK):
        chunk = service_ids[start : start + CHUNK]
        stmt = select(col(Meeting.service_id)).where(col(Meeting.service_id).in_(chunk))
        found |= {sid.int for sid in session.execute(stmt).scalars()}
    return found


def _slug_owners(session: Session, slugs: list[str]) -> list[tuple[str, uuid.UUID]]:
    found = []
    for start in range(0, len(slugs), CHUNK):
        chunk = slugs[start : start + CHUNK]
        stmt = select(col(Meeting.slug), col(Meeting.service_id)).where(col(Meeting.slug).in_(chunk))
        found += [(slug, owner) for slug, owner in session.execute(stmt)]
    return found
