"""Password reset by e-mailed link: single use, valid one hour, and silent about which addresses exist."""

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, col

from accounts import throttle
from accounts.models import PasswordResetToken, User
from accounts.passwords import hash_password
from accounts.service import check_password_rules, end_all_sessions, end_reset_links, find_user, login_keys
from accounts.tokens import LinkNotValid, aware, new_token, token_hash
from core.i18n import N_
from core.mail import Mail, in_both_languages

RESET_LIFETIME = timedelta(hours=1)
INVALID_LINK = N_(
    "This password reset link is not valid any more: a link works once, for one hour, and using one link or "
    "changing the password ends all the others. Ask for a new one."
)

# Mail per address stays low (nobody's inbox gets flooded); one client address may be a whole office behind
# NAT, so its own ceiling is only there to slow mass mailing, not to stop colleagues asking the same hour.
RESET_PER_ADDRESS = throttle.Limit(events=3, window=timedelta(hours=1))
RESET_PER_CLIENT = throttle.Limit(events=30, window=timedelta(hours=1))


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
    and `client_ip` (public form), at most three requests per address an hour send mail (and thirty per
    client), so the form cannot be used to flood someone's inbox; over the limit it silently sends nothing."""
    if secret is not None and client_ip is not None and _over_limit(session, secret, email, client_ip, now):
        return []
    user = find_user(session=session, email=email)
    if user is None or not user.is_active:
        return []
    session.execute(delete(PasswordResetToken).where(col(PasswordResetToken.expires_at) < now))
    raw = new_token()
    session.add(PasswordResetToken(token_hash=token_hash(raw), user_id=user.id, expires_at=now + RESET_LIFETIME))
    session.commit()
    paragraphs = [
        N_("Someone (hopefully you) asked to reset the password of your Community Resource Directory account."),
        N_("Choose a new password here (the link works once, for one hour):\n%(link)s"),
        N_("If you did not ask for this, ignore this message; your password stays the same."),
    ]
    values = {"link": make_link(raw)}
    return [in_both_languages(to=user.email, subject=N_("Reset your password"), paragraphs=paragraphs, values=values)]


def _over_limit(session: Session, secret: str, email: str, client_ip: str, now: datetime) -> bool:
    rules = [
        (throttle.key_for(secret, "reset-email", email.strip().lower()), RESET_PER_ADDRESS),
        (throttle.key_for(secret, "reset-ip", client_ip), RESET_PER_CLIENT),
    ]
    try:
        throttle.check_rules(session=session, rules=rules, now=now, message="")
    except throttle.RateLimited:
        return True
    throttle.record_rules(session=session, rules=rules, now=now)
    session.commit()
    return False


def valid_token(*, session: Session, raw: str, now: datetime) -> PasswordResetToken:
    """The reset link's row. Looked up by the SHA-256 of the link's token, never by comparing raw values."""
    row = session.get(PasswordResetToken, token_hash(raw))
    if row is None or row.used_at is not None or aware(row.expires_at) <= now:
        raise LinkNotValid(INVALID_LINK)
    return row


def reset_password(
    *, session: Session, secret: str, raw: str, new_password: str, now: datetime, client_ip: str | None = None
) -> User:
    """Set the new password and spend the link. Every other reset link and every session of the account end,
    and its sign-in limits (this client's too, given `client_ip`) are lifted."""
    row = valid_token(session=session, raw=raw, now=now)
    check_password_rules(new_password)
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise LinkNotValid(INVALID_LINK)
    user.password_hash = hash_password(new_password)  # slow (argon2): done before the write below locks
    _spend(session, row.token_hash, now)
    session.add(user)
    end_reset_links(session=session, user_id=user.id, keep_hash=row.token_hash)
    end_all_sessions(session=session, user_id=user.id)
    keys = login_keys(secret=secret, email=user.email, client_ip=client_ip or "")
    throttle.clear(session=session, keys=[keys.account] + ([keys.account_and_address] if client_ip else []))
    session.commit()
    return user


def _spend(session: Session, hashed: str, now: datetime) -> None:
    """Mark the link used in one conditional UPDATE, so of two requests racing with one link only one wins."""
    spent = session.execute(
        update(PasswordResetToken)
        .where(
            col(PasswordResetToken.token_hash) == hashed,
            col(PasswordResetToken.used_at).is_(None),
            col(PasswordResetToken.expires_at) > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise LinkNotValid(INVALID_LINK)
