"""Random tokens: the client gets the raw value once, the database keeps only its SHA-256."""

import hashlib
import hmac
import secrets
from datetime import UTC, datetime

from core.errors import DomainError


class LinkNotValid(DomainError):
    """An e-mailed link (password reset, invitation) that is unknown, used, replaced or expired. 410 Gone, so
    the page says why (a 404 page would only say the address is wrong); all four cases look the same."""

    status_code = 410


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def aware(value: datetime) -> datetime:
    """SQLite returns naive datetimes; everything stored is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
