"""One place for "now", so timers and freshness checks can be driven by a controllable clock in tests."""

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator


def utcnow() -> datetime:
    return datetime.now(UTC)


def assume_utc(value: datetime) -> datetime:
    """SQLite hands stored timestamps back without a zone; everything stored is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


# A stored timestamp in a response: always sent with its zone, as RFC 3339 `date-time` requires.
StoredTime = Annotated[datetime, AfterValidator(assume_utc)]
