"""Referral timers: reminders to the receiving organization, auto-expiry, peer follow-up reminders, purge.

`run_timers(session=, settings=, now=)` does one pass and is safe to run any number of times, by any
number of workers at once: every reminder first inserts its key (referral, kind, due) into
`referral_dispatch` with insert-or-skip, and only the caller whose insert landed sends it; expiry goes
through the workflow's optimistic lock, so only one worker's cancellation wins.
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, select

from core.clock import utcnow
from core.errors import DomainError
from core.logging import get_logger
from core.mail import deliver
from core.settings import Settings
from core.workers import PeriodicWorker
from referrals import notifications, privacy
from referrals.codes import Status
from referrals.db import as_utc, insert_or_skip
from referrals.models import Referral, ReferralCandidate, ReferralDispatch, ReferralFollowUp
from referrals.service import apply_action
from referrals.workflow import Action

log = get_logger(__name__)
_FOLLOWUP_STATUSES = [Status.accepted, Status.in_progress, Status.on_hold, Status.completed]


def add_business_days(start: datetime, days: int, tz: str) -> datetime:
    """`start` plus `days` working days (Monday-Friday in zone `tz`), at the same local time of day."""
    zone = ZoneInfo(tz)
    local = as_utc(start).astimezone(zone)
    day, counted = local.date(), 0
    while counted < days:
        day += timedelta(days=1)
        if day.weekday() < 5:
            counted += 1
    result = datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=zone)
    return as_utc(result)


@dataclass
class TimerSummary:
    reminders: int = 0
    expired: int = 0
    followups: int = 0
    revocations_retried: int = 0
    purged: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "errors"} | {"errors": len(self.errors)}


def run_timers(*, session: Session, settings: Settings, now: datetime) -> TimerSummary:
    summary = TimerSummary()
    _expire(session, settings, now, summary)
    _org_reminders(session, settings, now, summary)
    _followup_reminders(session, settings, now, summary)
    _retry_revocations(session, settings, now, summary)
    summary.purged = privacy.purge(session=session, now=now, settings=settings)
    return summary


def _waiting(session: Session, now: datetime, older_than_days: int) -> list[Referral]:
    return list(
        session.exec(
            select(Referral)
            .where(
                Referral.status == Status.requested,
                col(Referral.requested_at).is_not(None),
                col(Referral.requested_at) <= now - timedelta(days=older_than_days),
            )
            .order_by(col(Referral.requested_at))
        ).all()
    )


def expiry_due(referral: Referral, settings: Settings) -> datetime:
    assert referral.requested_at is not None
    return add_business_days(referral.requested_at, settings.referral_expiry_business_days, settings.referral_timezone)


def _expire(session: Session, settings: Settings, now: datetime, summary: TimerSummary) -> None:
    for referral in _waiting(session, now, settings.referral_expiry_business_days):
        if expiry_due(referral, settings) > now:
            continue
        try:
            apply_action(
                session=session, referral_id=referral.id, actor=None, action=Action.expire, now=now, settings=settings
            )
            summary.expired += 1
        except DomainError:  # another worker expired it, or someone answered meanwhile
            session.rollback()
            summary.skipped += 1


def _org_reminders(session: Session, settings: Settings, now: datetime, summary: TimerSummary) -> None:
    first = min(settings.referral_reminder_business_days, default=0)
    if not first:
        return
    for referral in _waiting(session, now, first):
        assert referral.requested_at is not None
        due_times = [
            (n, add_business_days(referral.requested_at, n, settings.referral_timezone))
            for n in settings.referral_reminder_business_days
        ]
        latest = [(n, due) for n, due in due_times if due <= now]
        if not latest:
            continue
        n, due = max(latest, key=lambda item: item[1])  # after downtime, send the latest one only
        orgs = (
            [referral.recipient_organization_id]
            if referral.recipient_organization_id
            else _candidates(session, referral.id)
        )
        users = notifications.org_member_ids(session, [o for o in orgs if o])
        _dispatch(session, settings, now, summary, referral.id, f"org-reminder-{n}bd", due, users, "reminder")


def _candidates(session: Session, referral_id: uuid.UUID) -> list[uuid.UUID]:
    return list(
        session.exec(
            select(ReferralCandidate.organization_id).where(ReferralCandidate.referral_id == referral_id)
        ).all()
    )


def _followup_reminders(session: Session, settings: Settings, now: datetime, summary: TimerSummary) -> None:
    rows = session.exec(
        select(ReferralFollowUp, Referral.creator_id)
        .join(Referral, col(Referral.id) == ReferralFollowUp.referral_id)
        .where(
            col(ReferralFollowUp.done_at).is_(None),
            col(ReferralFollowUp.due_at) <= now,
            col(Referral.status).in_(_FOLLOWUP_STATUSES),
        )
    ).all()
    for followup, creator_id in rows:
        _dispatch(
            session,
            settings,
            now,
            summary,
            followup.referral_id,
            f"followup-{followup.kind}",
            as_utc(followup.due_at),
            [creator_id],
            "followup-due",
        )


def _dispatch(
    session: Session,
    settings: Settings,
    now: datetime,
    summary: TimerSummary,
    referral_id: uuid.UUID,
    kind: str,
    due: datetime,
    users: list[uuid.UUID],
    message: str,
) -> None:
    """Send once per (referral, kind, due): the key row and the in-app notifications commit together."""
    try:
        owned = insert_or_skip(
            session,
            ReferralDispatch,
            {
                "referral_id": referral_id,
                "kind": kind,
                "due_at": due,
                "created_at": now,
            },
            ["referral_id", "kind", "due_at"],
        )
        if not owned:
            session.rollback()
            summary.skipped += 1
            return
        mails = notifications.notify(
            session, settings=settings, user_ids=users, referral_id=referral_id, kind=message, now=now
        )
        session.commit()
    except (IntegrityError, OperationalError) as exc:
        session.rollback()
        summary.errors.append(f"{kind} for {referral_id}: {exc.__class__.__name__}")
        return
    deliver(settings, mails)
    if message == "reminder":
        summary.reminders += 1
    else:
        summary.followups += 1


def _retry_revocations(session: Session, settings: Settings, now: datetime, summary: TimerSummary) -> None:
    for referral_id in privacy.open_referrals_for_cancellation(session):
        try:
            apply_action(
                session=session, referral_id=referral_id, actor=None, action=Action.revoke, now=now, settings=settings
            )
            summary.revocations_retried += 1
        except DomainError:
            session.rollback()


class TimerWorker(PeriodicWorker):
    """Runs `run_timers` every `settings.referral_timer_interval` seconds in a daemon thread."""

    thread_name = "referral-timers"

    def __init__(self, engine: Engine, settings: Settings) -> None:
        super().__init__()
        self.engine, self.settings = engine, settings
        self._last_error = ""

    def run_once(self) -> TimerSummary:
        with Session(self.engine, expire_on_commit=False) as session:
            return run_timers(session=session, settings=self.settings, now=utcnow())

    def step(self) -> float:
        try:
            summary = self.run_once()
            self._last_error = ""
            if summary.reminders or summary.expired or summary.followups or summary.purged:
                log.info("referral timers ran", **summary.as_dict())
        except Exception as exc:  # keep the worker alive; the next pass retries
            # One line, once per distinct error: a missing migration must not flood the log every minute.
            error = " ".join(str(getattr(exc, "orig", exc)).split())[:300] or type(exc).__name__
            if error != self._last_error:
                log.error("referral timers failed; retrying every interval", error=error)
            self._last_error = error
        return self.settings.referral_timer_interval


def start_timer_worker(app: FastAPI) -> TimerWorker:
    return TimerWorker(app.state.engine, app.state.settings).start()
