"""Account use cases."""

from sqlmodel import Session, select

from accounts.models import User
from accounts.passwords import MIN_PASSWORD_LENGTH, hash_password
from core.errors import Conflict, ValidationFailed


def normalize_email(email: str) -> str:
    value = email.strip().lower()
    local, _, domain = value.partition("@")
    if not local or "." not in domain or " " in value or len(value) > 320:
        raise ValidationFailed(f"{email!r} is not a valid e-mail address", field="email")
    return value


def create_admin(*, session: Session, email: str, password: str, display_name: str = "") -> User:
    address = normalize_email(email)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(f"password must have at least {MIN_PASSWORD_LENGTH} characters", field="password")
    if session.exec(select(User).where(User.email == address)).first():
        raise Conflict(f"an account for {address} already exists", field="email")
    user = User(email=address, display_name=display_name or address, password_hash=hash_password(password),
                is_network_admin=True)
    session.add(user)
    session.commit()
    return user
