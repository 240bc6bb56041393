"""Read a Meeting Guide feed the way the format's prose and real feeds are, not the way the draft schema is.

Each entry becomes a clean dict: slugs as text (integer ids are fine), `day` as a list of 0-6, times as
HH:MM, numbers in text fields as text, empty strings as absent. What can be read despite a slip is read
and flagged as a warning (`7:00 PM`, an `http://` conference link, an unknown type code); what cannot be
used is dropped with a warning (a bad time zone or point); only a row that cannot be a meeting at all (no
name or slug, an impossible day or time, a slug another row already has) gets an error, and the importer
skips that row alone unless the operator asked for all-or-nothing.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from core.inputs import clean_text, has_control_characters, is_zone_name, one_line
from core.urls import is_web_url
from directory.hsds.report import Problem
from directory.listings.meeting_types import LEGACY_CODES, TYPE_CODE, TYPES
from directory.listings.rows import slugify

TEXT_FIELDS = (
    "name", "location", "formatted_address", "address", "city", "state", "postal_code", "country", "region",
    "sub_region",
    "notes", "location_notes", "group", "group_notes", "conference_url_notes", "conference_phone",
    "conference_phone_notes", "entity", "entity_email", "entity_phone", "entity_url", "url", "fellowship",
)  # fmt: skip
_HH_MM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_CLOCK = re.compile(r"^(\d{1,2})(?::([0-5]\d))?(?::([0-5]\d))?\s*(?:([ap])\.?\s*m\.?)?$", re.IGNORECASE)
_UPDATED = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
_UPDATED_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d", "%m/%d/%Y", "%m/%d/%Y %H:%M:%S")

_BY_LOWER = {code.lower(): code for code in TYPES}
Found = list[tuple[str, str, str]]  # (field, message, severity)
Bad = Callable[..., None]


@dataclass(frozen=True, slots=True)
class FeedRow:
    row: int  # 1 = the feed's first meeting
    entry: dict[str, Any]


@dataclass
class ReadFeed:
    rows: list[FeedRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    slugs: set[str] = field(default_factory=set)  # every slug the feed names, skipped rows included


def validate_feed(data: Any, file: str = "feed") -> list[Problem]:
    """Every problem of a Meeting Guide feed; `row` is the meeting's position (1 = first)."""
    return read_feed(data, file).problems


def read_feed(data: Any, file: str = "feed") -> ReadFeed:
    """The feed's usable rows (clean entries) and its problems; rows with an error are left out."""
    result = ReadFeed()
    if not isinstance(data, list):
        result.problems.append(Problem(file, None, None, "a Meeting Guide feed is a JSON array of meetings"))
        return result
    seen: dict[str, tuple[int, str]] = {}
    for row, raw in enumerate(data, start=1):
        if not isinstance(raw, dict):
            result.problems.append(Problem(file, row, None, "each meeting is a JSON object"))
            continue
        entry, found = read_entry(raw)
        slug = entry.get("slug")
        if slug is not None:
            result.slugs.add(slug)
            key = slugify(slug)
            first = seen.setdefault(key, (row, slug))
            if first[0] != row:
                same = "is also used" if first[1] == slug else f"becomes {key!r} like the slug"
                found.append(("slug", f"slug {slug!r} {same} by row {first[0]}", "error"))
        result.problems += [Problem(file, row, f, m, s) for f, m, s in found]  # type: ignore[arg-type]
        if all(severity != "error" for _, _, severity in found):
            result.rows.append(FeedRow(row, entry))
    return result


_LINKS = ("url", "entity_url", "conference_url")


