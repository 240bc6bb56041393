"""The test builders: users, memberships, peers, listings, meetings and referrals.

Listings, meetings and referrals are built through the services, as every other writer builds them
(`upsert_listing`, `create_referral` and `apply_action`): `make_listing`, `make_meeting`, `make_referral`.
`insert_listing` is the one exception, for the search tests: it writes a listing's rows directly, because
the outbox tests count the outbox rows they enqueue themselves (the services write one per listing) and the
search fixtures need states the input schema refuses (a confidential place with a chosen public point, a
schedule in another zone than its listing). Users are rows with a password hash computed once per password:
argon2id is deliberately slow, and the account service would hash again for every user.
"""

import itertools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from sqlmodel import Session

from accounts.models import Membership, OrgRole, PeerProfile, User
from accounts.passwords import hash_password
from core.settings import Settings
from directory.listings.details import Accessibility, Attribute, CostOption, Language
from directory.listings.models import (
    Address,
    ConfidentialAddress,
    Location,
    Meeting,
    Organization,
    Schedule,
    Service,
    ServiceAtLocation,
    ServiceKind,
)
from directory.listings.schemas import AddressIn, ListingIn, LocationIn, MeetingIn, OrganizationIn, ScheduleIn
from directory.listings.service import ensure_taxonomy, upsert_listing
from directory.listings.taxonomy import term_id
from referrals.codes import Status
from referrals.models import Referral
from referrals.schemas import ConsentIn, ReferralCreate
from referrals.service import apply_action, create_referral
from referrals.workflow import Action, ActionInput

PASSWORD = "correct horse battery staple"


# --- people ------------------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _hashed(password: str) -> str:
    return hash_password(password)


def make_user(
    session: Session,
    email: str,
    *,
    network_admin: bool = False,
    password: str = PASSWORD,
    display_name: str | None = None,
    **flags: Any,
) -> User:
    """A user who can sign in with `password`; `flags` such as `is_supervisor=True`."""
    user = User(
        email=email,
        display_name=display_name if display_name is not None else email.split("@")[0],
        password_hash=_hashed(password),
        is_network_admin=network_admin or flags.pop("is_network_admin", False),
        **flags,
    )
    session.add(user)
    session.commit()
    return user


def add_member(
    session: Session, user: User, organization_id: uuid.UUID, role: str = OrgRole.editor, trusted: bool = False
) -> Membership:
    row = Membership(user_id=user.id, organization_id=organization_id, role=role, trusted=trusted)
    session.add(row)
    session.commit()
    return row


def make_peer(session: Session, email: str, supervisor: User | None = None, **user: Any) -> User:
    peer = make_user(session, email, **user)
    session.add(PeerProfile(user_id=peer.id, credential="CPRS", supervisor_id=supervisor.id if supervisor else None))
    session.commit()
    return peer


# --- listings through the services -------------------------------------------------------------------


def make_listing(session: Session, org_key: str = "north-pantry", key: str | None = None, **overrides: Any) -> Service:
    """A listing written the way every other writer writes it (`upsert_listing`). Returns the service row."""
    ensure_taxonomy(session=session)
    key = key or f"{org_key}-{uuid.uuid4().hex[:6]}"
    data: dict[str, Any] = {
        "key": key,
        "organization": OrganizationIn(
            key=org_key,
            name=overrides.pop("org_name", org_key.replace("-", " ").title()),
            description="A neighborhood organization.",
        ),
        "name": overrides.pop("name", "Weekday Food Pantry"),
        "description": "Groceries to take home.",
        "timezone": "America/Chicago",
        "categories": ["food-pantry"],
        "locations": [
            LocationIn(
                key=f"{key}-place",
                name="Main hall",
                latitude=41.9,
                longitude=-87.65,
                address=AddressIn(address_1="100 N State St", city="Chicago", state_province="IL", postal_code="60602"),
            )
        ],
        "schedules": [ScheduleIn(byday=["MO", "WE"], opens_at=time(9), closes_at=time(12))],
        "assured_date": date.today(),
    }
    data.update(overrides)
    service_id = upsert_listing(session=session, listing=ListingIn(**data))
    row = session.get(Service, service_id)
    assert row is not None
    return row


def make_meeting(session: Session, org_key: str = "lakeshore-aa", **overrides: Any) -> Service:
    return make_listing(
        session,
        org_key,
        name=overrides.pop("name", "Tuesday Night Serenity Group"),
        kind=ServiceKind.meeting,
        categories=overrides.pop("categories", ["aa"]),
        meeting=overrides.pop("meeting", MeetingIn(fellowship="aa", types=["O", "D"])),
        **overrides,
    )


# --- listing rows for the search tests ---------------------------------------------------------------

_counter = itertools.count(1)

# Downtown Chicago and a few points at known distances from it.
CHICAGO = (41.8781, -87.6298)


def place(
    lat: float | None = CHICAGO[0],
    lng: float | None = CHICAGO[1],
    *,
    street: str = "100 W Randolph St",
    city: str = "Chicago",
    state: str = "IL",
    postal_code: str = "60601",
    name: str | None = "Community Hall",
    accessibility: Sequence[str] = (),
    confidential: bool = False,
    secret_street: str | None = None,
    secret_point: tuple[float, float] | None = None,
    timezone: str = "America/Chicago",
) -> dict[str, Any]:
    return dict(locals())


