"""What the HTML results page shows, built from one `SearchResult`: hits with their badges, facet groups
with counts, active filters with remove links, pagination and, for an empty result, ways to widen it.

With a place, online listings are a count and a link (`online_url`: the same search with
`attendance=online`, where the place does not apply) at the top, and a short "starting soon" list of online
meetings after the local results: local results come first on a phone.

Pure (no I/O). Labels stay codes here; templates translate them in the visitor's language.
"""

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from core.i18n import N_
from directory.listings.meeting_types import TYPE_LANGUAGES
from directory.listings.taxonomy import CATEGORY_CODES, ancestors
from search.hits import CLOSED
from search.query import SearchResult
from search.schemas import RADII_KM, SearchParams
from search.timeslots import is_zone
from search.understanding import TIME, TIME_LABELS, Reading

Link = Callable[[Mapping[str, Any]], str]
SOON = timedelta(minutes=60)
ONLINE_SOON = timedelta(hours=24)  # online meetings shown beside in-person results start within this
ONLINE_SHOWN = 3
KM_PER_MILE = 1.609344
STARTING_WITHIN = (30, 60, 120, 240)
OFFERED = frozenset(str(m) for m in STARTING_WITHIN)
FACET_LIMIT = 8
MAX_PAGE = 1000  # the API's page limit
# Facets shown as checkboxes, in page order: (query parameter, legend, label table for the template).
CHECKBOX_FACETS: tuple[tuple[str, str, str], ...] = (
    ("category", N_("Category"), "category"),
    ("fellowship", N_("Fellowship"), "fellowship"),
    ("type", N_("Meeting type"), "meeting_type"),
    ("language", N_("Language"), "language"),
    ("accessibility", N_("Accessibility"), "accessibility"),
    ("cost", N_("Cost"), "cost"),
    ("region", N_("Region"), "region"),
)
TIME_KEYS = ("open_now", "in_progress", "starting_within", "day", "time_from", "time_to")


@dataclass
class FacetOption:
    value: str
    count: int
    checked: bool


@dataclass
class FacetGroup:
    name: str
    legend: str
    table: str
    options: list[FacetOption]


@dataclass
class ActiveFilter:
    name: str
    value: str
    table: str
    remove_url: str


@dataclass
class Chip:
    """A filter read from the search box's words; its link searches without those words."""

    kind: str  # fellowship, category, time, kind, attendance or language (the label table)
    value: str
    words: str
    remove_url: str
    q_after: str

    @property
    def message(self) -> str | None:
        """For time chips, the message id of their label."""
        return TIME_LABELS.get(self.value) if self.kind == TIME else None


@dataclass
class HitView:
    hit: dict[str, Any]
    url: str
    local_start: datetime | None
    local_end: datetime | None  # end of the occurrence in progress
    day_offset: int | None  # 0 today, 1 tomorrow (in the listing's zone), else None
    minutes_until: int | None
    categories: list[str]
    miles: float | None
    closed: bool = False  # temporarily closed: no time is shown, `reopens` instead
    reopens: date | None = None

    @property
    def shown_types(self) -> list[str]:
        """Meeting types, without language codes the languages line already says."""
        languages = set(self.hit.get("languages") or [])
        return [t for t in self.hit.get("types") or [] if TYPE_LANGUAGES.get(t) not in languages]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.hit[name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass
class ResultsPage:
    params: SearchParams
    raw: dict[str, Any]
    total: int
    sort: str
    hits: list[HitView]
    online: list[HitView]
    facets: list[FacetGroup]
    attendance: list[FacetOption]
    days: list[FacetOption]
    active: list[ActiveFilter]
    pages: int
    prev_url: str | None
    next_url: str | None
    suggestions: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)  # (message id, url, vars)
    online_total: int | None = None  # with a place: online listings matching the same search
    online_url: str | None = None
    local_url: str | None = None  # online results of a place search: back to the local ones
    place_applies: bool = True
    ask_place: bool = False  # a time-bound search without a place: only online listings are shown
    radii: tuple[int, ...] = RADII_KM
    starting_within: tuple[int, ...] = STARTING_WITHIN
    chips: list[Chip] = field(default_factory=list)

    @property
    def has_place(self) -> bool:
        return self.params.has_point_input


