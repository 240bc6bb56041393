"""Field values between HSDS text/JSON and Python: parsing with clear messages, and formatting for output."""

import math
import re
import uuid
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Any

from jsonschema import FormatChecker

from core.inputs import check_year, has_control_characters
from core.urls import web_href, web_url_problem
from directory.hsds.spec import Field

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
_CHECKER = FormatChecker()
# Text fields that may span lines. Every other text field is one line: names, codes, addresses, links.
MULTILINE = frozenset({
    "description", "details", "transportation", "eligibility_description", "application_process",
    "fees_description", "interpretation_services", "accreditations", "licenses", "alert", "notes", "note",
    "amount_description", "attending_type", "wait_time", "fees", "value", "extent",
})  # fmt: skip


class BadValue(ValueError):
    """A value that does not fit its field; the message says why in words."""


@lru_cache(maxsize=8192)
def conforms(value: str, fmt: str) -> bool:
    """Whether `value` passes JSON Schema's format check (uuid, email, uri)."""
    return bool(_CHECKER.conforms(value, fmt))


def parse(field: Field, raw: Any) -> Any:
    """CSV text or a JSON value -> a Python value, None when empty. Raises BadValue."""
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        return None
    if field.type == "number":
        return _number(raw)
    if field.type == "string" and isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)  # tabular JSON writes identifiers such as 1234567 as numbers
    if not isinstance(raw, str):
        raise BadValue(f"expected text, got {_kind(raw)}")
    if field.type == "date":
        return _date(raw)
    if field.type == "datetime":
        return _datetime(raw)
    if field.type == "time":
        return parse_time(raw)
    return _string(field, raw)


def _kind(raw: Any) -> str:
    return {bool: "true/false", int: "a number", float: "a number", list: "a list", dict: "an object"}.get(
        type(raw), type(raw).__name__
    )


@lru_cache(maxsize=65536)
def _uuid(raw: str) -> uuid.UUID:
    # References repeat (every attribute names one of a few terms): one object per id, made once.
    try:
        return uuid.UUID(raw.strip())
    except ValueError:
        raise BadValue(f"{raw!r} is not a UUID") from None


def _string(field: Field, raw: str) -> Any:
    if field.format == "uuid":
        return _uuid(raw)
    if has_control_characters(raw, multiline=field.name in MULTILINE and not field.format and not field.enum):
        where = "line breaks or control characters" if field.name not in MULTILINE else "control characters"
        raise BadValue(f"{raw[:60]!r} has {where}")
    if field.format == "uri" and (problem := web_url_problem(raw.strip())):
        raise BadValue(f"{raw[:60]!r} is not a web link: {problem}")
    if field.format == "email" and not conforms(raw, field.format):
        raise BadValue(f"{raw!r} is not a valid e-mail address")
    if field.enum and raw not in field.enum:
        raise BadValue(f"{raw!r} is not one of {', '.join(field.enum)}")
    return raw


def _number(raw: Any) -> int | float:
    if isinstance(raw, bool):
        raise BadValue("expected a number, got true/false")
    if isinstance(raw, int | float):
        value: int | float = raw
    elif isinstance(raw, str):
        text = raw.strip()
        try:
            value = int(text) if re.fullmatch(r"[+-]?\d+", text) else float(text)
        except ValueError:
            raise BadValue(f"{raw!r} is not a number") from None
    else:
        raise BadValue(f"expected a number, got {_kind(raw)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise BadValue(f"{raw!r} is not a finite number")
    return value


def _date(raw: str) -> date:
    try:
        if not _DATE.match(raw.strip()):
            raise ValueError
        value = date.fromisoformat(raw.strip())
    except ValueError:
        raise BadValue(f"{raw!r} is not a date (YYYY-MM-DD)") from None
    return _in_range(value, raw)


def _in_range(value: date, raw: str) -> Any:
    try:
        check_year(value)
    except ValueError as exc:
        raise BadValue(f"{raw!r}: {exc}") from None
    return value


def _datetime(raw: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise BadValue(f"{raw!r} is not a date and time (ISO 8601, e.g. 2024-05-01T09:30:00Z)") from None
    _in_range(value, raw)  # before converting: a far date plus an offset overflows
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def parse_time(raw: str) -> time:
    """HH:MM or HH:MM:SS, optionally with Z or an offset (kept as the time's tzinfo)."""
    match = _TIME.match(raw.strip())
    if not match:
        raise BadValue(f"{raw!r} is not a time (HH:MM or HH:MM:SS)")
    hour, minute, second, zone = match.groups()
    if int(hour) > 23 or int(minute) > 59 or int(second or 0) > 59:
        raise BadValue(f"{raw!r} is not a time of day")
    tzinfo = None
    if zone:
        sign = -1 if zone.startswith("-") else 1
        digits = zone.lstrip("+-").replace(":", "")
        tzinfo = UTC if zone == "Z" else timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    return time(int(hour), int(minute), int(second or 0), tzinfo=tzinfo)


def to_hsds(field: Field, value: Any) -> Any:
    """A stored value -> its HSDS JSON form (str, int or float), or None to leave the field out."""
    if value is None:
        return None
    if field.type == "number":
        return number(value)
    if field.type == "date":
        return value.isoformat() if isinstance(value, date) else str(value)
    if field.type == "datetime":
        return format_datetime(value) if isinstance(value, datetime) else str(value)
    if field.type == "time":
        return value.strftime("%H:%M:%S") if isinstance(value, time) else str(value)
    text = str(value)
    if field.format == "uri":
        return web_href(text)  # never republish a link that breaks the one URL rule (core/urls.py)
    if field.format == "email" and not conforms(text, field.format):
        return None  # never publish a value the standard would reject
    return text


def number(value: Any) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        as_float = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(as_float):
        return None
    return int(as_float) if as_float.is_integer() else as_float


def format_datetime(value: datetime) -> str:
    utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return utc.isoformat().replace("+00:00", "Z")


def cell(value: Any) -> str:
    """An HSDS JSON value (from `to_hsds`) as CSV text."""
    if value is None:
        return ""
    return repr(value) if isinstance(value, float) else str(value)
