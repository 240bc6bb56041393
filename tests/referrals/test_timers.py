"""Timers driven by a controllable clock: reminders at 1 and 2 business days, expiry at 5, peer follow-ups,
and no double sends when run twice or by two workers at once."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.clock import utcnow
from core.settings import Settings
from referrals.codes import Status
from referrals.models import Referral, ReferralDispatch, ReferralNotification
from referrals.queries import dashboard
from referrals.service import apply_action
from referrals.timers import TimerSummary, add_business_days, run_timers
from referrals.workflow import Action, ActionInput
from tests.factories import NOW, World, make_referral
from tests.referrals.conftest import mail_texts

NY = "America/New_York"


def notifications_of(session: Session, user_id: object, kind: str) -> int:
    return int(
        session.exec(
            select(func.count())
            .select_from(ReferralNotification)
            .where(ReferralNotification.user_id == user_id, ReferralNotification.kind == kind)
        ).one()
    )


def dispatches(session: Session) -> list[str]:
    return sorted(session.exec(select(ReferralDispatch.kind)).all())


def test_business_days_skip_weekends_and_keep_local_time() -> None:
    monday = datetime(2030, 3, 4, 15, 0, tzinfo=UTC)  # 10:00 in New York
    assert add_business_days(monday, 1, NY) == datetime(2030, 3, 5, 15, 0, tzinfo=UTC)
    assert add_business_days(monday, 5, NY) == datetime(2030, 3, 11, 14, 0, tzinfo=UTC)  # DST began on the 10th
    friday = datetime(2030, 3, 1, 15, 0, tzinfo=UTC)
    assert add_business_days(friday, 1, NY) == datetime(2030, 3, 4, 15, 0, tzinfo=UTC)
    saturday = datetime(2030, 3, 2, 15, 0, tzinfo=UTC)
    assert add_business_days(saturday, 2, NY) == datetime(2030, 3, 5, 15, 0, tzinfo=UTC)


def test_reminders_then_expiry_on_the_business_day_clock(session: Session, settings: Settings, world: World) -> None:
    referral = make_referral(session, world, settings, Status.requested)
    runs: list[tuple[datetime, TimerSummary]] = []
    for at in (
        NOW + timedelta(hours=23),
        NOW + timedelta(days=1),
        NOW + timedelta(days=1, hours=1),
        NOW + timedelta(days=2),
        NOW + timedelta(days=4),
    ):
        runs.append((at, run_timers(session=session, settings=settings, now=at)))
    assert [s.reminders for _, s in runs] == [0, 1, 0, 1, 0]
    assert dispatches(session) == ["org-reminder-1bd", "org-reminder-2bd"]
    assert notifications_of(session, world.member.id, "reminder") == 2
    session.expire_all()
    assert session.get(Referral, referral.id).status == Status.requested  # type: ignore[union-attr]

    expiry = add_business_days(NOW, 5, NY)  # next Monday (the clocks changed on Sunday)
    assert run_timers(session=session, settings=settings, now=expiry - timedelta(minutes=1)).expired == 0
    assert run_timers(session=session, settings=settings, now=expiry).expired == 1
    session.expire_all()
    expired = session.get(Referral, referral.id)
    assert expired is not None
    assert (expired.status, expired.business_status) == (Status.cancelled, "expired-no-response")
    assert notifications_of(session, world.peer.id, "expired") == 1
    assert run_timers(session=session, settings=settings, now=expiry + timedelta(hours=1)).expired == 0


def test_running_twice_never_sends_twice(session: Session, settings: Settings, world: World) -> None:
    make_referral(session, world, settings, Status.requested)
    at = NOW + timedelta(days=1, minutes=5)
    first = run_timers(session=session, settings=settings, now=at)
    mails = len(mail_texts(settings))
    second = run_timers(session=session, settings=settings, now=at)
    assert (first.reminders, second.reminders) == (1, 0)
    assert len(mail_texts(settings)) == mails
    assert notifications_of(session, world.member.id, "reminder") == 1


def test_two_workers_at_once_send_each_reminder_once(
    engine: Engine, session: Session, settings: Settings, world: World
) -> None:
    for _ in range(3):
        make_referral(session, world, settings, Status.requested)
    at = NOW + timedelta(days=5, hours=2)  # past both reminders; not yet expired (that is next Monday)
    barrier = threading.Barrier(4)
    results: list[TimerSummary] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with Session(engine, expire_on_commit=False) as own:
                barrier.wait()
                results.append(run_timers(session=own, settings=settings, now=at))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert sum(r.reminders for r in results) == 3  # one (the latest due) per referral, whoever sent it
    assert len(dispatches(session)) == 3
    assert notifications_of(session, world.member.id, "reminder") == 3


def test_two_workers_expire_once(engine: Engine, session: Session, settings: Settings, world: World) -> None:
    referral = make_referral(session, world, settings, Status.requested)
    at = add_business_days(NOW, 5, NY) + timedelta(minutes=1)
    barrier = threading.Barrier(3)
    results: list[TimerSummary] = []

    def worker() -> None:
        with Session(engine, expire_on_commit=False) as own:
            barrier.wait()
            results.append(run_timers(session=own, settings=settings, now=at))

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(r.expired for r in results) == 1
    session.expire_all()
    assert session.get(Referral, referral.id).status == Status.cancelled  # type: ignore[union-attr]
    assert notifications_of(session, world.peer.id, "expired") == 1


def test_peer_follow_ups_are_due_and_reminded_once(session: Session, settings: Settings, world: World) -> None:
    referral = make_referral(session, world, settings, Status.accepted)
    board = dashboard(session=session, user=world.peer, now=NOW + timedelta(hours=1), settings=settings)
    assert board.followups_due == []
    three_days = NOW + timedelta(hours=72)
    board = dashboard(session=session, user=world.peer, now=three_days - timedelta(hours=2), settings=settings)
    assert [i.followup_kind for i in board.followups_due] == ["72h"]  # due later today
    assert run_timers(session=session, settings=settings, now=three_days).followups == 1
    assert run_timers(session=session, settings=settings, now=three_days + timedelta(hours=1)).followups == 0
    assert notifications_of(session, world.peer.id, "followup-due") == 1
    apply_action(
        session=session,
        referral_id=referral.id,
        actor=world.peer,
        action=Action.follow_up,
        data=ActionInput(followup_kind="72h"),
        now=three_days,
        settings=settings,
    )
    board = dashboard(session=session, user=world.peer, now=three_days, settings=settings)
    assert board.followups_due == []
    assert run_timers(session=session, settings=settings, now=NOW + timedelta(days=7)).followups == 1  # the 7-day


def test_answered_referrals_get_no_reminders(session: Session, settings: Settings, world: World) -> None:
    make_referral(session, world, settings, Status.accepted)
    summary = run_timers(session=session, settings=settings, now=NOW + timedelta(days=2))
    assert (summary.reminders, summary.expired) == (0, 0)
    assert dispatches(session) == []


def test_open_referral_reminds_the_candidate_organizations(session: Session, settings: Settings, world: World) -> None:
    make_referral(session, world, settings, Status.requested, is_open=True)
    run_timers(session=session, settings=settings, now=NOW + timedelta(days=1))
    assert notifications_of(session, world.member.id, "reminder") == 1
    assert notifications_of(session, world.member_b.id, "reminder") == 0


def test_in_process_worker_is_registered_and_runs(
    engine: Engine, session: Session, settings: Settings, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.app import create_app, worker_factories
    from referrals.timers import TimerWorker, start_timer_worker

    create_app(settings, engine=engine)
    assert start_timer_worker in worker_factories()
    old = make_referral(session, world, settings, Status.requested, now=utcnow() - timedelta(days=10))
    fast = settings.model_copy(update={"referral_timer_interval": 0.05})
    worker = TimerWorker(engine, fast).start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            session.expire_all()
            if session.get(Referral, old.id).status == Status.cancelled:  # type: ignore[union-attr]
                break
            time.sleep(0.05)
    finally:
        worker.stop()
    assert session.get(Referral, old.id).status == Status.cancelled  # type: ignore[union-attr]
    assert not worker._thread.is_alive()  # type: ignore[union-attr]


def test_worker_command_runs_one_pass(engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from core.settings import get_settings
    from referrals.__main__ import app as cli

    monkeypatch.setenv("DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("DATABASE_URL", settings.effective_database_url)
    get_settings.cache_clear()
    try:
        outcome = CliRunner().invoke(cli, ["worker", "--once"])
        purged = CliRunner().invoke(cli, ["purge", "--days", "30"])
    finally:
        get_settings.cache_clear()
    assert outcome.exit_code == 0 and "referral timers:" in outcome.output, outcome.output
    assert purged.exit_code == 0 and "purged personal details of 0 referrals" in purged.output
