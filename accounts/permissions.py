"""Object-level access: which organizations a user may read or change."""

import uuid

from sqlmodel import Session, select

from accounts.models import Membership, OrgRole, PeerProfile, User
from core.errors import Forbidden
from core.i18n import N_


def membership(*, session: Session, user: User, organization_id: uuid.UUID) -> Membership | None:
    return session.exec(
        select(Membership).where(Membership.user_id == user.id, Membership.organization_id == organization_id)
    ).first()


def require_org_role(
    *, session: Session, user: User, organization_id: uuid.UUID, roles: frozenset[str] = frozenset(OrgRole)
) -> Membership | None:
    """Network admins pass (returns None); members with one of `roles` get their Membership; others Forbidden.

    Forbidden (not NotFound) is deliberate only after the caller has checked the object exists publicly;
    for private objects callers raise NotFound so guessed ids reveal nothing."""
    if user.is_network_admin:
        return None
    member = membership(session=session, user=user, organization_id=organization_id)
    if member is None or member.role not in roles:
        raise Forbidden(N_("You are not a member of this organization with the right role."))
    return member


def organization_ids(*, session: Session, user: User) -> list[uuid.UUID]:
    return list(session.exec(select(Membership.organization_id).where(Membership.user_id == user.id)).all())


# --- what a person may open: the staff menu and the endpoints ask these same questions ---------------


def is_peer(*, session: Session, user: User) -> bool:
    """Peers have a peer profile (credential, employer, supervisor); only they send referrals."""
    return session.get(PeerProfile, user.id) is not None


def is_member(*, session: Session, user: User) -> bool:
    """A member of at least one organization: answers its referrals (the inbox) and edits its listings."""
    return session.exec(select(Membership.id).where(Membership.user_id == user.id).limit(1)).first() is not None


def admin_organization_ids(*, session: Session, user: User) -> list[uuid.UUID]:
    stmt = select(Membership.organization_id).where(Membership.user_id == user.id, Membership.role == OrgRole.admin)
    return list(session.exec(stmt).all())


def may_moderate(*, session: Session, user: User) -> bool:
    """Network admins decide on everything held; an organization's admins on their own organization's."""
    return user.is_network_admin or bool(admin_organization_ids(session=session, user=user))


def may_view_metrics(*, session: Session, user: User) -> bool:
    """Members see their organization's referral numbers, supervisors their team's, network admins all."""
    return user.is_network_admin or user.is_supervisor or is_member(session=session, user=user)
