"""What to offer when a search finds nothing, so an empty result is never a dead end.

Counted in one multi-search, only for an empty result: the nearest wider radius that has results (a
place search), and for "open now" how many open later today (until local midnight at the place, or in
the viewer's zone without one). The online alternative is the online count every place search carries.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from directory.listings.geocoding import timezone_for
from search import fanout, filters
from search.fanout import Target
from search.schemas import MAX_RADIUS_KM, RADII_KM, SearchParams
from search.timeslots import DAY, is_zone, zone

ONLINE = 'attendance = "online"'
MIN_LATER_MINUTES = 15  # closer to midnight than this, "later today" is not worth offering


@dataclass(frozen=True)
class Alternatives:
    wider: tuple[int, int] | None = None  # (radius in km, how many listings within it)
    later_today: tuple[int, int] | None = None  # (minutes until the end of the day, how many open by then)


def shared_clauses(p: SearchParams, at: datetime, timezones: Sequence[str], *, online: bool = False) -> list[str]:
    """Every clause but attendance and place: what the local list and the online list have in common (the
    online list reads days and times in the viewer's zone)."""
    return [
        *filters.vocabulary_clauses(replace(p, attendance=None)),
        *(filters.viewer_weekday_clauses(p, at, timezones) if online else filters.weekday_clauses(p)),
        *filters.relative_time_clauses(p, at, timezones),
    ]


def minutes_left_today(at: datetime, zone_name: str) -> int:
    local = at.astimezone(zone(zone_name))
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), local.tzinfo)
    return min(DAY, int((midnight - local).total_seconds() // 60))


def find(
    *,
    params: SearchParams,
    point: tuple[float, float] | None,
    q: str,
    at: datetime,
    timezones: Sequence[str],
    targets: Callable[[float], tuple[Target, ...]],
) -> Alternatives:
    """`point` is None when the place does not apply; `targets(radius)` are the indexes a circle touches."""
    attendance = filters.vocabulary_clauses(SearchParams(attendance=params.attendance))
    asks: list[tuple[str, int, tuple[Target, ...], str | None]] = []  # (what, value, indexes, filter)
    if point is not None:
        base = [*shared_clauses(params, at, timezones, online=params.attendance == "online"), *attendance]
        for radius in (r for r in RADII_KM if params.radius_km < r <= MAX_RADIUS_KM):
            geo = filters.geo_clause(point[0], point[1], radius)
            asks.append(("wider", radius, targets(radius), filters.combine([*base, geo])))
    if params.open_now and not params.in_progress:
        zone_name = (timezone_for(point[0], point[1]) if point else None) or params.tz
        minutes = minutes_left_today(at, zone_name if is_zone(zone_name) else "UTC")
        if minutes >= MIN_LATER_MINUTES:
            soon = replace(params, open_now=False, starting_within=minutes)
            circle = [filters.geo_clause(point[0], point[1], params.radius_km)] if point else []
            clauses = [*shared_clauses(soon, at, timezones, online=params.attendance == "online"), *attendance, *circle]
            asks.append(("later_today", minutes, targets(params.radius_km), filters.combine(clauses)))
    if not asks:
        return Alternatives()
    queries = []
    for _, _, indexes, filter_ in asks:
        for index in indexes:
            query = {"indexUid": index.uid, "q": q, "page": 1, "hitsPerPage": 0}
            queries.append((index.client, query | ({"filter": filter_} if filter_ else {})))
    results = iter(fanout.run(queries))
    counts = [
        (what, value, sum(int(next(results).get("totalHits", 0)) for _ in indexes)) for what, value, indexes, _ in asks
    ]
    wider = next(((value, n) for what, value, n in counts if what == "wider" and n), None)
    later = next(((value, n) for what, value, n in counts if what == "later_today" and n), None)
    return Alternatives(wider=wider, later_today=later)
