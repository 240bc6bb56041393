"""Whole-dataset HSDS exports that stream: tables are read in id order, 1,000 rows at a time, and written as
they come, so a million listings never sit in memory.

- `csv`: one CSV per HSDS resource (change history header-only: we keep none) plus our own
  `datapackage.json` describing them.
- `json`: NDJSON files, one body per line: `services.ndjson` (full `GET /services/{id}` bodies),
  `organizations.ndjson` (organization bodies with their locations, programs, phones...),
  `taxonomies.ndjson` and `taxonomy_terms.ndjson`. Each line validates against its HSDS schema.
"""

import csv
import json
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from rich.progress import Progress
from sqlalchemy import Table, func
from sqlalchemy import select as core_select
from sqlalchemy.engine import Engine, Row
from sqlmodel import Session, col, select

from directory.hsds import bodies
from directory.hsds.bundle import load_organizations, load_services
from directory.hsds.progress import task
from directory.hsds.query import stream_ids
from directory.hsds.serialize import clean, extension_rows, hsds_row, is_constant, taxonomy_rows, term_rows
from directory.hsds.spec import BY_NAME, RESOURCES, UNSTORED, descriptor, table_of
from directory.hsds.values import cell
from directory.listings.details import Taxonomy, TaxonomyTerm
from directory.listings.models import Location, Meeting, Organization, Service

BATCH = 1000
ExportFormat = Literal["csv", "json"]
# Tables whose rows carry extension attributes; the meeting extension rides on its service.
_EXTENDED = {"service", "location", "schedule", "cost_option", "accessibility"}


@dataclass
class ExportSummary:
    out: Path
    format: str
    files: dict[str, int] = field(default_factory=dict)  # file name -> rows (or bodies) written


def export_hsds(*, engine: Engine, out: Path, fmt: ExportFormat, progress: Progress | None = None) -> ExportSummary:
    """Write the whole directory to `out` (created if needed) as an HSDS CSV package or NDJSON bodies."""
    out.mkdir(parents=True, exist_ok=True)
    with Session(engine) as session:
        _snapshot(session)
        summary = ExportSummary(out=out, format=fmt)
        (_export_csv if fmt == "csv" else _export_json)(session, out, summary, progress)
    return summary


