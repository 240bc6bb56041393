"""Personal API tokens for the JSON API: stored as SHA-256, shown once, revocable."""

import uuid

from sqlmodel import Session, col, select

from accounts.models import ApiToken, User
from accounts.tokens import new_token, token_hash
from core.clock import utcnow
from core.errors import NotFound, ValidationFailed
from core.i18n import N_

PREFIX = "crd_"
MAX_ACTIVE_TOKENS = 20


def list_tokens(*, session: Session, user: User) -> list[ApiToken]:
    stmt = select(ApiToken).where(ApiToken.user_id == user.id).order_by(col(ApiToken.created_at).desc())
    return list(session.exec(stmt).all())


def create_token(*, session: Session, user: User, name: str) -> tuple[str, ApiToken]:
    """Returns the raw token (to show once) and its row."""
    label = " ".join(name.split())
    if not label or len(label) > 100:
        raise ValidationFailed(N_("Give the token a name of 1 to 100 characters."), field="name")
    active = [t for t in list_tokens(session=session, user=user) if t.revoked_at is None]
    if len(active) >= MAX_ACTIVE_TOKENS:
        raise ValidationFailed(
            N_(
                "You already have %(max_active_tokens)s active tokens; revoke one first.",
                max_active_tokens=MAX_ACTIVE_TOKENS,
            ),
            field="name",
        )
    raw = PREFIX + new_token()
    row = ApiToken(user_id=user.id, name=label, token_hash=token_hash(raw))
    session.add(row)
    session.commit()
    return raw, row


def revoke_token(*, session: Session, user: User, token_id: uuid.UUID) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise NotFound(N_("No such token."))
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.add(row)
        session.commit()
    return row
