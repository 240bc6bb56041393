"""HSDS commands, merged into `python -m core`: export-hsds, import-hsds (and the report printing they share
with import-meeting-guide).

Heavy modules load inside the commands, so `python -m core --help` stays fast.
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.engine import Engine

from core.commands import one_line_errors, open_engine
from core.settings import get_settings

app = typer.Typer()
SHOWN_PROBLEMS = 50


class Format(StrEnum):
    csv = "csv"
    json = "json"


@contextmanager
def progress_bars() -> Iterator[Progress]:
    console = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, disable=not console.is_terminal) as progress:
        yield progress


def configured_engine() -> Engine:
    return open_engine(get_settings())


def finish(report: Any, report_file: Path | None) -> None:
    """Print the problems (the first 50) and the summary; write the full report; exit 1 unless it is ok."""
    if report_file is not None:
        report_file.write_text(json.dumps(_report_json(report), indent=2) + "\n", encoding="utf-8")
    for problem in report.problems[:SHOWN_PROBLEMS]:
        typer.secho(str(problem), fg="red" if problem.severity == "error" else "yellow", err=True)
    if len(report.problems) > SHOWN_PROBLEMS or report.more_problems:
        hidden = len(report.problems) - SHOWN_PROBLEMS + report.more_problems
        typer.secho(f"... and {max(hidden, 0)} more (use --report FILE for all)", err=True)
    typer.echo(report.summary())
    if not report.ok:
        raise typer.Exit(1)


def _report_json(report: Any) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "summary": report.summary(),
        "problems": [asdict(p) for p in report.problems],
        "more_problems": report.more_problems,
        "counts": {name: asdict(c) for name, c in report.counts.items()},
    }


@app.command("export-hsds")
@one_line_errors
def export_hsds(
    fmt: Annotated[Format, typer.Option("--format", help="csv: a data package of CSV files; json: NDJSON bodies.")],
    out: Annotated[Path, typer.Option("--out", help="Folder to write (created if needed).")],
) -> None:
    """Export every listing as Open Referral HSDS 3.0, streaming in batches of 1,000."""
    from directory.hsds.export import export_hsds as run

    engine = configured_engine()
    with progress_bars() as progress:
        summary = run(engine=engine, out=out, fmt=fmt.value, progress=progress)
    files = ", ".join(f"{name}: {count}" for name, count in summary.files.items() if count)
    typer.echo(f"exported to {out} ({files})")


@app.command("import-hsds")
@one_line_errors
def import_hsds(
    paths: Annotated[list[Path], typer.Argument(help="Folders, CSV/JSON/NDJSON files or zip files.", exists=True)],
    actor: Annotated[str | None, typer.Option(help="Who is importing (kept in the log).")] = None,
    report_file: Annotated[Path | None, typer.Option("--report", help="Write the full report as JSON.")] = None,
) -> None:
    """Validate an HSDS dataset, then import it all in one transaction (or nothing, with a report)."""
    from directory.hsds.importer import import_hsds as run

    engine = configured_engine()
    with progress_bars() as progress:
        report = run(engine=engine, path_or_files=paths, actor=actor, progress=progress)
    finish(report, report_file)
