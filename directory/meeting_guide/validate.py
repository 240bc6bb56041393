"""A validator for Meeting Guide feeds, written from the format's rules (`SPEC-README.md` of the standard).

Used by the importer before anything is mapped or written; `row` in each problem is the meeting's position.
"""

import re
from typing import Any

from core.inputs import has_control_characters
from core.urls import is_web_url
from directory.hsds.report import Problem
from directory.listings.meeting_types import CODES, LEGACY_CODES
from directory.listings.schemas import is_timezone

_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_UPDATED = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
_TEXT_FIELDS = (
    "location", "formatted_address", "address", "city", "state", "postal_code", "country", "region", "notes",
    "location_notes", "group", "group_notes", "conference_url_notes", "conference_phone",
    "conference_phone_notes", "entity", "entity_email", "entity_phone", "entity_url", "url",
)  # fmt: skip
_NOTES = frozenset({"notes", "location_notes", "group_notes", "conference_url_notes", "conference_phone_notes"})
_LINK_FIELDS = ("url", "conference_url", "entity_url")  # web links: the one URL rule (core/urls.py)


def validate_feed(data: Any, file: str = "feed") -> list[Problem]:
    """Every problem of a Meeting Guide feed; `row` is the meeting's position (1 = first)."""
    if not isinstance(data, list):
        return [Problem(file, None, None, "a Meeting Guide feed is a JSON array of meetings")]
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for row, entry in enumerate(data, start=1):
        if not isinstance(entry, dict):
            problems.append(Problem(file, row, None, "each meeting is a JSON object"))
            continue
        found = _entry_problems(entry)
        slug = entry.get("slug")
        if isinstance(slug, str) and slug.strip():
            if slug in seen:
                found.append(("slug", f"slug {slug!r} is also used by meeting {seen[slug]}", "error"))
            seen.setdefault(slug, row)
        problems += [Problem(file, row, field, message, severity) for field, message, severity in found]  # type: ignore[arg-type]
    return problems


def _entry_problems(entry: dict[str, Any]) -> list[tuple[str, str, str]]:
    found: list[tuple[str, str, str]] = []

    def bad(field: str, message: str, severity: str = "error") -> None:
        found.append((field, message, severity))

    for field in ("name", "slug"):
        if not isinstance(entry.get(field), str) or not entry[field].strip():
            bad(field, f"{field} is required (non-empty text)")
        elif has_control_characters(entry[field]):
            bad(field, f"{field} has line breaks or control characters")
    _check_day_time(entry, bad)
    zone = entry.get("timezone")
    if zone is not None and not (isinstance(zone, str) and is_timezone(zone)):
        bad("timezone", f"{zone!r} is not an IANA time zone such as America/Chicago")
    _check_types(entry.get("types"), bad)
    _check_point(entry, bad)
    if entry.get("approximate") not in (None, "yes", "no"):
        bad("approximate", 'approximate is "yes" or "no"')
    for field in _LINK_FIELDS:
        url = entry.get(field)
        if url not in (None, "") and not (isinstance(url, str) and is_web_url(url.strip())):
            bad(field, f"{field} must be a full http(s) web address")
    if entry.get("updated") is not None and not _UPDATED.match(str(entry["updated"])):
        bad("updated", "updated is YYYY-MM-DD HH:MM:SS")
    for field in _TEXT_FIELDS:
        if entry.get(field) is not None and not isinstance(entry[field], str):
            bad(field, f"{field} is text")
        elif isinstance(entry.get(field), str) and has_control_characters(entry[field], multiline=field in _NOTES):
            bad(field, f"{field} has line breaks or control characters")
    return found


def _check_day_time(entry: dict[str, Any], bad: Any) -> None:
    day = entry.get("day")
    days = day if isinstance(day, list) else [day]
    if day is not None and (not days or any(type(d) is not int or not 0 <= d <= 6 for d in days)):
        bad("day", "day is 0 (Sunday) to 6 (Saturday), or a list of them")
    for field in ("time", "end_time"):
        value = entry.get(field)
        if value is not None and (not isinstance(value, str) or not _TIME.match(value)):
            bad(field, f"{field} is HH:MM on a 24-hour clock")
    if day is not None and entry.get("time") is None:
        bad("time", "a meeting with a day needs a time")
    if entry.get("time") is not None and day is None:
        bad("day", "a meeting with a time needs a day")


def _check_types(types: Any, bad: Any) -> None:
    if types is None:
        return
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        bad("types", "types is a list of type codes")
        return
    for code in types:
        if code in LEGACY_CODES:
            bad("types", f"type {code!r} is no longer in the list; attendance comes from conference_url", "warning")
        elif code not in CODES:
            bad("types", f"unknown meeting type {code!r}")


def _check_point(entry: dict[str, Any], bad: Any) -> None:
    lat, lng = _number(entry.get("latitude")), _number(entry.get("longitude"))
    for field, value, limit in (("latitude", lat, 90), ("longitude", lng, 180)):
        if entry.get(field) not in (None, "") and (value is None or not -limit <= value <= limit):
            bad(field, f"{field} is a number from -{limit} to {limit}")
    if (entry.get("latitude") in (None, "")) != (entry.get("longitude") in (None, "")):
        bad("latitude", "latitude and longitude come together")


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
