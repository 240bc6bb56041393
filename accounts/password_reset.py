"""Password reset by e-mailed link: single use, valid one hour, and silent about which addresses exist."""

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, col

from accounts import throttle
from accounts.models import PasswordResetToken, User
from accounts.passwords import hash_password
from accounts.service import check_password_rules, end_all_sessions, find_user
from accounts.tokens import aware, new_token, token_hash
from core.errors import NotFound
from core.mail import Mail

RESET_LIFETIME = timedelta(hours=1)
INVALID_LINK = "This password reset link is not valid any more. Ask for a new one."


RESET_LIMIT = throttle.Limit(events=3, window=timedelta(hours=1))


def request_reset(
    *,
    session: Session,
    email: str,
    now: datetime,
    make_link: Callable[[str], str],
    secret: str | None = None,
    client_ip: str | None = None,
) -> list[Mail]:
    """Create a reset token for an active account and return the mail to send (none for unknown addresses).

    The caller answers the same way in every case and sends the mail after the response. With `secret`
    and `client_ip` (public form), at most three requests per address and per client an hour send mail,
    so the form cannot be used to flood someone's inbox; over the limit it silently sends nothing."""
    if secret is not None and client_ip is not None and _over_limit(session, secret, email, client_ip, now):
        return []
    user = find_user(session=session, email=email)
    if user is None or not user.is_active:
        return []
    session.execute(delete(PasswordResetToken).where(col(PasswordResetToken.expires_at) < now))
    raw = new_token()
    session.add(PasswordResetToken(token_hash=token_hash(raw), user_id=user.id, expires_at=now + RESET_LIFETIME))
    session.commit()
    body = (
        "Someone (hopefully you) asked to reset the password of your Community Resource Directory account.\n\n"
        f"Choose a new password here (the link works once, for one hour):\n{make_link(raw)}\n\n"
        "If you did not ask for this, ignore this message; your password stays the same.\n"
    )
    return [Mail(to=user.email, subject="Reset your password", body=body)]


def _over_limit(session: Session, secret: str, email: str, client_ip: str, now: datetime) -> bool:
    keys = [
        throttle.key_for(secret, "reset-email", email.strip().lower()),
        throttle.key_for(secret, "reset-ip", client_ip),
    ]
    try:
        throttle.check(session=session, keys=keys, limit=RESET_LIMIT, now=now, message="")
    except throttle.RateLimited:
        return True
    throttle.record(session=session, keys=keys, limit=RESET_LIMIT, now=now)
    session.commit()
    return False


def valid_token(*, session: Session, raw: str, now: datetime) -> PasswordResetToken:
    row = session.get(PasswordResetToken, token_hash(raw))
    if row is None or row.used_at is not None or aware(row.expires_at) <= now:
        raise NotFound(INVALID_LINK)
    return row


def reset_password(*, session: Session, secret: str, raw: str, new_password: str, now: datetime) -> User:
    """Set the new password, spend the token, end every session of the account and lift its sign-in limit."""
    row = valid_token(session=session, raw=raw, now=now)
    check_password_rules(new_password)
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise NotFound(INVALID_LINK)
    user.password_hash = hash_password(new_password)
    row.used_at = now
    session.add_all([user, row])
    end_all_sessions(session=session, user_id=user.id)
    throttle.clear(session=session, keys=[throttle.key_for(secret, "login-email", user.email)])
    session.commit()
    return user
