"""Meeting Guide commands, merged into `python -m core`: import-meeting-guide."""

from pathlib import Path
from typing import Annotated

import typer

from core.commands import one_line_errors
from directory.hsds.commands import configured_engine, finish, progress_bars

app = typer.Typer()


@app.command("import-meeting-guide")
@one_line_errors
def import_meeting_guide(
    source: Annotated[str, typer.Argument(help="A Meeting Guide JSON feed: a file path or an http(s) URL.")],
    fellowship: Annotated[str, typer.Option(help="Fellowship of the feed's meetings: AA, NA, Al-Anon...")] = "AA",
    timezone: Annotated[str | None, typer.Option(help="IANA zone for meetings that give none and no place.")] = None,
    actor: Annotated[str | None, typer.Option(help="Who is importing (kept in the log).")] = None,
    report_file: Annotated[Path | None, typer.Option("--report", help="Write the full report as JSON.")] = None,
    strict: Annotated[bool, typer.Option(help="All or nothing: one bad row leaves the whole feed out.")] = False,
) -> None:
    """Import a Meeting Guide feed as its source's meetings (a bad row is skipped and named; see --strict)."""
    from directory.meeting_guide.importer import import_meeting_guide as run

    engine = configured_engine()
    with progress_bars() as progress:
        report = run(engine=engine, source=source, fellowship=fellowship, timezone=timezone, actor=actor,
                     progress=progress, strict=strict)  # fmt: skip
    finish(report, report_file)
