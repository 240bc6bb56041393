"""One place for "now", so timers and freshness checks can be driven by a controllable clock in tests."""

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator


def utcnow() -> datetime:
    return datetime.now(UTC)


def assume_utc(value: datetime) -> datetime:
    """SQLite hands stored timestamps back without a zone; everything stored is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


# A stored timestamp in a response: always sent with its zone, as RFC 3339 `date-time` requires.
StoredTime = Annotated[datetime, AfterValidator(assume_utc)]


def _iso_text(value: Any) -> Any:
    # Pydantic alone also reads a bare number as seconds since 1970; an API documenting ISO 8601 must not.
    if isinstance(value, int | float) or (isinstance(value, str) and not _ISO_DATE.match(value)):
        raise ValueError("give an ISO 8601 date and time, e.g. 2026-01-31T18:00:00Z")
    return value


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# A date and time given by a client, as ISO 8601 text only.
IsoDateTime = Annotated[datetime, BeforeValidator(_iso_text)]
