"""Referral test builders: two organizations with listings, peers, members, an admin, and referrals in any
status reached through the real workflow. The clock is a fixed Monday afternoon (UTC) passed as `now`."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from accounts.models import Membership, PeerProfile, User
from core.settings import Settings
from directory.listings.models import Service
from directory.listings.service import ensure_taxonomy
from referrals.codes import Status
from referrals.models import Referral, ReferralEvent
from referrals.schemas import ConsentIn, ReferralCreate
from referrals.service import apply_action, create_referral
from referrals.workflow import Action, ActionInput
from tests.search.conftest import make_listing, place

NOW = datetime(2030, 3, 4, 15, 0, tzinfo=UTC)  # a Monday, 10:00 in New York
PERSON = "Zephyrine"  # distinctive, so tests can search for leaks of it
NEED = "needs groceries for twin toddlers this week"
CONTACT = "312-555-0199"


@dataclass
class World:
    peer: User  # P: sends the referrals
    peer_b: User  # another peer
    member: User  # O: member of org A (the usual recipient)
    member_b: User  # member of org B
    admin: User
    outsider: User  # signed in, no relation to anything
    supervisor: User  # supervises `peer`
    service_a: Service  # food pantry in Chicago, org A
    service_b: Service  # food bank in Brooklyn, org B

    @property
    def org_a(self) -> uuid.UUID:
        return self.service_a.organization_id

    @property
    def org_b(self) -> uuid.UUID:
        return self.service_b.organization_id


def make_user(session: Session, email: str, **flags: Any) -> User:
    user = User(email=email, display_name=email.split("@")[0].title(), password_hash="x", **flags)
    session.add(user)
    session.commit()
    return user


def make_peer(session: Session, email: str, supervisor: User | None = None) -> User:
    user = make_user(session, email)
    session.add(PeerProfile(user_id=user.id, credential="CPRS", supervisor_id=supervisor.id if supervisor else None))
    session.commit()
    return user


def make_member(
    session: Session, email: str, organization_id: uuid.UUID, role: str = "editor", trusted: bool = False
) -> User:
    user = make_user(session, email)
    session.add(Membership(user_id=user.id, organization_id=organization_id, role=role, trusted=trusted))
    session.commit()
    return user


def build_world(session: Session) -> World:
    ensure_taxonomy(session=session)
    suffix = uuid.uuid4().hex[:6]
    service_a = make_listing(
        session,
        name="Northside Food Pantry",
        organization=f"Northside Neighbors {suffix}",
        categories=["food-pantry", "free-meals"],
        places=[place(41.9717, -87.6590, postal_code="60640")],
    )
    service_b = make_listing(
        session,
        name="Brooklyn Food Bank",
        organization=f"Brooklyn Neighbors {suffix}",
        categories=["food-bank"],
        places=[
            place(40.6782, -73.9442, city="Brooklyn", state="NY", postal_code="11216", timezone="America/New_York")
        ],
    )
    supervisor = make_user(session, f"sup-{suffix}@example.org", is_supervisor=True)
    return World(
        peer=make_peer(session, f"peer-{suffix}@example.org", supervisor),
        peer_b=make_peer(session, f"peerb-{suffix}@example.org"),
        member=make_member(session, f"member-{suffix}@example.org", service_a.organization_id),
        member_b=make_member(session, f"memberb-{suffix}@example.org", service_b.organization_id),
        admin=make_user(session, f"admin-{suffix}@example.org", is_network_admin=True),
        outsider=make_user(session, f"outsider-{suffix}@example.org"),
        supervisor=supervisor,
        service_a=service_a,
        service_b=service_b,
    )


@pytest.fixture
def world(session: Session) -> World:
    return build_world(session)


def consent_for(w: World, **overrides: Any) -> ConsentIn:
    values: dict[str, Any] = {
        "scope": "organization",
        "recipient_organization_id": w.org_a,
        "fields": ["first_name", "contact", "language", "need"],
        "purpose": "Connect with the pantry",
        "method": "verbal",
        "expires_at": NOW + timedelta(days=90),
    }
    values.update(overrides)
    return ConsentIn.model_validate(values)


def referral_input(w: World, **overrides: Any) -> ReferralCreate:
    values: dict[str, Any] = {
        "service_id": w.service_a.id,
        "person_name": PERSON,
        "contact_channel": "phone",
        "contact_detail": CONTACT,
        "contact_time": "weekday mornings",
        "language": "es",
        "need_categories": ["food-pantry"],
        "need_text": NEED,
        "urgency": "urgent",
        "consent": consent_for(w),
    }
    values.update(overrides)
    return ReferralCreate.model_validate(values)


def open_input(w: World, **overrides: Any) -> ReferralCreate:
    return referral_input(
        w,
        is_open=True,
        open_category="food-pantry",
        open_postal_code="60640",
        open_radius_miles=10,
        consent=consent_for(w, scope="open", recipient_organization_id=None),
        **overrides,
    )


# How to reach each status from `requested`, through the real workflow: (action, actor attribute, input).
PATHS: dict[str, list[tuple[Action, str | None, ActionInput]]] = {
    Status.requested: [],
    Status.accepted: [(Action.accept, "member", ActionInput())],
    Status.in_progress: [(Action.accept, "member", ActionInput()), (Action.start, "member", ActionInput())],
    Status.on_hold: [
        (Action.accept, "member", ActionInput()),
        (Action.hold, "member", ActionInput(reason_code="waitlisted")),
    ],
    Status.completed: [
        (Action.accept, "member", ActionInput()),
        (Action.complete, "member", ActionInput(outcome_code="service-received")),
    ],
    Status.rejected: [(Action.decline, "member", ActionInput(reason_code="not-eligible"))],
    Status.failed: [
        (Action.accept, "member", ActionInput()),
        (Action.fail, "member", ActionInput(reason_code="no-show")),
    ],
    Status.cancelled: [(Action.cancel, "peer", ActionInput(reason_code="withdrawn-by-referrer"))],
    Status.entered_in_error: [(Action.enter_in_error, "admin", ActionInput(reason_code="duplicate"))],
}


def make_referral(
    session: Session,
    w: World,
    settings: Settings,
    status: str = Status.requested,
    *,
    now: datetime = NOW,
    is_open: bool = False,
    **overrides: Any,
) -> Referral:
    """A referral in `status`, reached through the real service calls."""
    data = open_input(w, **overrides) if is_open else referral_input(w, **overrides)
    if status == Status.draft:
        return create_referral(
            session=session, actor=w.peer, data=data.model_copy(update={"send": False}), now=now, settings=settings
        )
    referral = create_referral(session=session, actor=w.peer, data=data, now=now, settings=settings)
    for action, who, payload in PATHS[status]:
        actor = getattr(w, who) if who else None
        referral = apply_action(
            session=session,
            referral_id=referral.id,
            actor=actor,
            action=action,
            data=payload,
            now=now,
            settings=settings,
        )
    assert referral.status == status
    return referral


def event_count(session: Session, referral_id: uuid.UUID | None = None) -> int:
    query = select(func.count()).select_from(ReferralEvent)
    if referral_id is not None:
        query = query.where(ReferralEvent.referral_id == referral_id)
    return int(session.exec(query).one())


def snapshot(session: Session, referral_id: uuid.UUID) -> tuple[str, int, str | None, int]:
    """What must not change after a refused action: status, version, business status, events."""
    session.expire_all()
    row = session.get(Referral, referral_id)
    assert row is not None
    return row.status, row.version, row.business_status, event_count(session, referral_id)


def mail_texts(settings: Settings) -> list[str]:
    folder = settings.data_dir / "mail"
    return [p.read_text(errors="replace") for p in sorted(folder.glob("*.eml"))] if folder.exists() else []


# --- HTTP -------------------------------------------------------------------------------------------


@pytest.fixture
def app(settings: Settings, engine: Any, meili_server: Any) -> Any:
    from core.app import create_app

    return create_app(settings, engine=engine, meili=meili_server)


@pytest.fixture
def people(app: Any, session: Session, world: World) -> dict[str, Any]:
    """Everyone in `world`, signed in: people["peer"].browser / .api / .csrf / .post_form(...)."""
    from tests.referrals.web import sign_in

    names = ("peer", "peer_b", "member", "member_b", "admin", "outsider", "supervisor")
    return {name: sign_in(app, session, getattr(world, name)) for name in names}
