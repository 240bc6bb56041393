"""Account use cases: creating users, signing in (rate-limited), changing passwords, peer profiles."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from sqlalchemy import delete
from sqlmodel import Session, col, select

from accounts import throttle
from accounts.models import PasswordResetToken, PeerProfile, User, UserSession
from accounts.passwords import MIN_PASSWORD_LENGTH, hash_password, needs_rehash, verify_password
from accounts.sessions import start_session
from core.errors import Conflict, NotFound, ValidationFailed
from core.i18n import N_

WRONG_CREDENTIALS = N_("The e-mail address or the password is not right.")
THROTTLED = N_("Too many failed sign-ins. Wait a few minutes, or reset your password.")


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verifying against this keeps a sign-in for an unknown address as slow as one for a known address."""
    return hash_password("not-a-real-password-" + uuid.uuid4().hex)


def normalize_email(email: str) -> str:
    value = email.strip().lower()
    local, _, domain = value.partition("@")
    if not local or "." not in domain or " " in value or len(value) > 320:
        raise ValidationFailed(N_("%(email)s is not a valid e-mail address", email=repr(email)), field="email")
    return value


def check_password_rules(password: str, *, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            N_("Use at least %(min_password_length)s characters.", min_password_length=MIN_PASSWORD_LENGTH), field=field
        )
    if len(password) > 1000:
        raise ValidationFailed(N_("That password is too long."), field=field)


def find_user(*, session: Session, email: str) -> User | None:
    try:
        address = normalize_email(email)
    except ValidationFailed:
        return None
    return session.exec(select(User).where(User.email == address)).first()


def add_user(
    *, session: Session, email: str, password: str, display_name: str = "", is_network_admin: bool = False
) -> User:
    """Stage a new user (the caller commits)."""
    address = normalize_email(email)
    check_password_rules(password)
    if session.exec(select(User).where(User.email == address)).first():
        raise Conflict(N_("An account for %(address)s already exists.", address=address), field="email")
    user = User(
        email=address,
        display_name=display_name.strip()[:200] or address,
        password_hash=hash_password(password),
        is_network_admin=is_network_admin,
    )
    session.add(user)
    return user


def create_admin(*, session: Session, email: str, password: str, display_name: str = "") -> User:
    user = add_user(session=session, email=email, password=password, display_name=display_name, is_network_admin=True)
    session.commit()
    return user


@dataclass(frozen=True)
class LoginKeys:
    """The throttle keys of one sign-in attempt (see the limits in accounts/throttle.py)."""

    account: str
    account_and_address: str
    address: str

    @property
    def rules(self) -> list[throttle.Rule]:
        return [
            (self.account_and_address, throttle.LOGIN_PER_ACCOUNT_AND_ADDRESS),
            (self.account, throttle.LOGIN_PER_ACCOUNT),
            (self.address, throttle.LOGIN_PER_ADDRESS),
        ]


def login_keys(*, secret: str, email: str, client_ip: str) -> LoginKeys:
    account = email.strip().lower()
    return LoginKeys(
        account=throttle.key_for(secret, "login-email", account),
        account_and_address=throttle.key_for(secret, "login-email-ip", f"{account} {client_ip}"),
        address=throttle.key_for(secret, "login-ip", client_ip),
    )


def authenticate(
    *, session: Session, secret: str, email: str, password: str, client_ip: str, now: datetime
) -> tuple[str, UserSession]:
    """Sign in: returns the raw session cookie value and the session row.

    Failures count per account and client address, per account and per client address, each against its own
    limit; once one is used up, sign-ins are refused (429) whatever the password, so guessing stays slow even
    for a correct guess. Five failures lock one account from one address, not everyone behind that address."""
    keys = login_keys(secret=secret, email=email, client_ip=client_ip)
    throttle.check_rules(session=session, rules=keys.rules, now=now, message=THROTTLED)
    user = find_user(session=session, email=email)
    ok = verify_password(user.password_hash if user else _dummy_hash(), password)
    if user is None or not ok or not user.is_active:
        throttle.record_rules(session=session, rules=keys.rules, now=now)
        session.commit()
        raise ValidationFailed(WRONG_CREDENTIALS, field="password")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    # The address's own count stays: one good password must not reset a sprayer's budget.
    throttle.clear(session=session, keys=[keys.account, keys.account_and_address])
    session.commit()
    return start_session(session=session, user_id=user.id)


def change_password(*, session: Session, user: User, current: str, new: str) -> tuple[str, UserSession]:
    """Set a new password. Whoever knew the old one may still hold a session or a reset link: every session
    and reset link of the account ends, and the browser making the change gets a fresh session (returned
    like `authenticate`'s), so the cookie in use before the change is worth nothing afterwards."""
    if not verify_password(user.password_hash, current):
        raise ValidationFailed(N_("Your current password is not right."), field="current_password")
    check_password_rules(new, field="new_password")
    user.password_hash = hash_password(new)
    session.add(user)
    end_all_sessions(session=session, user_id=user.id)
    end_reset_links(session=session, user_id=user.id)
    return start_session(session=session, user_id=user.id)  # commits the whole change at once


def end_all_sessions(*, session: Session, user_id: uuid.UUID) -> None:
    """Sign a user out everywhere (after a password change or reset, or deactivation). The caller commits."""
    session.execute(delete(UserSession).where(col(UserSession.user_id) == user_id))


def end_reset_links(*, session: Session, user_id: uuid.UUID, keep_hash: str | None = None) -> None:
    """Make every outstanding password-reset link of the account unusable (but `keep_hash`). The caller commits."""
    stmt = delete(PasswordResetToken).where(col(PasswordResetToken.user_id) == user_id)
    if keep_hash is not None:
        stmt = stmt.where(col(PasswordResetToken.token_hash) != keep_hash)
    session.execute(stmt)


def get_user(*, session: Session, user_id: uuid.UUID) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(N_("No such account."))
    return user


def peer_profile(*, session: Session, user_id: uuid.UUID) -> PeerProfile | None:
    return session.get(PeerProfile, user_id)
