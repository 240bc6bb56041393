"""Network-admin account management: accounts, the supervisor flag and peer profiles."""

import secrets
import uuid
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from accounts.models import PeerProfile, User
from accounts.organizations import find_organization
from accounts.password_reset import request_reset
from accounts.service import add_user, end_all_sessions, get_user, peer_profile
from core.errors import Conflict, ValidationFailed
from core.i18n import N_
from core.mail import Mail

PAGE_SIZE = 50


def list_users(*, session: Session, query: str = "", page: int = 1) -> tuple[list[User], int]:
    stmt = select(User)
    count = select(func.count()).select_from(User)
    if query.strip():
        pattern = f"%{query.strip().lower()}%"
        stmt = stmt.where(col(User.email).like(pattern))
        count = count.where(col(User.email).like(pattern))
    rows = session.exec(stmt.order_by(col(User.email)).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    return list(rows), int(session.exec(count).one())


def create_account(
    *, session: Session, email: str, display_name: str, now: datetime, make_link: Callable[[str], str]
) -> tuple[User, list[Mail]]:
    """A new account with an unusable random password; its owner chooses one through the reset link."""
    user = add_user(session=session, email=email, password=secrets.token_urlsafe(32), display_name=display_name)
    session.commit()
    return user, request_reset(session=session, email=user.email, now=now, make_link=make_link)


def update_flags(
    *,
    session: Session,
    actor: User,
    user_id: uuid.UUID,
    is_active: bool,
    is_supervisor: bool,
    is_network_admin: bool,
) -> User:
    user = get_user(session=session, user_id=user_id)
    if user.id == actor.id and (not is_active or not is_network_admin):
        raise Conflict(N_("You cannot deactivate yourself or remove your own network admin role."))
    user.is_active, user.is_supervisor, user.is_network_admin = is_active, is_supervisor, is_network_admin
    if not is_active:
        end_all_sessions(session=session, user_id=user.id)
    session.add(user)
    session.commit()
    return user


def set_peer_profile(
    *,
    session: Session,
    user_id: uuid.UUID,
    is_peer: bool,
    credential: str,
    employer_organization_id: uuid.UUID | None,
    supervisor_id: uuid.UUID | None,
) -> PeerProfile | None:
    user = get_user(session=session, user_id=user_id)
    profile = session.get(PeerProfile, user.id)
    if not is_peer:
        if profile is not None:
            session.delete(profile)
            session.commit()
        return None
    _check_peer_links(session, user, credential, employer_organization_id, supervisor_id)
    profile = profile or PeerProfile(user_id=user.id)
    profile.credential = credential.strip()
    profile.employer_organization_id = employer_organization_id
    profile.supervisor_id = supervisor_id
    session.add(profile)
    session.commit()
    return profile


def _check_peer_links(
    session: Session, user: User, credential: str, org_id: uuid.UUID | None, supervisor_id: uuid.UUID | None
) -> None:
    errors: dict[str, str] = {}
    if len(credential.strip()) > 100:
        errors["credential"] = N_("At most 100 characters (e.g. CPRS, CRPA).")
    if org_id is not None and find_organization(session, org_id) is None:
        errors["employer_organization_id"] = N_("No such organization.")
    if supervisor_id is not None:
        supervisor = session.get(User, supervisor_id)
        if supervisor is None or not supervisor.is_supervisor:
            errors["supervisor_id"] = N_("Choose an account marked as supervisor.")
        elif supervisor.id == user.id:
            errors["supervisor_id"] = N_("A peer cannot supervise themselves.")
    if errors:
        raise ValidationFailed(N_("Please correct the peer profile."), errors=errors)


def supervisors(*, session: Session) -> list[User]:
    return list(session.exec(select(User).where(col(User.is_supervisor).is_(True)).order_by(col(User.email))).all())


__all__ = ["get_user", "peer_profile"]