def read_entry(raw: dict[str, Any]) -> tuple[dict[str, Any], Found]:
    """One entry, cleaned, and what was wrong with it."""
    found: Found = []

    def bad(name: str, message: str, severity: str = "error") -> None:
        found.append((name, message, severity))

    entry = {k: v.strip() if isinstance(v, str) else v for k, v in raw.items()}
    entry = {k: v for k, v in entry.items() if v is not None and v != ""}
    _text(entry, bad)
    _slug(entry, bad)
    if not entry.get("name"):
        bad("name", "name is required (non-empty text)")
    _day_time(entry, bad)
    _zone(entry, bad)
    entry["types"] = _types(entry.get("types"), bad)
    _point(entry, bad)
    _approximate(entry, bad)
    _conference(entry, bad)
    if "updated" in entry:
        entry["updated"] = read_updated(entry["updated"])
        if entry["updated"] is None:
            bad("updated", f"{raw['updated']!r} is not a date (YYYY-MM-DD HH:MM:SS); ignored", "warning")
            del entry["updated"]
    return entry, found


def _text(entry: dict[str, Any], bad: Bad) -> None:
    for name in TEXT_FIELDS:
        value = entry.get(name)
        multiline = name.endswith("notes")
        if isinstance(value, str) and has_control_characters(value, multiline=multiline):
            # Real feeds carry mojibake (C1 controls) and stray line breaks: kept as clean text, and said.
            entry[name] = clean_text(value) if multiline else one_line(value)
            bad(name, f"{name} had control characters or line breaks; they were replaced by spaces", "warning")
            continue
        if value is None or isinstance(value, str):
            continue
        if isinstance(value, int | float) and not isinstance(value, bool):
            entry[name] = str(value)  # e.g. a ZIP code written as a number
        else:
            bad(name, f"{name} is text; ignored", "warning")
            del entry[name]


def _slug(entry: dict[str, Any], bad: Bad) -> None:
    slug = entry.get("slug")
    if isinstance(slug, int) and not isinstance(slug, bool):
        entry["slug"] = str(slug)  # "integer IDs are fine too"
    elif not isinstance(slug, str) or not slug:
        bad("slug", "slug is required (text or an integer)")
        entry.pop("slug", None)


def _day_time(entry: dict[str, Any], bad: Bad) -> None:
    day = entry.get("day")
    if day is not None:
        days = _days(day, bad)
        if days is None:
            bad("day", "day is 0 (Sunday) to 6 (Saturday), or a list of them")
            del entry["day"]
        else:
            entry["day"] = days
    time_given = "time" in entry
    for name in ("time", "end_time"):
        if name not in entry:
            continue
        value, exact = read_time(entry[name])
        if value is None:
            if name == "time":
                bad(name, f"{entry[name]!r} is not a time (HH:MM on a 24-hour clock)")
            else:
                bad(name, f"{entry[name]!r} is not a time (HH:MM); ignored", "warning")
            del entry[name]
            continue
        if not exact:
            bad(name, f"{entry[name]!r} read as {value} (the format asks for HH:MM)", "warning")
        entry[name] = value
    if day is not None and "day" in entry and "time" not in entry and not time_given:
        bad("time", "a meeting with a day needs a time")
    if "time" in entry and day is None:
        bad("day", "a meeting with a time needs a day")


def _days(day: Any, bad: Bad) -> list[int] | None:
    values = day if isinstance(day, list) else [day]
    days: list[int] = []
    for value in values:
        if isinstance(value, str) and value.strip().isdigit():
            bad("day", f"day {value!r} is text; read as {int(value)}", "warning")
            value = int(value)
        if type(value) is not int or not 0 <= value <= 6:
            return None
        days.append(value)
    return sorted(set(days)) or None


def read_time(value: Any) -> tuple[str | None, bool]:
    """`HH:MM` and whether the value was already written so; None when it is no time of day."""
    if not isinstance(value, str):
        return None, False
    if _HH_MM.match(value):
        return value, True
    match = _CLOCK.match(value.strip())
    if match is None:
        return None, False
    hour, minute, meridiem = int(match[1]), int(match[2] or 0), (match[4] or "").lower()
    if meridiem:
        if not 1 <= hour <= 12 or match[3] is not None:
            return None, False
        hour = hour % 12 + (12 if meridiem == "p" else 0)
    elif match[2] is None or hour > 23:
        return None, False  # a bare "7" is too vague to guess
    return f"{hour:02d}:{minute:02d}", False


