"""`python -m referrals worker [--once] | verify-audit [--head FILE] | audit-head --out FILE | purge`."""

from pathlib import Path
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
def verify_audit(
    head: Annotated[
        Path | None,
        typer.Option(
            "--head", help="A head exported by `audit-head`: also fail if the chain was cut off or rewritten."
        ),
    ] = None,
) -> None:
    """Recompute the referral audit hash chain with its key; exit 1 and name the first broken event if it
    was altered."""
    from referrals.audit import audit_key, read_head, verify_chain

    settings = get_settings()
    anchor = read_head(head) if head is not None else None
    with Session(open_engine(settings)) as session:
        result = verify_chain(session, key=audit_key(settings), anchor=anchor)
    if not result.ok:
        typer.secho(result.describe(), fg="red", err=True)
        raise typer.Exit(1)
    suffix = f"; it still holds the exported head (seq={anchor.seq})" if anchor is not None else ""
    typer.echo(result.describe() + suffix)


@app.command("audit-head")
@one_line_errors
def audit_head(
    out: Annotated[Path, typer.Option("--out", help="File to write the head to; keep it away from the database.")],
) -> None:
    """Verify the audit chain and export its head (last seq and hash), for `verify-audit --head` later."""
    from referrals.audit import audit_key, export_head

    settings = get_settings()
    with Session(open_engine(settings)) as session:
        head, result = export_head(session, key=audit_key(settings), path=out)
    if not result.ok:
        typer.secho(f"not exported: {result.describe()}", fg="red", err=True)
        raise typer.Exit(1)
    typer.echo(f"audit head seq={head.seq} hash={head.hash} written to {out}")


@app.command()
@one_line_errors
def purge(
    days: Annotated[int | None, typer.Option(help="Retention in days (default REFERRAL_RETENTION_DAYS).")] = None,
) -> None:
    """Null the personal details of referrals closed longer than the retention period."""
    from referrals.privacy import purge as run_purge

    settings = get_settings()
    with Session(open_engine(settings), expire_on_commit=False) as session:
        count = run_purge(session=session, now=utcnow(), settings=settings, retention_days=days)
    typer.echo(f"purged personal details of {count} referrals")


if __name__ == "__main__":
    app()
