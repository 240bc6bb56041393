"""The only place Meilisearch filter strings are built, and where search input is validated.

Two defences, both always on: every vocabulary value is checked against its known codes (or a strict
code pattern) before use, and every string placed in a filter is double-quoted with `\\` and `"`
escaped. Numbers are formatted by Python. Field names are constants, never input.
"""

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, time
from typing import Any, get_args

from core.errors import ValidationFailed
from core.inputs import check_instant
from directory.listings.codes import ACCESSIBILITY_LABELS
from directory.listings.models import Attendance, ServiceKind
from directory.listings.schemas import CostKind
from directory.listings.taxonomy import CATEGORY_CODES, FELLOWSHIPS
from search.schemas import DEFAULT_PER_PAGE, DEFAULT_RADIUS_KM, MAX_PER_PAGE, MAX_RADIUS_KM, SearchParams
from search.timeslots import DAY, blocks_containing, bucket_of, group_zones, is_zone, minute_of_week, week_ranges

KINDS = frozenset(k.value for k in ServiceKind)
ATTENDANCE = frozenset({Attendance.in_person.value, Attendance.online.value, Attendance.hybrid.value})
COSTS = frozenset(get_args(CostKind))
ACCESSIBILITY = frozenset(ACCESSIBILITY_LABELS)
SORTS = frozenset({"distance", "soonest", "relevance"})
TYPE_CODE = re.compile(r"^[A-Za-z0-9-]{1,10}$")  # Meeting Guide type codes: O, C, BE, 12x12, AL-AN...
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")
REGION_TEXT = re.compile(r"^[^\x00-\x1f\x7f]{1,100}$")  # a place name as the documents hold it
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_DAY_NAMES = {name: i for i, names in enumerate((
    ("0", "su", "sun", "sunday"), ("1", "mo", "mon", "monday"), ("2", "tu", "tue", "tuesday"),
    ("3", "we", "wed", "wednesday"), ("4", "th", "thu", "thursday"), ("5", "fr", "fri", "friday"),
    ("6", "sa", "sat", "saturday"),
)) for name in names}  # fmt: skip
GRACE_MINUTES = 10  # "starting soon" also lists meetings that began up to 10 minutes ago
NEVER = "id IN []"  # a filter nothing matches (no time zone known yet)
MAX_VALUES = 20  # per repeatable parameter
MAX_QUERY_LENGTH = 200