def read_updated(value: Any) -> str | None:
    """`YYYY-MM-DD HH:MM:SS` from the spellings feeds use (e.g. `8/28/2021`)."""
    if not isinstance(value, str):
        return None
    if _UPDATED.match(value):
        return value  # the format's own spelling, the common case (strptime is slow)
    for fmt in _UPDATED_FORMATS:
        try:
            return datetime.strptime(value, fmt).strftime("%Y-%m-%d %H:%M:%S")
        except ValueError:
            continue
    return None


def _zone(entry: dict[str, Any], bad: Bad) -> None:
    zone = entry.get("timezone")
    if zone is not None and not is_zone(zone):
        bad("timezone", f"{zone!r} is not an IANA time zone such as America/Chicago; ignored", "warning")
        del entry["timezone"]


def is_zone(name: Any) -> bool:
    return isinstance(name, str) and "/" in name and is_zone_name(name)


def _types(types: Any, bad: Bad) -> list[str]:
    if types is None:
        return []
    if isinstance(types, str):
        bad("types", "types is a list of type codes; read the text as a comma-separated list", "warning")
        types = [t.strip() for t in types.split(",")]
    if not isinstance(types, list):
        bad("types", "types is a list of type codes; ignored", "warning")
        return []
    kept: list[str] = []
    for code in types:
        if not isinstance(code, str) or not TYPE_CODE.fullmatch(code.strip()):
            bad("types", f"{code!r} is not a type code; ignored", "warning")
        elif code.strip().upper() in LEGACY_CODES:
            bad("types", f"type {code!r} is no longer in the list; attendance comes from conference_url", "warning")
        elif (known := _BY_LOWER.get(code.strip().lower())) is not None:
            kept.append(known)  # "onl" and "Onl" are the registry's codes written in another case
        else:
            bad("types", f"unknown meeting type {code!r} (kept, shown as the code)", "warning")
            kept.append(code.strip())
    return list(dict.fromkeys(kept))


def _point(entry: dict[str, Any], bad: Bad) -> None:
    given = [name for name in ("latitude", "longitude") if name in entry]
    if not given:
        return
    lat, lng = _number(entry.get("latitude")), _number(entry.get("longitude"))
    if len(given) == 1:
        bad(given[0], "latitude and longitude come together; the point is ignored", "warning")
    elif lat is None or not -90 <= lat <= 90:
        bad("latitude", "latitude is a number from -90 to 90; the point is ignored", "warning")
    elif lng is None or not -180 <= lng <= 180:
        bad("longitude", "longitude is a number from -180 to 180; the point is ignored", "warning")
    elif lat == 0 and lng == 0:
        bad("latitude", "0, 0 is no place; the point is ignored", "warning")
    else:
        entry["latitude"], entry["longitude"] = lat, lng
        return
    entry.pop("latitude", None)
    entry.pop("longitude", None)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _approximate(entry: dict[str, Any], bad: Bad) -> None:
    value = entry.get("approximate")
    if value is None:
        return
    spelled = {True: "yes", False: "no"}.get(value) if isinstance(value, bool) else str(value).lower()
    if spelled in ("yes", "no"):
        entry["approximate"] = spelled
    else:
        bad("approximate", 'approximate is "yes" or "no"; ignored', "warning")
        del entry["approximate"]


def _conference(entry: dict[str, Any], bad: Bad) -> None:
    # Every link follows the one URL rule (core/urls.py): a `javascript:` or otherwise broken link is refused
    # (never stored, never an href) and named by row; the meeting itself still goes in.
    for name in _LINKS:
        value = entry.get(name)
        if value is not None and not is_web_url(value):
            bad(name, f"{name} {str(value)[:80]!r} is not a web address; ignored", "warning")
            del entry[name]
    url = entry.get("conference_url")
    if url is None:
        return
    if urlsplit(url).scheme == "http":
        bad("conference_url", "conference_url uses http:// (not encrypted); kept", "warning")
