"""The state machine: every (status, action, role) combination, then the requirements one by one."""

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from core.db import make_engine
from core.errors import DomainError
from core.settings import Settings
from referrals.codes import TERMINAL, Role, Status
from referrals.models import Referral, ReferralEvent, ReferralFollowUp
from referrals.service import apply_action, create_referral
from referrals.workflow import ENTERED_IN_ERROR_WINDOW, TRANSITIONS, Action, ActionInput
from tests.conftest import _database_url
from tests.factories import NOW, World, build_world, make_referral, referral_input
from tests.referrals.conftest import snapshot

ROLES = ("P", "O", "SYS", "admin", "supervisor", "outsider")
ACTOR = {"P": "peer", "O": "member", "admin": "admin", "supervisor": "supervisor", "outsider": "outsider"}
PAYLOAD: dict[Action, ActionInput] = {
    Action.decline: ActionInput(reason_code="not-eligible", reason_text="outside our age range"),
    Action.cancel: ActionInput(reason_code="withdrawn-by-referrer"),
    Action.fail: ActionInput(reason_code="no-show"),
    Action.hold: ActionInput(reason_code="waitlisted"),
    Action.enter_in_error: ActionInput(reason_code="duplicate"),
    Action.complete: ActionInput(outcome_code="service-received"),
    Action.log_contact: ActionInput(channel="phone", result="no-answer"),
    Action.schedule: ActionInput(appointment_at=NOW + timedelta(days=2)),
    Action.handoff: ActionInput(handoff_mode="three-way-call"),
    Action.follow_up: ActionInput(followup_kind="72h"),
}
CASES = [(s, a, r) for s in Status for a in Action for r in ROLES]


def expected_error(status: Status, action: Action, role: str) -> int | None:
    """None when the move must succeed, else the HTTP status of the refusal."""
    if role == "outsider" or (role == "O" and status == Status.draft):
        return 404  # cannot know the referral exists (a draft is not sent to anyone yet)
    rule = TRANSITIONS.get((status, action))
    if rule is None:
        return 409
    if role == "supervisor" or Role(role) not in rule.roles:
        return 403
    return None


# One schema and one cast of people for the ~1,100 cases: each case still gets its own fresh referral.
@pytest.fixture(scope="module")
def mx_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    tmp: Path = tmp_path_factory.mktemp("matrix")
    eng = make_engine(Settings(data_dir=tmp), _database_url(tmp))
    SQLModel.metadata.drop_all(eng)
    SQLModel.metadata.create_all(eng)
    yield eng
    SQLModel.metadata.drop_all(eng)
    eng.dispose()


@pytest.fixture(scope="module")
def mx_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("matrix-data"), embedded_workers=False)


@pytest.fixture(scope="module")
def mx_world(mx_engine: Engine) -> World:
    with Session(mx_engine, expire_on_commit=False) as session:
        return build_world(session)


@pytest.mark.parametrize(("status", "action", "role"), CASES, ids=[f"{s}-{a}-{r}" for s, a, r in CASES])
def test_every_status_action_role(
    mx_engine: Engine, mx_settings: Settings, mx_world: World, status: Status, action: Action, role: str
) -> None:
    with Session(mx_engine, expire_on_commit=False) as session:
        is_open = action == Action.claim and status == Status.requested
        referral = make_referral(session, mx_world, mx_settings, status, is_open=is_open)
        before = snapshot(session, referral.id)
        actor = None if role == "SYS" else getattr(mx_world, ACTOR[role])
        error = expected_error(status, action, role)
        if error is not None:
            with pytest.raises(DomainError) as raised:
                apply_action(
                    session=session,
                    referral_id=referral.id,
                    actor=actor,
                    action=action,
                    data=PAYLOAD.get(action),
                    now=NOW,
                    settings=mx_settings,
                )
            assert raised.value.status_code == error, raised.value.message
            assert raised.value.message  # a clear message for the person
            assert snapshot(session, referral.id) == before
            return
        after = apply_action(
            session=session,
            referral_id=referral.id,
            actor=actor,
            action=action,
            data=PAYLOAD.get(action),
            now=NOW,
            settings=mx_settings,
        )
        rule = TRANSITIONS[(status, action)]
        assert after.status == (rule.to or status)
        assert after.version == before[1] + 1
        last = session.exec(
            select(ReferralEvent)
            .where(ReferralEvent.referral_id == referral.id)
            .order_by(col(ReferralEvent.seq).desc())
        ).first()
        assert last is not None and last.action == action and last.actor_role == role
        assert (last.from_status, last.to_status) == (status, after.status)
        assert snapshot(session, referral.id)[3] == before[3] + 1