def quote(value: str) -> str:
    """A Meilisearch filter string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def in_clause(field: str, values: Iterable[str]) -> str:
    return f"{field} IN [{', '.join(quote(v) for v in values)}]"


def _bad(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, field=field)


def _vocab(field: str, values: Sequence[str], known: frozenset[str]) -> tuple[str, ...]:
    cleaned = tuple(dict.fromkeys(v.strip().lower() for v in values if v.strip()))
    if len(cleaned) > MAX_VALUES:
        raise _bad(field, f"At most {MAX_VALUES} values of {field}.")
    unknown = [v for v in cleaned if v not in known]
    if unknown:
        hint = f"; known values: {', '.join(sorted(known))}" if len(known) <= 12 else ""
        raise _bad(field, f"Unknown {field} {unknown[0][:40]!r}{hint}.")
    return cleaned


def _pattern(field: str, values: Sequence[str], pattern: re.Pattern[str], lower: bool = False) -> tuple[str, ...]:
    cleaned = tuple(dict.fromkeys((v.strip().lower() if lower else v.strip()) for v in values if v.strip()))
    if len(cleaned) > MAX_VALUES:
        raise _bad(field, f"At most {MAX_VALUES} values of {field}.")
    for value in cleaned:
        if not pattern.match(value):
            raise _bad(field, f"{field} {value[:40]!r} is not a valid code.")
    return cleaned


def _one(field: str, value: str | None, known: frozenset[str]) -> str | None:
    return _vocab(field, [value], known)[0] if value and value.strip() else None


def parse_day(value: str) -> int:
    day = _DAY_NAMES.get(value.strip().lower())
    if day is None:
        raise _bad("day", f"day {value[:20]!r} is not 0-6 (0 = Sunday) or a day name.")
    return day


def parse_hhmm(field: str, value: str | None) -> time | None:
    if value is None or not value.strip():
        return None
    match = _HHMM.match(value.strip())
    if not match:
        raise _bad(field, f"{field} must be HH:MM (24-hour), e.g. 18:30.")
    return time(int(match[1]), int(match[2]))


def parse_at(value: str | None) -> datetime | None:
    """ISO 8601; a naive time is UTC. A '+' that a query string turned into a space is put back."""
    if value is None or not value.strip():
        return None
    text = re.sub(r" (\d\d:?\d\d)$", r"+\1", value.strip())
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise _bad("at", "at must be an ISO 8601 date-time, e.g. 2026-03-08T19:30:00-06:00.") from None
    try:
        check_instant(parsed)
    except ValueError as exc:
        raise _bad("at", f"at: {exc}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_params(raw: Mapping[str, Any]) -> SearchParams:
    """Validate raw request values (strings and lists of strings, numbers already typed) into SearchParams."""
    lat, lng, near = raw.get("lat"), raw.get("lng"), (raw.get("near") or "").strip() or None
    if (lat is None) != (lng is None):
        raise _bad("lng" if lat is not None else "lat", "Give both lat and lng, or neither.")
    if near and lat is not None:
        raise _bad("near", "Give either near or lat/lng, not both.")
    tz = (raw.get("tz") or "UTC").strip()
    if not is_zone(tz):
        raise _bad("tz", f"tz {tz[:40]!r} is not an IANA time zone such as America/Chicago.")
    params = SearchParams(
        q=(raw.get("q") or "").strip()[:MAX_QUERY_LENGTH],
        near=near,
        lat=lat,
        lng=lng,
        radius_km=float(raw.get("radius_km") or DEFAULT_RADIUS_KM),
        categories=_vocab("category", raw.get("category") or [], CATEGORY_CODES),
        kind=_one("kind", raw.get("kind"), KINDS),
        fellowships=_vocab("fellowship", raw.get("fellowship") or [], frozenset(FELLOWSHIPS)),
        types=_pattern("type", raw.get("type") or [], TYPE_CODE),
        attendance=_one("attendance", raw.get("attendance"), ATTENDANCE),
        languages=_pattern("language", raw.get("language") or [], LANGUAGE_CODE, lower=True),
        accessibility=_vocab("accessibility", raw.get("accessibility") or [], ACCESSIBILITY),
        cost=_vocab("cost", raw.get("cost") or [], COSTS),
        regions=_pattern("region", raw.get("region") or [], REGION_TEXT),
        days=tuple(dict.fromkeys(parse_day(d) for d in raw.get("day") or [] if d.strip())),
        time_from=parse_hhmm("time_from", raw.get("time_from")),
        time_to=parse_hhmm("time_to", raw.get("time_to")),
        open_now=bool(raw.get("open_now")),
        in_progress=bool(raw.get("in_progress")),
        starting_within=raw.get("starting_within"),
        at=parse_at(raw.get("at")),
        tz=tz,
        sort=_one("sort", raw.get("sort"), SORTS),
        page=int(raw.get("page") or 1),
        per_page=int(raw.get("per_page") or DEFAULT_PER_PAGE),
    )
    check_ranges(params)
    return params


def check_ranges(p: SearchParams) -> None:
    if p.lat is not None and not -90 <= p.lat <= 90:
        raise _bad("lat", "lat must be between -90 and 90.")
    if p.lng is not None and not -180 <= p.lng <= 180:
        raise _bad("lng", "lng must be between -180 and 180.")
    if not 1 <= p.per_page <= MAX_PER_PAGE or p.page < 1:
        raise _bad("per_page" if p.page >= 1 else "page", f"page >= 1 and per_page 1-{MAX_PER_PAGE}, please.")
    if not 0 < p.radius_km <= MAX_RADIUS_KM:
        raise _bad("radius_km", f"radius_km must be more than 0 and at most {MAX_RADIUS_KM:g}.")
    if p.starting_within is not None and not 1 <= p.starting_within <= DAY:
        raise _bad("starting_within", "starting_within must be 1 to 1440 minutes.")
    if p.sort == "distance" and not p.has_point_input:
        raise _bad("sort", "sort=distance needs a place (near, or lat and lng).")


# --- filter clauses --------------------------------------------------------------------------------


def vocabulary_clauses(p: SearchParams) -> list[str]:
    """Validated again here (the service can be called without parse_params), then quoted."""
    clauses = []
    fields: tuple[tuple[str, Sequence[str], frozenset[str] | re.Pattern[str]], ...] = (
        ("categories", p.categories, CATEGORY_CODES),
        ("kind", [p.kind] if p.kind else [], KINDS),
        ("fellowship", p.fellowships, frozenset(FELLOWSHIPS)),
        ("types", p.types, TYPE_CODE),
        ("attendance", [p.attendance] if p.attendance else [], ATTENDANCE),
        ("languages", p.languages, LANGUAGE_CODE),
        ("accessibility", p.accessibility, ACCESSIBILITY),
        ("cost", p.cost, COSTS),
        ("regions", p.regions, REGION_TEXT),
    )
    for field, values, known in fields:
        if not values:
            continue
        if isinstance(known, frozenset):
            _vocab(field, values, known)
        else:
            _pattern(field, values, known)
        clauses.append(in_clause(field, values))
    return clauses


def _range(field: str, low: int, high: int) -> str:
    return f"{field} {int(low)} TO {int(high)}"


def _any(parts: Sequence[str]) -> str:
    return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"


def weekday_clauses(p: SearchParams) -> list[str]:
    """Day and time-of-day windows on local start times; a window whose end is before its start crosses midnight."""
    lo = p.time_from.hour * 60 + p.time_from.minute if p.time_from else 0
    hi = p.time_to.hour * 60 + p.time_to.minute if p.time_to else DAY - 1
    if hi < lo:
        hi += DAY
    if not p.days:
        if not (p.time_from or p.time_to):
            return []
        if hi < DAY:
            return [_range("start_of_day", lo, hi)]
        return [_any([_range("start_of_day", lo, DAY - 1), _range("start_of_day", 0, hi - DAY)])]
    if not (p.time_from or p.time_to):
        return [f"days IN [{', '.join(str(int(d)) for d in p.days)}]"]
    parts = [_range("start_minutes", a, b) for d in p.days for a, b in week_ranges(d * DAY + lo, d * DAY + hi)]
    return [_any(parts)]


def viewer_weekday_clauses(p: SearchParams, at: datetime, zones: Iterable[str]) -> list[str]:
    """Day and time-of-day windows in the viewer's zone (`p.tz`), for online listings: a 7 pm meeting in New
    York is a 6 pm meeting for a viewer in Chicago. Each listing zone's window is the viewer's, shifted by
    the two zones' difference at `at`. Without a viewer zone (UTC), the listing's own local times count."""
    if p.tz == "UTC" or not (p.days or p.time_from or p.time_to):
        return weekday_clauses(p)
    lo = p.time_from.hour * 60 + p.time_from.minute if p.time_from else 0
    hi = p.time_to.hour * 60 + p.time_to.minute if p.time_to else DAY - 1
    if hi < lo:
        hi += DAY
    viewer = minute_of_week(at, p.tz)

    def shifted(minute: int) -> str:
        shift = minute - viewer
        days = p.days or range(7)
        return _any(
            [
                _range("start_minutes", a, b)
                for d in days
                for a, b in week_ranges(d * DAY + lo + shift, d * DAY + hi + shift)
            ]
        )

    return [_per_zone(group_zones(zones, at), shifted)]


def _per_zone(groups: Mapping[int, Sequence[str]], clause_for: Any) -> str:
    if not groups:
        return NEVER
    return _any([f"({in_clause('timezone', zones)} AND {clause_for(minute)})" for minute, zones in groups.items()])


def open_at_clause(groups: Mapping[int, Sequence[str]]) -> str:
    """Listings whose slot covers each zone group's local minute (the 5-minute bucket of it)."""

    def covering(minute: int) -> str:
        return f"open_blocks IN [{', '.join(str(b) for b in blocks_containing(bucket_of(minute)))}]"

    return _per_zone(groups, covering)


