"""One place for "now", so timers and freshness checks can be driven by a controllable clock in tests."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
