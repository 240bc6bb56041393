"""`import_hsds`: validate a whole HSDS dataset first, then write it all in one transaction, or nothing.

Accepts a folder (CSV data package and/or JSON), CSV files, JSON files (a body, an array of bodies, an
HSDS page, tabular JSON), NDJSON dumps such as our own export, or a zip of any of these.

1. Check every row: JSON bodies against JSON Schemas built from our HSDS description (draft 2020-12, with
   format checks), CSV cells against the data package's types, required fields and enums, and every row
   against what our tables hold. References are resolved against the import and the database.
2. With no error: upsert every table by id in dependency order, fold our extension attributes back,
   give places without a point an approximate one, record an outbox row per service, commit once.
"""

import pickle
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import IO, Any

from rich.progress import Progress
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session

from core.logging import get_logger
from directory.hsds.ledger import Ledger
from directory.hsds.progress import task
from directory.hsds.report import ImportReport, Problem
from directory.hsds.schema import validator
from directory.hsds.serialize import is_constant
from directory.hsds.sources import (
    Inputs,
    JsonItem,
    SourceRow,
    count_lines,
    csv_header_problems,
    csv_rows,
    discover,
    flatten,
    json_items,
    tabular_rows,
    unknown_keys,
)
from directory.hsds.spec import WRITE_ORDER
from directory.hsds.upgrade import detect_version, not_hsds, upgrade
from directory.hsds.validate import check_row
from directory.hsds.writer import Writer

log = get_logger(__name__)
BATCH = 1000
PathLike = Path | str


