"""Stewardship commands, merged into `python -m core`: freshness-reminders, suggestion-digest."""

import typer
from sqlmodel import Session

from core.commands import one_line_errors, open_engine
from core.settings import get_settings

app = typer.Typer()


@app.command("freshness-reminders")
@one_line_errors
def freshness_reminders() -> None:
    """E-mail the editors of listings not verified for 180 days (once per listing per month)."""
    from core.clock import utcnow
    from directory.stewardship.freshness import send_freshness_reminders

    settings = get_settings()
    engine = open_engine(settings)
    with Session(engine, expire_on_commit=False) as session:
        report = send_freshness_reminders(session=session, settings=settings, now=utcnow())
    typer.echo(f"{report.listings} stale listings reminded, {report.mails} e-mails sent")


@app.command("suggestion-digest")
@one_line_errors
def suggestion_digest() -> None:
    """E-mail moderators the public suggestions that arrived since the last digest (each told once)."""
    from core.clock import utcnow
    from directory.stewardship.digest import send_suggestion_digest

    settings = get_settings()
    engine = open_engine(settings)
    with Session(engine, expire_on_commit=False) as session:
        sent = send_suggestion_digest(session=session, settings=settings, now=utcnow())
    typer.echo(f"{sent} digest e-mails sent")
