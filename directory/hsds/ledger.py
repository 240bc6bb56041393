"""What the validating pass of an import learns: ids, references, meeting extensions, touched services.

Only ids and small values are kept (never whole rows), so a large dataset is checked in bounded memory.
`finish` resolves references against the import and the database: a dangling required reference is an
error; a dangling optional one is a warning and the writer leaves it empty.
"""

import uuid
from collections import defaultdict
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
from directory.models import Meeting
from directory.taxonomy_tree import FELLOWSHIPS

Locator = tuple[str, int | None, str]  # file, row, field


@dataclass
class Ledger:
    ids: dict[str, set[uuid.UUID]] = field(default_factory=lambda: defaultdict(set))
    refs: dict[tuple[str, str], dict[uuid.UUID, Locator]] = field(default_factory=lambda: defaultdict(dict))
    dangling: dict[tuple[str, str], set[uuid.UUID]] = field(default_factory=lambda: defaultdict(set))
    meetings: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)
    meeting_at: dict[uuid.UUID, Locator] = field(default_factory=dict)
    ext_targets: dict[str, dict[uuid.UUID, Locator]] = field(default_factory=lambda: defaultdict(dict))
    skipped_targets: set[uuid.UUID] = field(default_factory=set)
    services: set[uuid.UUID] = field(default_factory=set)
    _file_ids: dict[tuple[str, str], set[uuid.UUID]] = field(default_factory=lambda: defaultdict(set))
    _pairs: dict[tuple[uuid.UUID, uuid.UUID], uuid.UUID] = field(default_factory=dict)

    def note(self, src: SourceRow, typed: dict[str, Any], report: ImportReport) -> None:
        row_id = typed.get("id")
        if row_id is None or is_constant(src.resource, row_id):
            return
        if src.tabular:
            seen = self._file_ids[(src.file, src.resource)]
            if row_id in seen:
                report.add(Problem(src.file, src.row, "id", f"id {row_id} appears twice in this file"))
            seen.add(row_id)
        self.ids[src.resource].add(row_id)
        for ref in BY_NAME[src.resource].refs:
            if (value := typed.get(ref.name)) is not None:
                self.refs[(src.resource, ref.name)].setdefault(value, (src.file, src.row, _at(src, ref.name)))
        self._touch(src.resource, row_id, typed)
        if src.resource == "attribute":
            self._attribute(src, typed, report)
        elif src.resource == "service_at_location":
            self._pair(src, typed, report)

    def _touch(self, resource: str, row_id: uuid.UUID, typed: dict[str, Any]) -> None:
        if resource == "service":
            self.services.add(row_id)
        elif (service_id := typed.get("service_id")) is not None:
            self.services.add(service_id)

    def _pair(self, src: SourceRow, typed: dict[str, Any], report: ImportReport) -> None:
        pair = (typed.get("service_id"), typed.get("location_id"))
        if None in pair:
            return
        first = self._pairs.setdefault(pair, typed["id"])  # type: ignore[arg-type]
        if first != typed["id"]:
            report.add(Problem(src.file, src.row, "location_id", f"this service is already at this location ({first})"))

    def _attribute(self, src: SourceRow, typed: dict[str, Any], report: ImportReport) -> None:
        term, link = typed.get("taxonomy_term_id"), typed.get("link_id")
        if link is None or term not in extensions.TERM_IDS:
            return
        if (code := extensions.TYPE_BY_TERM.get(term)) is not None:
            self._meeting(link, src).setdefault("types", []).append(code)
            return
        ext = extensions.BY_TERM[term]
        try:
            value = extensions.decode(ext, typed.get("value"))
        except BadValue as exc:
            report.add(Problem(src.file, src.row, _at(src, "value"), str(exc)))
            return
        if ext.table == "meeting":
            self._meeting(link, src)[ext.column] = value
        else:
            self.ext_targets[ext.table].setdefault(link, (src.file, src.row, _at(src, "link_id")))

    def _meeting(self, service_id: uuid.UUID, src: SourceRow) -> dict[str, Any]:
        self.meeting_at.setdefault(service_id, (src.file, src.row, _at(src, "link_id")))
        self.services.add(service_id)
        return self.meetings.setdefault(service_id, {})

    # -- after the whole input was read -------------------------------------------------------------
    def finish(self, session: Session, report: ImportReport) -> None:
        for (resource, name), values in self.refs.items():
            self._resolve(session, report, resource, name, values)
        for table, targets in self.ext_targets.items():
            missing = self._missing(session, table, set(targets))
            for target in missing:
                file, row, at = targets[target]
                report.add(Problem(file, row, at, f"no {table} {target}: extension attribute ignored", "warning"))
            self.skipped_targets |= missing
        self._check_meetings(session, report)

    def _resolve(
        self, session: Session, report: ImportReport, resource: str, name: str, values: dict[uuid.UUID, Locator]
    ) -> None:
        ref = BY_NAME[resource].by_name[name]
        target = ref.ref or ""
        missing = self._missing(session, target, set(values))
        required = ref.required or (resource, name) in ALSO_REQUIRED
        for value in sorted(missing, key=str):
            file, row, at = values[value]
            if required:
                report.add(
                    Problem(file, row, at, f"refers to {target} {value}, which is neither in the import nor stored")
                )
            else:
                report.add(Problem(file, row, at, f"{target} {value} not found: reference left empty", "warning"))
        if not required:
            self.dangling[(resource, name)] = missing

    def _missing(self, session: Session, resource: str, wanted: set[uuid.UUID]) -> set[uuid.UUID]:
        table = table_of(BY_NAME[resource].model)
        missing = {v for v in wanted if v not in self.ids[resource] and not is_constant(resource, v)}
        ordered = sorted(missing, key=str)
        for start in range(0, len(ordered), CHUNK):
            chunk = ordered[start : start + CHUNK]
            missing -= set(session.execute(select(table.c.id).where(table.c.id.in_(chunk))).scalars())
        return missing

    def _check_meetings(self, session: Session, report: ImportReport) -> None:
        stored = _stored_meetings(session, list(self.meetings))
        slugs: dict[str, uuid.UUID] = {}
        for service_id, values in self.meetings.items():
            file, row, at = self.meeting_at[service_id]
            known = stored.get(service_id)
            for needed in ("slug", "fellowship"):
                given = needed in values
                if (given and values[needed] is None) or (not given and known is None):
                    report.add(Problem(file, row, at, f"meeting of service {service_id} has no meeting.{needed}"))
            fellowship = values.get("fellowship")
            if fellowship is not None and fellowship not in FELLOWSHIPS:
                report.add(Problem(file, row, at, f"unknown fellowship {fellowship!r}"))
            slug = values.get("slug")
            if slug is not None and slugs.setdefault(slug, service_id) != service_id:
                report.add(Problem(file, row, at, f"meeting slug {slug!r} is used twice in this import"))
        _taken_slugs(session, slugs, report, self.meeting_at)


def _at(src: SourceRow, name: str) -> str:
    return f"{src.pointer}/{name}" if src.pointer else name


def _stored_meetings(session: Session, service_ids: list[uuid.UUID]) -> dict[uuid.UUID, Meeting]:
    found: dict[uuid.UUID, Meeting] = {}
    for start in range(0, len(service_ids), CHUNK):
        chunk = service_ids[start : start + CHUNK]
        rows = session.execute(select(Meeting).where(col(Meeting.service_id).in_(chunk))).scalars()
        found.update((m.service_id, m) for m in rows)
    return found


def _taken_slugs(
    session: Session, slugs: dict[str, uuid.UUID], report: ImportReport, at: dict[uuid.UUID, Locator]
) -> None:
    names = sorted(slugs)
    for start in range(0, len(names), CHUNK):
        chunk = names[start : start + CHUNK]
        stmt = select(col(Meeting.slug), col(Meeting.service_id)).where(col(Meeting.slug).in_(chunk))
        rows = session.execute(stmt)
        for slug, owner in rows:
            if owner != slugs[slug]:
                file, row, where = at[slugs[slug]]
                report.add(Problem(file, row, where, f"meeting slug {slug!r} already belongs to service {owner}"))
