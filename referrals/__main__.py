"""`python -m referrals worker [--once] | verify-audit | purge`."""

from typing import Annotated

import typer
from sqlmodel import Session

from core.clock import utcnow
from core.commands import one_line_errors, open_engine
from core.settings import get_settings

app = typer.Typer(help="Referral timers, audit-chain verification and the retention purge.", no_args_is_help=True)


@app.command()
@one_line_errors
def worker(
    once: Annotated[bool, typer.Option("--once", help="Run one pass and exit.")] = False,
) -> None:
    """Run the referral timers (reminders, expiry, follow-ups, purge) every REFERRAL_TIMER_INTERVAL seconds.
    Several workers may run at once: each reminder is sent once and each expiry applied once."""
    from referrals.timers import TimerWorker

    settings = get_settings()
    timer = TimerWorker(open_engine(settings), settings)
    if once:
        typer.echo(f"referral timers: {timer.run_once().as_dict()}")
        return
    typer.echo(f"referral timer worker running every {settings.referral_timer_interval:g}s (Ctrl-C to stop)")
    timer.start()
    try:
        timer.wait()
    except KeyboardInterrupt:
        timer.stop()


@app.command("verify-audit")
@one_line_errors
def verify_audit() -> None:
    """Recompute the referral audit hash chain; exit 1 and name the first broken event if it was altered."""
    from referrals.audit import verify_chain

    with Session(open_engine(get_settings())) as session:
        result = verify_chain(session)
    if not result.ok:
        typer.secho(result.describe(), fg="red", err=True)
        raise typer.Exit(1)
    typer.echo(result.describe())


@app.command()
@one_line_errors
def purge(
    days: Annotated[int | None, typer.Option(help="Retention in days (default REFERRAL_RETENTION_DAYS).")] = None,
) -> None:
    """Null the personal details of referrals closed longer than the retention period."""
    from referrals.privacy import purge as run_purge

    settings = get_settings()
    with Session(open_engine(settings), expire_on_commit=False) as session:
        count = run_purge(session=session, now=utcnow(), retention_days=days or settings.referral_retention_days)
    typer.echo(f"purged personal details of {count} referrals")


if __name__ == "__main__":
    app()