def test_table_spot_checks_match_the_design() -> None:
    """A few moves named in ARCHITECTURE §6, written out independently of the table."""
    assert expected_error(Status.draft, Action.submit, "P") is None
    assert expected_error(Status.requested, Action.accept, "O") is None
    assert expected_error(Status.requested, Action.decline, "O") is None
    assert expected_error(Status.requested, Action.cancel, "P") is None
    assert expected_error(Status.requested, Action.expire, "SYS") is None
    assert expected_error(Status.requested, Action.accept, "P") == 403
    assert expected_error(Status.in_progress, Action.hold, "O") is None
    assert expected_error(Status.on_hold, Action.resume, "O") is None
    assert expected_error(Status.completed, Action.accept, "O") == 409
    assert expected_error(Status.rejected, Action.accept, "O") == 409
    assert expected_error(Status.cancelled, Action.enter_in_error, "admin") is None
    assert expected_error(Status.entered_in_error, Action.enter_in_error, "admin") == 409


def test_terminal_statuses_are_never_reopened() -> None:
    for (status, _action), rule in TRANSITIONS.items():
        if status in TERMINAL:
            assert rule.to in (None, Status.entered_in_error), (status, _action)


def _act(
    session: Session,
    w: World,
    settings: Settings,
    referral: Referral,
    action: Action,
    who: str = "member",
    **data: Any,
) -> Referral:
    return apply_action(
        session=session,
        referral_id=referral.id,
        actor=getattr(w, who),
        action=action,
        data=ActionInput(**data),
        now=NOW,
        settings=settings,
    )


@pytest.mark.parametrize(
    ("status", "action", "data", "field"),
    [
        (Status.requested, Action.decline, {}, "reason_code"),
        (Status.requested, Action.decline, {"reason_code": "made-up"}, "reason_code"),
        (Status.accepted, Action.complete, {}, "outcome_code"),
        (Status.accepted, Action.fail, {}, "reason_code"),
        (Status.accepted, Action.fail, {"reason_code": "unable-to-contact"}, "reason_code"),
        (Status.accepted, Action.hold, {"reason_code": "no-show"}, "reason_code"),
        (Status.accepted, Action.log_contact, {"channel": "pigeon", "result": "reached"}, "channel"),
        (Status.accepted, Action.schedule, {}, "appointment_at"),
        (Status.accepted, Action.handoff, {"handoff_mode": "telepathy"}, "handoff_mode"),
    ],
    ids=[
        "decline-no-reason",
        "decline-unknown-reason",
        "complete-no-outcome",
        "fail-no-reason",
        "unable-to-contact-without-attempts",
        "hold-wrong-reason",
        "contact-bad-channel",
        "schedule-no-date",
        "handoff-unknown-mode",
    ],
)
def test_requirements_give_422_and_change_nothing(
    session: Session, settings: Settings, world: World, status: Status, action: Action, data: dict, field: str
) -> None:
    referral = make_referral(session, world, settings, status)
    before = snapshot(session, referral.id)
    with pytest.raises(DomainError) as raised:
        _act(session, world, settings, referral, action, **data)
    assert raised.value.status_code == 422
    assert field in getattr(raised.value, "errors", {})
    assert snapshot(session, referral.id) == before


def test_unable_to_contact_needs_two_logged_unsuccessful_attempts(
    session: Session, settings: Settings, world: World
) -> None:
    referral = make_referral(session, world, settings, Status.accepted)
    _act(session, world, settings, referral, Action.log_contact, channel="phone", result="no-answer")
    with pytest.raises(DomainError, match="at least 2"):
        _act(session, world, settings, referral, Action.fail, reason_code="unable-to-contact")
    _act(session, world, settings, referral, Action.log_contact, channel="text", result="left-message")
    done = _act(session, world, settings, referral, Action.fail, reason_code="unable-to-contact")
    assert (done.status, done.status_reason_code) == (Status.failed, "unable-to-contact")
    assert done.business_status == "contact-attempted"


