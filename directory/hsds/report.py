"""What an import found: problems naming file, row and field, and what it changed."""

from dataclasses import dataclass, field
from typing import Literal

# "skipped": the row was left out and the rest went in (a lenient feed import); it does not fail the import.
Severity = Literal["error", "warning", "skipped"]
MAX_PROBLEMS = 1000


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding. `row` is the spreadsheet row (header = 1) for CSV, the line or item for JSON."""

    file: str
    row: int | None
    field: str | None
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" row {self.row}"
        if self.field:
            where += f", field {self.field}"
        return f"{self.severity}: {where}: {self.message}"


@dataclass
class Counts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    retired: int = 0


@dataclass
class ImportReport:
    """The outcome of an import. `ok` is False when any error was found; then nothing was written."""

    problems: list[Problem] = field(default_factory=list)
    counts: dict[str, Counts] = field(default_factory=dict)
    services_changed: int = 0
    rows_read: int = 0
    actor: str | None = None
    more_problems: int = 0
    more_problems_are_errors: bool = False
    source_format: str | None = None  # what was read, e.g. "HSDS 1.1 (upgraded to 3.0)"

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def skipped_rows(self) -> list[int]:
        return sorted({p.row for p in self.problems if p.severity == "skipped" and p.row is not None})

    @property
    def ok(self) -> bool:
        return not self.errors and not self.more_problems_are_errors

    def add(self, problem: Problem) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)
            return
        self.more_problems += 1
        if problem.severity == "error":
            self.more_problems_are_errors = True

    def count(self, resource: str) -> Counts:
        return self.counts.setdefault(resource, Counts())

    def summary(self) -> str:
        if not self.ok:
            extra = f" (and {self.more_problems} more problems)" if self.more_problems else ""
            read = f" (read {self.source_format})" if self.source_format else ""
            return f"rejected{read}: {len(self.errors)} errors{extra}; nothing was changed"
        parts = [f"{name}: +{c.inserted} ~{c.updated} ={c.unchanged}" + (f" -{c.retired} retired" if c.retired else "")
                 for name, c in self.counts.items()]  # fmt: skip
        counts = ", ".join(parts) or "nothing"
        skipped = f"; {len(self.skipped_rows)} rows skipped" if self.skipped_rows else ""
        read = f"read {self.source_format}; " if self.source_format else ""
        return (f"{read}imported {self.rows_read} rows ({counts}){skipped}; "
                f"{self.services_changed} services given an outbox row")  # fmt: skip