def starts_within_clause(groups: Mapping[int, Sequence[str]], before: int, after: int) -> str:
    """Listings with a local start in [t - before, t + after] for each zone group's local minute t."""

    def window(minute: int) -> str:
        return _any([_range("start_minutes", a, b) for a, b in week_ranges(minute - before, minute + after)])

    return _per_zone(groups, window)


def relative_time_clauses(p: SearchParams, at: datetime, zones: Iterable[str]) -> list[str]:
    """open_now / in_progress / starting_within, computed per time zone at `at`."""
    if not p.has_relative_time:
        return []
    groups = group_zones(zones, at)
    clauses = ['status = "active"']
    if p.in_progress:
        clauses.append('kind = "meeting"')
    if p.open_now or p.in_progress:
        clauses.append(open_at_clause(groups))
    if p.starting_within is not None:
        clauses.append(starts_within_clause(groups, GRACE_MINUTES, p.starting_within))
    if p.window is not None:
        clauses.append(window_clause(groups, *p.window))
    return clauses


def window_clause(groups: Mapping[int, Sequence[str]], low: int, high: int) -> str:
    """Listings open at `low` minutes after each group's local minute, or starting between `low` and `high`
    minutes after it: a pantry open 16-19 is "tonight" at 17:00 although it opened before."""
    if not 0 <= low < high:
        raise _bad("window", "A time window must start at or after its reference time and before it ends.")
    opened = open_at_clause({minute + low: zones for minute, zones in groups.items()})
    return _any([opened, starts_within_clause(groups, -low, high)])


def geo_clause(lat: float, lng: float, radius_km: float) -> str:
    return f"_geoRadius({float(lat):.6f}, {float(lng):.6f}, {round(radius_km * 1000)})"


def ids_clause(ids: Sequence[str]) -> str:
    return in_clause("id", ids)


def combine(clauses: Iterable[str]) -> str | None:
    parts = [c for c in clauses if c]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else " AND ".join(f"({c})" for c in parts)
