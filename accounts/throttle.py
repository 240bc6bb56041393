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


# Failed sign-ins. One client address can be a whole office or clinic behind NAT or a proxy, so a handful of
# failures locks only that account from that address; the account as a whole (whatever the address) and
# the address as a whole (whatever the account: password spraying) have much higher ceilings.
LOGIN_PER_ACCOUNT_AND_ADDRESS = Limit(events=5, window=timedelta(minutes=15))
LOGIN_PER_ACCOUNT = Limit(events=20, window=timedelta(minutes=15))
LOGIN_PER_ADDRESS = Limit(events=100, window=timedelta(minutes=15))
SUGGESTION_LIMIT = Limit(events=5, window=timedelta(hours=1))

Rule = tuple[str, Limit]  # a key and the limit that key is held to


def key_for(secret: str, kind: str, value: str) -> str:
    digest = hmac.new(secret.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:40]
    return f"{kind}:{digest}"


def check(*, session: Session, keys: Sequence[str], limit: Limit, now: datetime, message: str) -> None:
    """Raise RateLimited when any key already used up its window; Retry-After is when its oldest event expires."""
    check_rules(session=session, rules=[(key, limit) for key in keys], now=now, message=message)


def check_rules(*, session: Session, rules: Sequence[Rule], now: datetime, message: str) -> None:
    """Like `check`, with each key held to its own limit."""
    for key, limit in rules:
        stmt = select(func.count(), func.min(LoginAttempt.at)).where(
            LoginAttempt.key == key, col(LoginAttempt.at) > now - limit.window
        )
        count, oldest = session.exec(stmt).one()
        if count >= limit.events and oldest is not None:
            wait = (_aware(oldest) + limit.window - now).total_seconds()
            raise RateLimited(message, retry_after=max(1, int(wait) + 1))


def record(*, session: Session, keys: Sequence[str], limit: Limit, now: datetime) -> None:
    """Count one event per key and forget events older than the window. The caller commits."""
    record_rules(session=session, rules=[(key, limit) for key in keys], now=now)


def record_rules(*, session: Session, rules: Sequence[Rule], now: datetime) -> None:
    """Like `record`, with each key held to its own limit. The caller commits."""
    for key, limit in rules:
        expired = col(LoginAttempt.at) <= now - limit.window
        session.execute(delete(LoginAttempt).where(col(LoginAttempt.key) == key, expired))
        session.add(LoginAttempt(key=key, at=now))


def clear(*, session: Session, keys: Sequence[str]) -> None:
    session.execute(delete(LoginAttempt).where(col(LoginAttempt.key).in_(list(keys))))


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
