"""Invitations: an organization admin invites an e-mail address as admin or editor, by a one-time link."""

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from accounts.models import Invitation, Membership, OrgRole, User
from accounts.permissions import membership, require_org_role
from accounts.service import add_user, normalize_email
from accounts.tokens import LinkNotValid, aware, new_token, token_hash
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.i18n import N_
from core.mail import Mail, in_both_languages

INVITATION_LIFETIME = timedelta(days=7)
ADMINS = frozenset({OrgRole.admin.value})
INVALID = N_("This invitation link is not valid any more. Ask the organization for a new one.")


def invite(
    *,
    session: Session,
    actor: User,
    organization_id: uuid.UUID,
    organization_name: str,
    email: str,
    role: str,
    now: datetime,
    make_link: Callable[[str], str],
    commit: bool = True,
) -> tuple[Invitation, list[Mail]]:
    """Invite `email`; `commit=False` leaves the commit to a caller deciding more in the same transaction."""
    require_org_role(session=session, user=actor, organization_id=organization_id, roles=ADMINS)
    address = _invitee(session, organization_id, email, role)
    session.execute(
        delete(Invitation).where(
            col(Invitation.organization_id) == organization_id,
            col(Invitation.email) == address,
            col(Invitation.accepted_at).is_(None),
        )
    )
    raw = new_token()
    row = Invitation(
        organization_id=organization_id,
        email=address,
        role=role,
        token_hash=token_hash(raw),
        invited_by_id=actor.id,
        expires_at=now + INVITATION_LIFETIME,
    )
    session.add(row)
    if commit:
        session.commit()
    paragraphs = [
        N_(
            "You are invited to help keep the listings of %(organization)s up to date on the Community "
            "Resource Directory, as %(role)s."
        ),
        N_("Accept the invitation (valid for 7 days):\n%(link)s"),
    ]
    mail = in_both_languages(
        to=address,
        subject=N_("Invitation to the Community Resource Directory"),
        paragraphs=paragraphs,
        values={"organization": organization_name, "link": make_link(raw)},
        words={"role": role},
    )
    return row, [mail]


def _invitee(session: Session, organization_id: uuid.UUID, email: str, role: str) -> str:
    address = normalize_email(email)
    if role not in OrgRole.__members__:
        raise ValidationFailed(N_("Choose admin or editor."), field="role")
    existing = session.exec(select(User).where(User.email == address)).first()
    if existing and membership(session=session, user=existing, organization_id=organization_id):
        raise Conflict(N_("%(address)s is already a member of this organization.", address=address), field="email")
    return address


def pending_invitation(*, session: Session, raw: str, now: datetime) -> Invitation:
    row = session.exec(select(Invitation).where(Invitation.token_hash == token_hash(raw))).first()
    if row is None or row.accepted_at is not None or aware(row.expires_at) <= now:
        raise LinkNotValid(INVALID)
    return row


def accept_as_user(*, session: Session, raw: str, user: User, now: datetime) -> Membership:
    row = pending_invitation(session=session, raw=raw, now=now)
    if row.email != user.email:
        raise Forbidden(N_("This invitation was sent to another e-mail address. Sign in with that address."))
    return _join(session, row, user, now)


def accept_new_account(
    *, session: Session, raw: str, display_name: str, password: str, now: datetime
) -> tuple[User, Membership]:
    row = pending_invitation(session=session, raw=raw, now=now)
    if session.exec(select(User).where(User.email == row.email)).first():
        raise Conflict(
            N_("An account with this e-mail address exists: sign in first, then open the link again."), field="email"
        )
    user = add_user(session=session, email=row.email, password=password, display_name=display_name)
    session.flush()
    return user, _join(session, row, user, now)


def _join(session: Session, row: Invitation, user: User, now: datetime) -> Membership:
    member = membership(session=session, user=user, organization_id=row.organization_id)
    if member is None:
        member = Membership(
            user_id=user.id, organization_id=row.organization_id, role=row.role, trusted=row.role == OrgRole.admin
        )
    elif row.role == OrgRole.admin:
        member.role, member.trusted = OrgRole.admin, True
    _spend(session, row.id, now)
    session.add(member)
    session.commit()
    return member


def _spend(session: Session, invitation_id: uuid.UUID, now: datetime) -> None:
    """Mark the invitation accepted in one conditional UPDATE: of two requests racing with one link only one
    joins (the other's new account and membership are rolled back)."""
    spent = session.execute(
        update(Invitation)
        .where(
            col(Invitation.id) == invitation_id,
            col(Invitation.accepted_at).is_(None),
            col(Invitation.expires_at) > now,
        )
        .values(accepted_at=now)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise LinkNotValid(INVALID)


def pending_invitations(*, session: Session, organization_id: uuid.UUID, now: datetime) -> list[Invitation]:
    stmt = (
        select(Invitation)
        .where(Invitation.organization_id == organization_id, col(Invitation.accepted_at).is_(None))
        .order_by(col(Invitation.email))
    )
    return [i for i in session.exec(stmt).all() if aware(i.expires_at) > now]


def revoke_invitation(*, session: Session, actor: User, organization_id: uuid.UUID, invitation_id: uuid.UUID) -> None:
    require_org_role(session=session, user=actor, organization_id=organization_id, roles=ADMINS)
    row = session.get(Invitation, invitation_id)
    if row is None or row.organization_id != organization_id:
        raise NotFound(N_("No such invitation."))
    session.delete(row)
    session.commit()