def with_changes(raw: Mapping[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy of the query with some keys replaced (None removes); any change goes back to page 1."""
    query = {k: v for k, v in raw.items() if k != "page"}
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    return query


def without_value(raw: Mapping[str, Any], key: str, value: str) -> dict[str, Any]:
    current = raw.get(key)
    if isinstance(current, list):
        rest = [v for v in current if v != value]
        return with_changes(raw, **{key: rest or None})
    return with_changes(raw, **{key: None})


def leaf_categories(codes: list[str]) -> list[str]:
    """The most specific categories: drop codes that are only there as another code's ancestor."""
    known = [c for c in codes if c in CATEGORY_CODES]
    parents = {a for c in known for a in ancestors(c)[1:]}
    return [c for c in known if c not in parents]


def hit_view(hit: dict[str, Any], at: datetime, service_url: Callable[[str], str], viewer_tz: str | None) -> HitView:
    start_text = hit.get("started_at") if hit.get("in_progress") else hit.get("next_start")
    local = datetime.fromisoformat(start_text) if start_text else None
    zone_name = viewer_tz if viewer_tz and hit.get("attendance") == "online" else hit.get("timezone")
    if local is not None and zone_name and is_zone(zone_name):
        local = local.astimezone(ZoneInfo(zone_name))
    day_offset = minutes = None
    if local is not None:
        days = (local.date() - at.astimezone(local.tzinfo).date()).days
        day_offset = days if days in (0, 1) else None
        if not hit.get("in_progress") and timedelta(0) <= local - at <= SOON:
            minutes = int((local - at).total_seconds() // 60)
    distance = hit.get("distance_km")
    end = datetime.fromisoformat(hit["ends_at"]) if hit.get("ends_at") else None
    if end is not None and local is not None:
        end = end.astimezone(local.tzinfo)
    return HitView(
        hit=hit,
        url=service_url(str(hit["service_id"])),
        local_start=local,
        local_end=end,
        day_offset=day_offset,
        minutes_until=minutes,
        categories=leaf_categories(list(hit.get("categories") or [])),
        miles=round(distance / KM_PER_MILE, 1) if distance is not None else None,
        closed=hit.get("status") == CLOSED,
        reopens=_reopens(hit, at),
    )


def _reopens(hit: Mapping[str, Any], at: datetime) -> date | None:
    """A closed listing's reopening day, when it is known and still ahead (in the listing's zone)."""
    text = hit.get("reopening_date")
    if hit.get("status") != CLOSED or not text:
        return None
    day = date.fromisoformat(str(text))
    zone_name = hit.get("timezone")
    today = at.astimezone(ZoneInfo(zone_name)).date() if zone_name and is_zone(zone_name) else at.date()
    return day if day > today else None


def starts_within(hit: Mapping[str, Any], at: datetime, window: timedelta) -> bool:
    if hit.get("in_progress"):
        return True
    start = hit.get("next_start")
    return bool(start) and datetime.fromisoformat(str(start)) - at <= window


def _selected(raw: Mapping[str, Any], name: str) -> list[str]:
    value = raw.get(name)
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def facet_options(counts: Mapping[str, int], selected: list[str], limit: int = FACET_LIMIT) -> list[FacetOption]:
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = [FacetOption(v, n, v in selected) for v, n in ranked if n > 0][:limit]
    missing = [v for v in selected if v not in {o.value for o in shown}]
    return shown + [FacetOption(v, counts.get(v, 0), True) for v in missing]


def facet_groups(result: SearchResult, raw: Mapping[str, Any]) -> list[FacetGroup]:
    groups = []
    for name, legend, table in CHECKBOX_FACETS:
        options = facet_options(result.facets.get(name, {}), _selected(raw, name))
        if options:
            groups.append(FacetGroup(name=name, legend=legend, table=table, options=options))
    return groups


def day_options(result: SearchResult, raw: Mapping[str, Any]) -> list[FacetOption]:
    """Monday first; values are the API's day numbers (0 = Sunday)."""
    counts, selected = result.facets.get("day", {}), _selected(raw, "day")
    return [FacetOption(str(d), counts.get(str(d), 0), str(d) in selected) for d in (1, 2, 3, 4, 5, 6, 0)]


def active_filters(raw: Mapping[str, Any], link: Link) -> list[ActiveFilter]:
    tables = {name: table for name, _, table in CHECKBOX_FACETS} | {
        "kind": "kind",
        "attendance": "attendance",
        "day": "day",
    }
    active = []
    for name, table in tables.items():
        for value in _selected(raw, name):
            active.append(ActiveFilter(name, value, table, link(without_value(raw, name, value))))
    for name in ("open_now", "in_progress", "starting_within", "time_from", "time_to"):
        if raw.get(name):
            # "Open later today" asks for the minutes left in the day, not one of the offered windows.
            shown = "later_today" if name == "starting_within" and str(raw[name]) not in OFFERED else name
            active.append(ActiveFilter(shown, str(raw[name]), "time", link(with_changes(raw, **{name: None}))))
    return active


def needs_place(p: SearchParams) -> bool:
    """ "Starting soon" or "open now" anywhere lists doors 1,000 km away: without a place, ask for one (and
    show what needs none, the online listings)."""
    return p.has_relative_time and not p.has_point_input and p.attendance is None


def searched(p: SearchParams) -> SearchParams:
    """What the results page searches for: a time-bound search without a place looks online only."""
    return replace(p, attendance="online") if needs_place(p) else p


def suggestions(
    p: SearchParams, raw: Mapping[str, Any], link: Link, result: SearchResult, online_url: str | None
) -> list[tuple[str, str, dict[str, Any]]]:
    found: list[tuple[str, str, dict[str, Any]]] = []
    other = result.alternatives
    if other.wider:
        radius, count = other.wider
        found.append(
            (
                N_("Search within %(miles)s miles: %(count)s found"),
                link(with_changes(raw, radius_km=radius)),
                {"miles": round(radius / KM_PER_MILE), "count": count},
            )
        )
    if other.later_today:
        minutes, count = other.later_today
        later = with_changes(raw, open_now=None, starting_within=minutes, sort="soonest")
        found.append((N_("Open later today: %(count)s found"), link(later), {"count": count}))
    if online_url and result.online_total:
        found.append((N_("Online instead: %(count)s found"), online_url, {"count": result.online_total}))
    if any(raw.get(k) for k in TIME_KEYS):
        found.append((N_("Search at any time"), link(with_changes(raw, **dict.fromkeys(TIME_KEYS))), {}))
    filters = [
        k
        for k in ("category", "fellowship", "type", "language", "accessibility", "cost", "kind", "attendance", "region")
        if raw.get(k)
    ]
    if filters:
        found.append((N_("Remove all filters"), link(with_changes(raw, **dict.fromkeys(filters))), {}))
    if p.q:
        found.append((N_("Search without the words"), link(with_changes(raw, q=None)), {}))
    return found


def chips(reading: Reading | None, raw: Mapping[str, Any], link: Link) -> list[Chip]:
    if reading is None:
        return []
    found = []
    for part in reading.parts:
        rest = reading.without(part)
        found.append(Chip(part.kind, part.value, part.words, link(with_changes(raw, q=rest or None)), rest))
    return found


def _any_time(found: list[Chip], raw: Mapping[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """Nothing "tonight": the same words at any time (the time words' chip link)."""
    if any(raw.get(k) for k in TIME_KEYS):  # `suggestions` offers it already
        return []
    times = [c for c in found if c.kind == TIME][:1]
    offer: list[tuple[str, str, dict[str, Any]]] = [(N_("Search at any time"), c.remove_url, {}) for c in times]
    return offer


def results_page(
    *,
    params: SearchParams,
    raw: dict[str, Any],
    result: SearchResult,
    link: Link,
    service_url: Callable[[str], str],
    now: datetime,
    reading: Reading | None = None,
) -> ResultsPage:
    at = params.at or now
    viewer_tz = raw.get("tz")
    pages = min(MAX_PAGE, max(1, math.ceil(result.total / max(1, result.per_page))))
    page = result.page
    empty = result.total == 0
    soon = [h for h in result.online if h.get("kind") == "meeting" and starts_within(h, at, ONLINE_SOON)]
    online_url = local_url = None
    if result.online_total is not None:
        online_url = link(with_changes(raw, attendance="online", sort=None, radius_km=None))
    if params.has_point_input and not result.place_applies:
        local_url = link(with_changes(raw, attendance=None, sort=None))
    understood = chips(reading, raw, link)
    return ResultsPage(
        params=params,
        raw=raw,
        total=result.total,
        sort=result.sort,
        hits=[hit_view(h, at, service_url, viewer_tz) for h in result.hits],
        online=[hit_view(h, at, service_url, viewer_tz) for h in soon[:ONLINE_SHOWN]],
        facets=facet_groups(result, raw),
        attendance=facet_options(attendance_counts(result), _selected(raw, "attendance")),
        days=day_options(result, raw),
        active=active_filters(raw, link),
        pages=pages,
        prev_url=link({**raw, "page": page - 1}) if page > 1 else None,
        next_url=link({**raw, "page": page + 1}) if page < pages else None,
        suggestions=[*_any_time(understood, raw), *suggestions(params, raw, link, result, online_url)] if empty else [],
        online_total=result.online_total,
        online_url=online_url,
        local_url=local_url,
        place_applies=result.place_applies,
        ask_place=needs_place(params),
        chips=understood,
    )


def attendance_counts(result: SearchResult) -> dict[str, int]:
    """With a place the local counts have no online listings: the online count comes from its own search."""
    counts = dict(result.facets.get("attendance", {}))
    if result.online_total:
        counts["online"] = result.online_total
    return counts
