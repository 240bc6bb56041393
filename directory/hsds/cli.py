"""Data exchange commands, merged into `python -m core`: export-hsds, import-hsds, import-meeting-guide.

Heavy modules load inside the commands, so `python -m core --help` stays fast.
"""

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from enum import StrEnum
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

app = typer.Typer()
F = TypeVar("F", bound=Callable[..., Any])
SHOWN_PROBLEMS = 50


class Format(StrEnum):
    csv = "csv"
    json = "json"


def _errors_in_one_line(fn: F) -> F:
    # core.cli imports this module, so its decorator is looked up when the command runs.
    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from core.cli import one_line_errors

        return one_line_errors(fn)(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@contextmanager
def _progress() -> Iterator[Progress]:
    console = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, disable=not console.is_terminal) as progress:
        yield progress


def _engine() -> Any:
    from core.cli import _engine as make_engine
    from core.settings import get_settings

    return make_engine(get_settings())


def _finish(report: Any, report_file: Path | None) -> None:
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
@_errors_in_one_line
def export_hsds(
    fmt: Annotated[Format, typer.Option("--format", help="csv: a data package of CSV files; json: NDJSON bodies.")],
    out: Annotated[Path, typer.Option("--out", help="Folder to write (created if needed).")],
) -> None:
    """Export every listing as Open Referral HSDS 3.0, streaming in batches of 1,000."""
    from directory.hsds.export import export_hsds as run

    engine = _engine()
    with _progress() as progress:
        summary = run(engine=engine, out=out, fmt=fmt.value, progress=progress)
    files = ", ".join(f"{name}: {count}" for name, count in summary.files.items() if count)
    typer.echo(f"exported to {out} ({files})")


@app.command("import-hsds")
@_errors_in_one_line
def import_hsds(
    paths: Annotated[list[Path], typer.Argument(help="Folders, CSV/JSON/NDJSON files or zip files.", exists=True)],
    actor: Annotated[str | None, typer.Option(help="Who is importing (kept in the log).")] = None,
    report_file: Annotated[Path | None, typer.Option("--report", help="Write the full report as JSON.")] = None,
) -> None:
    """Validate an HSDS dataset, then import it all in one transaction (or nothing, with a report)."""
    from directory.hsds.importer import import_hsds as run

    engine = _engine()
    with _progress() as progress:
        report = run(engine=engine, path_or_files=paths, actor=actor, progress=progress)
    _finish(report, report_file)


@app.command("import-meeting-guide")
@_errors_in_one_line
def import_meeting_guide(
    source: Annotated[str, typer.Argument(help="A Meeting Guide JSON feed: a file path or an http(s) URL.")],
    fellowship: Annotated[str, typer.Option(help="Fellowship of the feed's meetings: AA, NA, Al-Anon...")] = "AA",
    timezone: Annotated[str | None, typer.Option(help="IANA zone for meetings that give none and no place.")] = None,
    actor: Annotated[str | None, typer.Option(help="Who is importing (kept in the log).")] = None,
    report_file: Annotated[Path | None, typer.Option("--report", help="Write the full report as JSON.")] = None,
    strict: Annotated[bool, typer.Option(help="All or nothing: one bad row leaves the whole feed out.")] = False,
) -> None:
    """Import a Meeting Guide feed as its source's meetings (a bad row is skipped and named; see --strict)."""
    from directory.meeting_guide_import import import_meeting_guide as run

    engine = _engine()
    with _progress() as progress:
        report = run(engine=engine, source=source, fellowship=fellowship, timezone=timezone, actor=actor,
                     progress=progress, strict=strict)  # fmt: skip
    _finish(report, report_file)