def _snapshot(session: Session) -> None:
    """Read every table from one snapshot (SQLite's read transaction already is one)."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def _rows(session: Session, table: Table, batch: int = BATCH) -> Iterator[list[Row[Any]]]:
    """All rows of a table in id order, a batch at a time (keyset pagination, plain Core rows)."""
    key = table.c.id
    stmt = core_select(table)
    if table.name == "address":  # an address needs to know whether its location is confidential
        place = table_of(Location)
        stmt = core_select(table, place.c.is_confidential.label("location_confidential")).join(
            place, place.c.id == table.c.location_id
        )
    last = None
    while True:
        page = stmt if last is None else stmt.where(key > last)
        rows = list(session.execute(page.order_by(key).limit(batch)).all())
        if not rows:
            return
        yield rows
        last = getattr(rows[-1], key.name)


def _count(session: Session, table: Table) -> int:
    return int(session.execute(core_select(func.count()).select_from(table)).scalar_one())


# --- CSV -----------------------------------------------------------------------------------------------


def _export_csv(session: Session, out: Path, summary: ExportSummary, progress: Progress | None) -> None:
    with ExitStack() as stack:
        writers = {}
        for resource in RESOURCES:
            handle = stack.enter_context((out / resource.path).open("w", newline="", encoding="utf-8"))
            writers[resource.name] = _Writer(resource.name, handle, summary)
        writers["taxonomy"].write_many(taxonomy_rows())
        writers["taxonomy_term"].write_many(term_rows())
        for resource in RESOURCES:
            table = table_of(resource.model)
            with task(progress, f"export {resource.path}", _count(session, table)) as advance:
                for rows in _rows(session, table):
                    _write_batch(resource.name, rows, writers)
                    advance(len(rows))
            if resource.name == "service":
                _write_meetings(session, writers["attribute"])
    for unstored in UNSTORED:
        with (out / unstored.path).open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle, lineterminator="\n").writerow([f.name for f in unstored.fields])
    (out / "datapackage.json").write_text(json.dumps(descriptor(), indent=2) + "\n", encoding="utf-8")


def _write_batch(name: str, rows: list[Row[Any]], writers: dict[str, "_Writer"]) -> None:
    writer = writers[name]
    for row in rows:
        if name in ("taxonomy", "taxonomy_term") and is_constant(name, row.id):
            continue
        if name == "address":
            writer.write(hsds_row(name, row, confidential=bool(row.location_confidential)))
        else:
            writer.write(hsds_row(name, row))
        if name in _EXTENDED:
            writers["attribute"].write_many(extension_rows(name, row))


def _write_meetings(session: Session, attributes: "_Writer") -> None:
    for rows in _rows(session, table_of(Meeting), BATCH):
        for row in rows:
            attributes.write_many(extension_rows("meeting", row))


class _Writer:
    def __init__(self, name: str, handle: IO[str], summary: ExportSummary) -> None:
        self.fields = BY_NAME[name].names
        self.writer = csv.writer(handle, lineterminator="\n")
        self.writer.writerow(self.fields)
        self.path = BY_NAME[name].path
        self.summary = summary
        summary.files[self.path] = 0

    def write(self, row: dict[str, Any]) -> None:
        self.writer.writerow([cell(row.get(name)) for name in self.fields])
        self.summary.files[self.path] += 1

    def write_many(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            self.write(row)


# --- JSON ----------------------------------------------------------------------------------------------


def _export_json(session: Session, out: Path, summary: ExportSummary, progress: Progress | None) -> None:
    _write_ndjson(out / "taxonomies.ndjson", summary, _taxonomies(session))
    _write_ndjson(out / "taxonomy_terms.ndjson", summary, _terms(session))
    with task(progress, "export organizations", _count(session, table_of(Organization))) as advance:
        _write_ndjson(out / "organizations.ndjson", summary, _organizations(session, advance))
    with task(progress, "export services", _count(session, table_of(Service))) as advance:
        _write_ndjson(out / "services.ndjson", summary, _services(session, advance))


def _write_ndjson(path: Path, summary: ExportSummary, items: Iterator[dict[str, Any]]) -> None:
    written = 0
    with path.open("w", encoding="utf-8") as handle:
        for item in items:
            handle.write(json.dumps(item, ensure_ascii=False) + "\n")
            written += 1
    summary.files[path.name] = written


def _services(session: Session, advance: Any) -> Iterator[dict[str, Any]]:
    for ids in stream_ids(session, select(Service.id), BATCH):
        b = load_services(session, ids)
        for sid in ids:
            yield bodies.service(b, b.rows[Service][sid])
        session.expunge_all()
        advance(len(ids))


def _organizations(session: Session, advance: Any) -> Iterator[dict[str, Any]]:
    for ids in stream_ids(session, select(Organization.id), BATCH):
        b = load_organizations(session, ids, services=False)
        for oid in ids:
            yield bodies.organization(b, b.rows[Organization][oid], services=None)
        session.expunge_all()
        advance(len(ids))


def _taxonomies(session: Session) -> Iterator[dict[str, Any]]:
    yield from taxonomy_rows()
    for t in session.exec(select(Taxonomy).order_by(col(Taxonomy.id))):
        if not is_constant("taxonomy", t.id):
            yield clean(hsds_row("taxonomy", t))


def _terms(session: Session) -> Iterator[dict[str, Any]]:
    constants = {t["id"]: t for t in taxonomy_rows()}
    for row in term_rows():
        yield bodies.taxonomy_term(row, constants.get(row["taxonomy_id"]))
    stored = {t.id: t for t in session.exec(select(Taxonomy))}
    for ids in stream_ids(session, select(TaxonomyTerm.id), BATCH):
        terms = session.exec(select(TaxonomyTerm).where(col(TaxonomyTerm.id).in_(ids)).order_by(col(TaxonomyTerm.id)))
        for term in terms:
            if not is_constant("taxonomy_term", term.id):
                yield bodies.taxonomy_term(term, stored.get(term.taxonomy_id) if term.taxonomy_id else None)
