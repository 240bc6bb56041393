"""Who may see a referral, in which role, and whether personal content is shown; the access log.

- the creator (P) sees everything until the purge;
- members of the receiving organization (O) see the content while the consent is valid and not revoked;
- members of organizations an open, unclaimed referral was offered to see a de-identified preview;
- the creator's supervisor and network admins see statuses, dates and codes, never the person's details;
- nobody else learns that the referral exists (callers answer 404, the same as for an unknown id).
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from accounts import permissions
from accounts.models import PeerProfile, User
from accounts.permissions import organization_ids
from core.errors import NotFound
from core.i18n import N_
from referrals.codes import Role, Status
from referrals.consent import consent_problem, current_consent
from referrals.models import Referral, ReferralAccess, ReferralCandidate

NOT_FOUND_MESSAGE = N_("This referral does not exist or you do not have access to it.")


@dataclass(frozen=True)
class Viewer:
    user_id: uuid.UUID | None
    roles: frozenset[Role]  # workflow roles (see referrals.workflow)
    label: str  # P | O | candidate | supervisor | admin | SYS (recorded in the access log)
    content_visible: bool
    candidate_orgs: tuple[uuid.UUID, ...] = ()


SYSTEM = Viewer(user_id=None, roles=frozenset({Role.system}), label="SYS", content_visible=False)


def is_peer(session: Session, user: User) -> bool:
    return permissions.is_peer(session=session, user=user)  # the staff menu asks the same question


def candidate_orgs_of(session: Session, referral: Referral, member_orgs: list[uuid.UUID]) -> list[uuid.UUID]:
    if not (referral.is_open and referral.recipient_organization_id is None and referral.status == Status.requested):
        return []
    offered = session.exec(
        select(ReferralCandidate.organization_id).where(ReferralCandidate.referral_id == referral.id)
    ).all()
    return [org for org in offered if org in member_orgs]


def _supervises(session: Session, user: User, referral: Referral) -> bool:
    if not user.is_supervisor:
        return False
    profile = session.get(PeerProfile, referral.creator_id)
    return profile is not None and profile.supervisor_id == user.id


def resolve(session: Session, referral: Referral, user: User, *, now: datetime) -> Viewer | None:
    """The viewer's roles on this referral, or None when they may not know it exists."""
    member_orgs = organization_ids(session=session, user=user)
    sent = referral.status != Status.draft
    roles: set[Role] = set()
    if referral.creator_id == user.id:
        roles.add(Role.peer)
    is_recipient = sent and referral.recipient_organization_id in member_orgs
    candidates = candidate_orgs_of(session, referral, member_orgs) if sent else []
    if is_recipient or candidates:
        roles.add(Role.organization)
    if user.is_network_admin:
        roles.add(Role.admin)
    supervisor = _supervises(session, user, referral)
    if not roles and not supervisor:
        return None
    label = _label(roles, is_recipient, bool(candidates), supervisor)
    visible = referral.purged_at is None and (
        Role.peer in roles or (is_recipient and recipient_may_see(session, referral, now))
    )
    return Viewer(user.id, frozenset(roles), label, visible, tuple(candidates))


def _label(roles: set[Role], is_recipient: bool, is_candidate: bool, supervisor: bool) -> str:
    if Role.peer in roles:
        return "P"
    if is_recipient:
        return "O"
    if is_candidate:
        return "candidate"
    return "supervisor" if supervisor else "admin"


def recipient_may_see(session: Session, referral: Referral, now: datetime) -> bool:
    if referral.content_hidden:
        return False
    consent = current_consent(session, referral.id)
    return consent_problem(consent, referral, now=now) is None


def visible_referral(session: Session, referral_id: uuid.UUID, user: User, *, now: datetime) -> tuple[Referral, Viewer]:
    """The referral and the viewer's roles; NotFound (same message as a missing id) when not allowed."""
    referral = session.get(Referral, referral_id)
    viewer = resolve(session, referral, user, now=now) if referral is not None else None
    if referral is None or viewer is None:
        raise NotFound(NOT_FOUND_MESSAGE)
    return referral, viewer


def log_access(
    session: Session, *, referral_ids: list[uuid.UUID], viewer: Viewer, via: str, now: datetime, content_shown: bool
) -> None:
    """Record a read (the caller commits). Lists log one row per referral they show."""
    for referral_id in referral_ids:
        session.add(
            ReferralAccess(
                referral_id=referral_id,
                user_id=viewer.user_id,
                role=viewer.label,
                via=via,
                content_shown=content_shown,
                at=now,
            )
        )