def import_hsds(
    *,
    session: Session | None = None,
    engine: Engine | None = None,
    path_or_files: PathLike | Sequence[PathLike],
    actor: str | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import an HSDS dataset all-or-nothing; the report names every problem by file, row and field.

    Given a `session`, the import ends that session's open transaction before writing (a fresh transaction
    cannot be refused by a concurrent SQLite writer midway) and commits or rolls back its own.
    """
    if (session is None) == (engine is None):
        raise ValueError("give exactly one of session or engine")
    paths = [Path(path_or_files)] if isinstance(path_or_files, str | Path) else [Path(p) for p in path_or_files]
    if session is not None:
        return _run(session, paths, actor, progress)
    with Session(engine) as own:
        return _run(own, paths, actor, progress)


def _run(session: Session, paths: list[Path], actor: str | None, progress: Progress | None) -> ImportReport:
    report = ImportReport(actor=actor)
    with TemporaryDirectory(prefix="hsds-import-") as tmp:
        paths = _upgraded(paths, Path(tmp) / "upgraded", report)
        inputs = discover(paths, Path(tmp) / "unpacked")
        for path in inputs.json:
            if (other := not_hsds(path)) is not None:
                report.add(Problem(path.name, None, None, other))
                return report
        for note in inputs.notes:
            report.add(note)
        if not inputs.csv and not inputs.json:
            report.add(Problem(", ".join(p.name for p in paths) or "(nothing)", None, None, "no HSDS files found"))
            return report
        ledger = Ledger()
        with _Spool(Path(tmp)) as spool:
            _validate(inputs, ledger, spool, report, progress)
            ledger.finish(session, report)
            session.rollback()  # end the reading transaction; the writing one starts clean
            if report.ok:
                _write_all(session, inputs, spool, ledger, report, progress)
    log.info("hsds import", actor=actor, ok=report.ok, rows=report.rows_read, services=report.services_changed,
             errors=len(report.errors))  # fmt: skip
    return report


def _upgraded(paths: list[Path], folder: Path, report: ImportReport) -> list[Path]:
    """Each folder of an older HSDS package replaced by its 3.0 upgrade; the report names the version read."""
    found: list[Path] = []
    for index, path in enumerate(paths):
        version = detect_version(path) if path.is_dir() else None
        if version in (None, "3.0"):
            report.source_format = report.source_format or ("HSDS 3.0" if version else None)
            found.append(path)
            continue
        assert version is not None
        done = upgrade(path, folder / f"{index}-{path.name}", version=version, source=path.name)
        report.source_format = f"HSDS {version} (upgraded to 3.0)"
        for note in done.notes:
            report.add(note)
        found.append(folder / f"{index}-{path.name}")
    return found


# --- pass 1: validate ----------------------------------------------------------------------------------


def _validate(inputs: Inputs, ledger: Ledger, spool: "_Spool", report: ImportReport, progress: Progress | None) -> None:
    for resource, files in inputs.csv.items():
        for path in files:
            header_problems = csv_header_problems(resource, path)[1]
            for problem in header_problems:
                report.add(problem)
            with task(progress, f"check {path.name}", count_lines(path)) as advance:
                for row in csv_rows(resource, path):
                    spool.write(resource, _check(row, ledger, report))
                    advance(1)
    for path in inputs.json:
        with task(progress, f"check {path.name}", None) as advance:
            _validate_json(path, ledger, spool, report)
            advance(1)


def _check(row: SourceRow, ledger: Ledger, report: ImportReport) -> dict[str, Any]:
    typed = check_row(row, report.add)
    ledger.note(row, typed, report)
    report.rows_read += 1
    return typed


def _validate_json(path: Path, ledger: Ledger, spool: "_Spool", report: ImportReport) -> None:
    warned: set[tuple[str, str]] = set()
    for item in json_items(path):
        if isinstance(item, Problem):
            report.add(item)
            continue
        for row in _json_rows(item, report, warned):
            spool.write(row.resource, _check(row, ledger, report))


def _json_rows(item: JsonItem, report: ImportReport, warned: set[tuple[str, str]]) -> Iterator[SourceRow]:
    if item.kind == "tabular":
        for found in tabular_rows(item):
            if isinstance(found, Problem):
                report.add(found)
            else:
                yield found
        return
    errors = list(validator(item.kind).iter_errors(item.body))
    for err in errors:
        pointer = "/" + "/".join(str(p) for p in err.absolute_path)
        report.add(Problem(item.file, item.row, pointer, f"{item.kind}: {err.message[:300]}"))
    if errors:
        return
    for key in unknown_keys(item.kind, item.body):
        if key not in warned:
            warned.add(key)
            report.add(Problem(item.file, item.row, key[1], f"{key[0]} has no property {key[1]!r}; ignored", "warning"))
    yield from flatten(item)


# --- pass 2: write -------------------------------------------------------------------------------------


def _write_all(
    session: Session, inputs: Inputs, spool: "_Spool", ledger: Ledger, report: ImportReport, progress: Progress | None
) -> None:
    writer = Writer(session, ledger, report)
    try:
        for resource in WRITE_ORDER:
            with task(progress, f"write {resource}", len(ledger.ids.get(resource, ()))) as advance:
                for batch in spool.batches(resource):
                    rows = [r for r in batch if r.get("id") is not None and not is_constant(resource, r["id"])]
                    if rows:
                        writer.write(resource, rows)
                    advance(len(batch))
            writer.finish_resource(resource)
        writer.write_meetings()
        writer.record_changes()
        session.commit()
    except (IntegrityError, DBAPIError) as exc:
        session.rollback()
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        report.add(Problem("(database)", None, None, f"the database refused the import, nothing was changed: {reason}"))
    except Exception:
        session.rollback()
        raise


class _Spool:
    """Checked rows, kept on disk per resource between the two passes (pickled lists of 1,000)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder / "spool"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.stack = ExitStack()
        self.handles: dict[str, IO[bytes]] = {}
        self.pending: dict[str, list[dict[str, Any]]] = {}

    def __enter__(self) -> "_Spool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stack.close()

    def write(self, resource: str, row: dict[str, Any]) -> None:
        pending = self.pending.setdefault(resource, [])
        pending.append(row)
        if len(pending) >= BATCH:
            self._flush(resource)

    def _flush(self, resource: str) -> None:
        handle = self.handles.get(resource)
        if handle is None:
            handle = self.stack.enter_context((self.folder / f"{resource}.pickle").open("wb"))
            self.handles[resource] = handle
        pickle.dump(self.pending.pop(resource, []), handle, protocol=pickle.HIGHEST_PROTOCOL)

    def batches(self, resource: str) -> Iterator[list[dict[str, Any]]]:
        if self.pending.get(resource):
            self._flush(resource)
        handle = self.handles.get(resource)
        if handle is None:
            return
        handle.flush()
        with (self.folder / f"{resource}.pickle").open("rb") as source:
            while True:
                try:
                    yield pickle.load(source)  # noqa: S301  (our own file, written moments ago)
                except EOFError:
                    return
