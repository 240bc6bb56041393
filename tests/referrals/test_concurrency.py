"""People acting at the same moment, with real threads against the same database (SQLite file, or
PostgreSQL when TEST_DATABASE_URL is set): exactly one wins, the others get 409, nothing is half-written."""

import threading
import uuid
from collections.abc import Callable

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from accounts.models import User
from core.errors import DomainError
from core.settings import Settings
from referrals.audit import audit_key, verify_chain
from referrals.codes import Status
from referrals.models import Referral, ReferralEvent
from referrals.service import apply_action
from referrals.workflow import Action, ActionInput
from tests.factories import NOW, World, insert_listing, make_member, make_referral, place


def race(engine: Engine, attempts: list[Callable[[Session], object]]) -> tuple[list[object], list[DomainError]]:
    """Run every attempt in its own thread and session, released together by a barrier."""
    barrier = threading.Barrier(len(attempts))
    wins: list[object] = []
    losses: list[DomainError] = []
    unexpected: list[BaseException] = []
    lock = threading.Lock()

    def run(attempt: Callable[[Session], object]) -> None:
        with Session(engine, expire_on_commit=False) as session:
            barrier.wait()
            try:
                result = attempt(session)
                with lock:
                    wins.append(result)
            except DomainError as exc:
                with lock:
                    losses.append(exc)
            except BaseException as exc:
                with lock:
                    unexpected.append(exc)

    threads = [threading.Thread(target=run, args=(a,)) for a in attempts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not unexpected, unexpected
    return wins, losses


def _attempt(
    referral_id: uuid.UUID, actor: User, action: Action, settings: Settings, data: ActionInput | None = None
) -> Callable[[Session], object]:
    def go(session: Session) -> object:
        return apply_action(
            session=session, referral_id=referral_id, actor=actor, action=action, data=data, now=NOW, settings=settings
        )

    return go


def _events(session: Session, referral_id: uuid.UUID, action: str) -> int:
    return len(
        session.exec(
            select(ReferralEvent).where(ReferralEvent.referral_id == referral_id, ReferralEvent.action == action)
        ).all()
    )


def test_concurrent_accepts_leave_exactly_one_winner(
    engine: Engine, session: Session, settings: Settings, world: World
) -> None:
    referral = make_referral(session, world, settings, Status.requested)
    v0 = referral.version
    colleagues = [world.member] + [
        make_member(session, f"c{i}-{uuid.uuid4().hex[:6]}@example.org", world.org_a) for i in range(7)
    ]
    wins, losses = race(engine, [_attempt(referral.id, m, Action.accept, settings) for m in colleagues])
    assert len(wins) == 1 and len(losses) == 7
    assert {e.status_code for e in losses} == {409}
    session.expire_all()
    stored = session.get(Referral, referral.id)
    assert stored is not None and stored.status == Status.accepted and stored.version == v0 + 1
    assert _events(session, referral.id, "accept") == 1
    assert verify_chain(session, key=audit_key(settings)).ok


def test_accept_decline_and_withdraw_at_once_one_wins(
    engine: Engine, session: Session, settings: Settings, world: World
) -> None:
    referral = make_referral(session, world, settings, Status.requested)
    v0 = referral.version
    attempts = [
        _attempt(referral.id, world.member, Action.accept, settings),
        _attempt(referral.id, world.member, Action.decline, settings, ActionInput(reason_code="at-capacity")),
        _attempt(referral.id, world.peer, Action.cancel, settings, ActionInput(reason_code="person-declined")),
    ]
    wins, losses = race(engine, attempts)
    assert len(wins) == 1 and len(losses) == 2
    session.expire_all()
    stored = session.get(Referral, referral.id)
    assert stored is not None and stored.status in (Status.accepted, Status.rejected, Status.cancelled)
    assert stored.version == v0 + 1
    assert sum(_events(session, referral.id, a) for a in ("accept", "decline", "cancel")) == 1
    assert verify_chain(session, key=audit_key(settings)).ok


def test_open_referral_is_claimed_by_exactly_one_organization(
    engine: Engine, session: Session, settings: Settings, world: World
) -> None:
    others = []
    for i in range(3):  # three more pantries near the first one
        listing = insert_listing(
            session,
            name=f"Pantry {i}",
            organization=f"Neighbors {i} {uuid.uuid4().hex[:4]}",
            categories=["food-pantry"],
            places=[place(41.97 + i / 100, -87.66, postal_code="60640")],
        )
        others.append(make_member(session, f"claim{i}-{uuid.uuid4().hex[:6]}@example.org", listing.organization_id))
    referral = make_referral(session, world, settings, Status.requested, is_open=True)
    claimers = [world.member, *others]
    wins, losses = race(engine, [_attempt(referral.id, m, Action.claim, settings) for m in claimers])
    # A loser that raced the winner gets 409; one that arrives after the claim committed no longer sees
    # the open referral at all (it is now private to the winner) and gets 404. Either way it changed nothing.
    assert len(wins) == 1 and len(losses) == len(claimers) - 1
    assert {e.status_code for e in losses} <= {404, 409}
    session.expire_all()
    stored = session.get(Referral, referral.id)
    assert stored is not None and stored.status == Status.accepted
    winner = wins[0]
    assert isinstance(winner, Referral) and stored.recipient_organization_id == winner.recipient_organization_id
    assert _events(session, referral.id, "claim") == 1
    assert verify_chain(session, key=audit_key(settings)).ok


def test_many_referrals_in_parallel_keep_one_unbroken_chain(
    engine: Engine, session: Session, settings: Settings, world: World
) -> None:
    referrals = [make_referral(session, world, settings, Status.requested) for _ in range(6)]
    wins, losses = race(engine, [_attempt(r.id, world.member, Action.accept, settings) for r in referrals])
    assert len(wins) == 6 and not losses
    result = verify_chain(session, key=audit_key(settings))
    assert result.ok, result.describe()
