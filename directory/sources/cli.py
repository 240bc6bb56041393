"""`python -m core feeds add|list|sync|remove`: the Meeting Guide feeds of service bodies, one source each."""

from typing import Annotated, Any

import typer

app = typer.Typer(
    name="feeds", help="Meeting Guide feeds of service bodies: register, list, sync, remove.", no_args_is_help=True
)


def _session() -> Any:
    from sqlmodel import Session

    from directory.hsds.commands import configured_engine

    return Session(configured_engine(), expire_on_commit=False)


def _guarded(fn: Any) -> Any:
    from core.commands import one_line_errors

    return one_line_errors(fn)


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="The service body, e.g. 'Orange County Central Office'.")],
    location: Annotated[str, typer.Argument(help="The feed: an http(s) URL or a file path.")],
    organization: Annotated[str | None, typer.Option(help="Owning organization (default: NAME).")] = None,
    fellowship: Annotated[str, typer.Option(help="Fellowship of meetings that name none: AA, NA, Al-Anon...")] = "AA",
    timezone: Annotated[str | None, typer.Option(help="IANA zone for meetings that give none and no place.")] = None,
    code: Annotated[str | None, typer.Option(help="Short unique code (default: from the location).")] = None,
    strict: Annotated[bool, typer.Option(help="All or nothing: one bad row leaves the whole feed out.")] = False,
    interval_hours: Annotated[int, typer.Option(help="Sync every this many hours.")] = 24,
) -> None:
    """Register a feed as a source owned by its service body."""
    from directory.sources.service import add_source

    def run() -> None:
        with _session() as session:
            source = add_source(session=session, name=name, location=location, organization=organization,
                                fellowship=fellowship, timezone=timezone, code=code, strict=strict,
                                interval_hours=interval_hours)  # fmt: skip
            typer.echo(f"added {source.code}: {source.location} (sync every {source.interval_hours} h)")

    _guarded(run)()


@app.command("list")
def list_() -> None:
    """Every source with its last sync and counts."""
    from directory.sources.service import list_sources

    with _session() as session:
        for s in list_sources(session=session):
            when = s.last_sync_at.strftime("%Y-%m-%d %H:%M") if s.last_sync_at else "never"
            counts = " ".join(f"{k}={v}" for k, v in (s.last_counts or {}).items())
            typer.echo(f"{s.code}\t{s.name}\t{s.location}\tlast sync {when} {s.last_status or ''}\t{counts}")


@app.command("sync")
def sync(
    codes: Annotated[
        list[str] | None, typer.Argument(help="Sources to sync (default: every source that is due).")
    ] = None,
    force: Annotated[bool, typer.Option(help="Read and import even when the feed has not changed.")] = False,
) -> None:
    """Sync sources now: a conditional GET, then an import only when the feed changed."""
    from directory.sources.service import get_source
    from directory.sources.sync import sync_due, sync_source

    def run() -> None:
        with _session() as session:
            if codes:
                outcomes = [sync_source(session=session, source=get_source(session=session, code=c), force=force)
                            for c in codes]  # fmt: skip
            else:
                outcomes = sync_due(session=session)
            for outcome in outcomes:
                typer.echo(f"{outcome.code}: {outcome.status}: {outcome.summary}")
                for problem in (outcome.report.problems if outcome.report else [])[:20]:
                    typer.secho(f"  {problem}", fg="red" if problem.severity == "error" else "yellow", err=True)
            if any(o.status == "failed" for o in outcomes):
                raise typer.Exit(1)

    _guarded(run)()


@app.command("remove")
def remove(code: Annotated[str, typer.Argument(help="The source's code.")]) -> None:
    """Unregister a source; its meetings are retired (hidden, kept for the audit log), never deleted."""
    from directory.sources.service import remove_source

    def run() -> None:
        with _session() as session:
            retired = remove_source(session=session, code=code)
            typer.echo(f"removed {code}; {retired} meetings retired")

    _guarded(run)()
