"""Sliding-window rate limits kept in the database (so every web process sees the same counts).

Keys never hold a raw e-mail address or client address: `key_for` hashes them with the secret key.
The `login_attempt` table stores one row per counted event (a failed sign-in, a public suggestion).
"""

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from accounts.models import LoginAttempt
from core.errors import DomainError


class RateLimited(DomainError):
    status_code = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Limit:
    events: int
    window: timedelta


LOGIN_LIMIT = Limit(events=5, window=timedelta(minutes=15))
SUGGESTION_LIMIT = Limit(events=5, window=timedelta(hours=1))


def key_for(secret: str, kind: str, value: str) -> str:
    digest = hmac.new(secret.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:40]
    return f"{kind}:{digest}"


def check(*, session: Session, keys: Sequence[str], limit: Limit, now: datetime, message: str) -> None:
    """Raise RateLimited when any key already used up its window; Retry-After is when its oldest event expires."""
    since = now - limit.window
    for key in keys:
        stmt = select(func.count(), func.min(LoginAttempt.at)).where(
            LoginAttempt.key == key, col(LoginAttempt.at) > since
        )
        count, oldest = session.exec(stmt).one()
        if count >= limit.events and oldest is not None:
            wait = (_aware(oldest) + limit.window - now).total_seconds()
            raise RateLimited(message, retry_after=max(1, int(wait) + 1))


def record(*, session: Session, keys: Sequence[str], limit: Limit, now: datetime) -> None:
    """Count one event per key and forget events older than the window. The caller commits."""
    session.execute(
        delete(LoginAttempt).where(col(LoginAttempt.key).in_(list(keys)), col(LoginAttempt.at) <= now - limit.window)
    )
    for key in keys:
        session.add(LoginAttempt(key=key, at=now))


def clear(*, session: Session, keys: Sequence[str]) -> None:
    session.execute(delete(LoginAttempt).where(col(LoginAttempt.key).in_(list(keys))))


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
