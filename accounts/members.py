"""Organization members: who may edit an organization's listings, in which role, and whether trusted."""

import uuid
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from accounts.models import Membership, OrgRole, User
from accounts.permissions import require_org_role
from core.errors import Conflict, NotFound, ValidationFailed
from core.i18n import N_

ADMINS = frozenset({OrgRole.admin.value})


@dataclass(frozen=True)
class Member:
    membership: Membership
    user: User


def list_members(*, session: Session, organization_id: uuid.UUID) -> list[Member]:
    stmt = (
        select(Membership, User)
        .join(User, col(User.id) == Membership.user_id)
        .where(Membership.organization_id == organization_id)
        .order_by(col(User.email))
    )
    return [Member(m, u) for m, u in session.exec(stmt).all()]


def update_member(
    *, session: Session, actor: User, organization_id: uuid.UUID, membership_id: uuid.UUID, role: str, trusted: bool
) -> Membership:
    require_org_role(session=session, user=actor, organization_id=organization_id, roles=ADMINS)
    row = _member(session, organization_id, membership_id)
    if role not in OrgRole.__members__:
        raise ValidationFailed(N_("Choose admin or editor."), field="role")
    if row.role == OrgRole.admin and role != OrgRole.admin:
        _keep_an_admin(session, organization_id)
    row.role = role
    row.trusted = trusted or role == OrgRole.admin
    session.add(row)
    session.commit()
    return row


def remove_member(*, session: Session, actor: User, organization_id: uuid.UUID, membership_id: uuid.UUID) -> None:
    require_org_role(session=session, user=actor, organization_id=organization_id, roles=ADMINS)
    row = _member(session, organization_id, membership_id)
    if row.role == OrgRole.admin:
        _keep_an_admin(session, organization_id)
    session.delete(row)
    session.commit()


def make_admin(*, session: Session, user_id: uuid.UUID, organization_id: uuid.UUID) -> Membership:
    """Stage an admin membership (claims): upgrades an existing membership. The caller commits."""
    row = session.exec(
        select(Membership).where(Membership.user_id == user_id, Membership.organization_id == organization_id)
    ).first()
    row = row or Membership(user_id=user_id, organization_id=organization_id)
    row.role, row.trusted = OrgRole.admin, True
    session.add(row)
    return row


def _member(session: Session, organization_id: uuid.UUID, membership_id: uuid.UUID) -> Membership:
    row = session.get(Membership, membership_id)
    if row is None or row.organization_id != organization_id:
        raise NotFound(N_("No such member."))
    return row


def _keep_an_admin(session: Session, organization_id: uuid.UUID) -> None:
    admins = session.exec(
        select(func.count())
        .select_from(Membership)
        .where(Membership.organization_id == organization_id, Membership.role == OrgRole.admin)
    ).one()
    if admins <= 1:
        raise Conflict(N_("An organization needs at least one admin; make someone else admin first."))