def weekly(byday: str, opens: str, closes: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "byday": byday,
        "opens_at": time.fromisoformat(opens),
        "closes_at": time.fromisoformat(closes) if closes else None,
        **extra,
    }


def insert_listing(session: Session, **overrides: Any) -> Service:
    """Insert one listing's rows directly (organization, service, places, schedules, meeting, details), without
    the outbox row the services write; returns the service."""
    n = next(_counter)
    spec: dict[str, Any] = {
        "name": f"Listing {n}",
        "kind": "service",
        "organization": f"Organization {n}",
        "description": "",
        "categories": ["food-pantry"],
        "fellowship": None,
        "types": [],
        "attendance": "in_person",
        "languages": ["en"],
        "costs": [],
        "status": "active",
        "capacity": "accepting",
        "assured_date": date(2026, 1, 1),
        "places": [place()],
        "schedules": [],
        "timezone": "America/Chicago",
        "conference_url": None,
    }
    unknown = set(overrides) - set(spec)
    assert not unknown, f"unknown insert_listing overrides {unknown}"
    spec.update(overrides)
    org = Organization(name=spec["organization"])
    service = Service(
        organization_id=org.id,
        kind=spec["kind"],
        name=spec["name"],
        description=spec["description"],
        status=spec["status"],
        capacity=spec["capacity"],
        assured_date=spec["assured_date"],
    )
    session.add(org)
    session.flush()  # no ORM relationships: flush parents first so foreign keys hold
    session.add(service)
    session.flush()
    for p in spec["places"]:
        _add_place(session, org, service, p)
    for sched in spec["schedules"]:
        row = {"timezone": spec["timezone"], **sched}
        session.add(Schedule(service_id=service.id, **row))
    if spec["kind"] == "meeting":
        session.add(
            Meeting(
                service_id=service.id,
                slug=f"meeting-{n}-{uuid.uuid4().hex[:6]}",
                fellowship=spec["fellowship"] or "aa",
                types=list(spec["types"]),
                attendance_mode=spec["attendance"],
                conference_url=spec["conference_url"],
            )
        )
    session.add_all([Language(service_id=service.id, code=c) for c in spec["languages"]])
    session.add_all([CostOption(service_id=service.id, kind=k) for k in spec["costs"]])
    session.add_all(
        [
            Attribute(link_id=service.id, taxonomy_term_id=term_id(c), link_entity="service", link_type="category")
            for c in spec["categories"]
        ]
    )
    session.commit()
    return service


def _add_place(session: Session, org: Organization, service: Service, p: dict[str, Any]) -> None:
    loc = Location(
        organization_id=org.id,
        name=p["name"],
        latitude=p["lat"],
        longitude=p["lng"],
        timezone=p["timezone"],
        is_confidential=p["confidential"],
        coordinates_approximate=p["confidential"],
    )
    session.add(loc)
    session.flush()
    session.add(
        Address(
            location_id=loc.id,
            address_1="" if p["confidential"] else p["street"],
            city=p["city"],
            state_province=p["state"],
            postal_code=p["postal_code"],
        )
    )
    if p["confidential"]:
        lat, lng = p["secret_point"] or (None, None)
        session.add(
            ConfidentialAddress(location_id=loc.id, address_1=p["secret_street"] or "", latitude=lat, longitude=lng)
        )
    session.add_all([Accessibility(location_id=loc.id, code=code) for code in p["accessibility"]])
    session.add(ServiceAtLocation(service_id=service.id, location_id=loc.id))


# --- referrals through the workflow ------------------------------------------------------------------

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


def _person(session: Session, email: str, **flags: Any) -> User:
    """A user named after the address, as the referral pages show people ("Member-3f9a1c")."""
    return make_user(session, email, display_name=email.split("@")[0].title(), **flags)


def make_member(
    session: Session, email: str, organization_id: uuid.UUID, role: str = "editor", trusted: bool = False
) -> User:
    user = _person(session, email)
    add_member(session, user, organization_id, role, trusted)
    return user


def build_world(session: Session) -> World:
    ensure_taxonomy(session=session)
    suffix = uuid.uuid4().hex[:6]
    service_a = insert_listing(
        session,
        name="Northside Food Pantry",
        organization=f"Northside Neighbors {suffix}",
        categories=["food-pantry", "free-meals"],
        places=[place(41.9717, -87.6590, postal_code="60640")],
    )
    service_b = insert_listing(
        session,
        name="Brooklyn Food Bank",
        organization=f"Brooklyn Neighbors {suffix}",
        categories=["food-bank"],
        places=[
            place(40.6782, -73.9442, city="Brooklyn", state="NY", postal_code="11216", timezone="America/New_York")
        ],
    )
    supervisor = _person(session, f"sup-{suffix}@example.org", is_supervisor=True)
    return World(
        peer=make_peer(session, f"peer-{suffix}@example.org", supervisor, display_name=f"Peer-{suffix}".title()),
        peer_b=make_peer(session, f"peerb-{suffix}@example.org", display_name=f"Peerb-{suffix}".title()),
        member=make_member(session, f"member-{suffix}@example.org", service_a.organization_id),
        member_b=make_member(session, f"memberb-{suffix}@example.org", service_b.organization_id),
        admin=_person(session, f"admin-{suffix}@example.org", is_network_admin=True),
        outsider=_person(session, f"outsider-{suffix}@example.org"),
        supervisor=supervisor,
        service_a=service_a,
        service_b=service_b,
    )


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
