"""Server-side sessions and API-token authentication."""

import uuid
from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import Session, col, select

from accounts.models import ApiToken, User, UserSession
from accounts.tokens import aware, new_token, token_hash
from core.clock import utcnow

SESSION_COOKIE = "sid"
SESSION_LIFETIME = timedelta(hours=12)
_LAST_USED_RESOLUTION = timedelta(minutes=5)


def start_session(*, session: Session, user_id: uuid.UUID) -> tuple[str, UserSession]:
    """Create a session and return the raw cookie value (shown once) with the row. The account's expired
    sessions are dropped on the way, so their rows do not pile up."""
    now = utcnow()
    expired = col(UserSession.expires_at) <= now
    session.execute(delete(UserSession).where(col(UserSession.user_id) == user_id, expired))
    raw = new_token()
    row = UserSession(
        token_hash=token_hash(raw), user_id=user_id, csrf_token=new_token(), expires_at=now + SESSION_LIFETIME
    )
    session.add(row)
    session.commit()
    return raw, row


def session_for(*, session: Session, raw: str) -> tuple[UserSession, User] | None:
    row = session.get(UserSession, token_hash(raw))
    if row is None or aware(row.expires_at) <= utcnow():
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    return row, user


def end_session(*, session: Session, raw: str) -> None:
    row = session.get(UserSession, token_hash(raw))
    if row is not None:
        session.delete(row)
        session.commit()


def user_for_api_token(*, session: Session, raw: str) -> User | None:
    token = session.exec(select(ApiToken).where(ApiToken.token_hash == token_hash(raw))).first()
    if token is None or token.revoked_at is not None:
        return None
    user = session.get(User, token.user_id)
    if user is None or not user.is_active:
        return None
    now = utcnow()
    if token.last_used_at is None or aware(token.last_used_at) < now - _LAST_USED_RESOLUTION:
        token.last_used_at = now
        session.add(token)
        session.commit()
    return user