def test_entered_in_error_window_for_the_creator(session: Session, settings: Settings, world: World) -> None:
    referral = make_referral(session, world, settings, Status.requested)
    later = NOW + ENTERED_IN_ERROR_WINDOW + timedelta(minutes=1)
    with pytest.raises(DomainError) as raised:
        apply_action(
            session=session,
            referral_id=referral.id,
            actor=world.peer,
            action=Action.enter_in_error,
            data=ActionInput(reason_code="duplicate"),
            now=later,
            settings=settings,
        )
    assert raised.value.status_code == 403
    done = apply_action(
        session=session,
        referral_id=referral.id,
        actor=world.admin,
        action=Action.enter_in_error,
        data=ActionInput(reason_code="duplicate"),
        now=later,
        settings=settings,
    )
    assert done.status == Status.entered_in_error and done.content_hidden


def test_stale_version_is_a_conflict(session: Session, settings: Settings, world: World) -> None:
    referral = make_referral(session, world, settings, Status.requested)
    before = snapshot(session, referral.id)
    with pytest.raises(DomainError) as raised:
        apply_action(
            session=session,
            referral_id=referral.id,
            actor=world.member,
            action=Action.accept,
            now=NOW,
            settings=settings,
            expected_version=referral.version - 1,
        )
    assert raised.value.status_code == 409
    assert snapshot(session, referral.id) == before


def test_handoff_moves_follow_ups_and_hold_records_the_reason(
    session: Session, settings: Settings, world: World
) -> None:
    referral = make_referral(session, world, settings, Status.accepted)
    held = _act(session, world, settings, referral, Action.hold, reason_code="waitlisted")
    assert (held.status, held.business_status) == (Status.on_hold, "waitlisted")
    later = NOW + timedelta(days=2)
    done = apply_action(
        session=session,
        referral_id=referral.id,
        actor=world.peer,
        action=Action.handoff,
        data=ActionInput(handoff_mode="accompanied-visit"),
        now=later,
        settings=settings,
    )
    assert (done.status, done.business_status) == (Status.in_progress, "handoff-completed")
    dues = {
        f.kind: f.due_at
        for f in session.exec(select(ReferralFollowUp).where(ReferralFollowUp.referral_id == referral.id))
    }
    assert dues["72h"].replace(tzinfo=None) == (later + timedelta(hours=72)).replace(tzinfo=None)


def test_first_look_by_recipient_marks_viewed_once(session: Session, settings: Settings, world: World) -> None:
    from referrals.queries import open_referral

    referral = make_referral(session, world, settings, Status.requested)
    seen, _ = open_referral(session=session, referral_id=referral.id, user=world.member, now=NOW, settings=settings)
    assert seen.business_status == "viewed"
    again, _ = open_referral(session=session, referral_id=referral.id, user=world.member, now=NOW, settings=settings)
    assert again.version == seen.version  # no second "view" event
    mine, _ = open_referral(session=session, referral_id=referral.id, user=world.peer, now=NOW, settings=settings)
    assert mine.version == seen.version


def test_a_new_referral_can_follow_a_closed_one_only(session: Session, settings: Settings, world: World) -> None:
    open_one = make_referral(session, world, settings, Status.requested)
    with pytest.raises(DomainError) as raised:
        create_referral(
            session=session,
            actor=world.peer,
            data=referral_input(world, previous_referral_id=open_one.id),
            now=NOW,
            settings=settings,
        )
    assert raised.value.status_code == 422
    closed = make_referral(session, world, settings, Status.rejected)
    follow = create_referral(
        session=session,
        actor=world.peer,
        data=referral_input(world, previous_referral_id=closed.id),
        now=NOW,
        settings=settings,
    )
    assert follow.previous_referral_id == closed.id and follow.status == Status.requested
    session.expire_all()
    assert session.get(Referral, closed.id).status == Status.rejected  # type: ignore[union-attr]
    with pytest.raises(DomainError):  # someone else's referral cannot be linked
        create_referral(
            session=session,
            actor=world.peer_b,
            data=referral_input(world, previous_referral_id=closed.id),
            now=NOW,
            settings=settings,
        )


def test_only_peers_create_referrals(session: Session, settings: Settings, world: World) -> None:
    with pytest.raises(DomainError) as raised:
        create_referral(session=session, actor=world.member, data=referral_input(world), now=NOW, settings=settings)
    assert raised.value.status_code == 403


def test_unknown_referral_is_404_for_everyone(session: Session, settings: Settings, world: World) -> None:
    with pytest.raises(DomainError) as raised:
        apply_action(
            session=session,
            referral_id=uuid.uuid4(),
            actor=world.admin,
            action=Action.accept,
            now=NOW,
            settings=settings,
        )
    assert raised.value.status_code == 404
