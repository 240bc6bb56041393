"""What the HTML results page shows, built from one `SearchResult`: hits with their badges, facet groups
with counts, active filters with remove links, pagination and, for an empty result, ways to widen it.

Pure (no I/O). Labels stay codes here; templates translate them in the visitor's language.
"""

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from core.i18n import N_
from directory.listings.meeting_types import TYPE_LANGUAGES
from directory.listings.taxonomy import CATEGORY_CODES, ancestors
from search.query import SearchResult
from search.schemas import SearchParams
from search.timeslots import is_zone

Link = Callable[[Mapping[str, Any]], str]
SOON = timedelta(minutes=60)
ONLINE_SOON = timedelta(hours=24)  # online meetings shown beside in-person results start within this
ONLINE_SHOWN = 5
KM_PER_MILE = 1.609344
RADII_KM = (2, 5, 10, 25, 50, 100, 250)
STARTING_WITHIN = (30, 60, 120, 240)
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
class HitView:
    hit: dict[str, Any]
    url: str
    local_start: datetime | None
    local_end: datetime | None  # end of the occurrence in progress
    day_offset: int | None  # 0 today, 1 tomorrow (in the listing's zone), else None
    minutes_until: int | None
    categories: list[str]
    miles: float | None

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
    radii: tuple[int, ...] = RADII_KM
    starting_within: tuple[int, ...] = STARTING_WITHIN

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
    )


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
            active.append(ActiveFilter(name, str(raw[name]), "time", link(with_changes(raw, **{name: None}))))
    return active


def suggestions(p: SearchParams, raw: Mapping[str, Any], link: Link) -> list[tuple[str, str, dict[str, Any]]]:
    found: list[tuple[str, str, dict[str, Any]]] = []
    if p.has_point_input:
        wider = next((r for r in RADII_KM if r > p.radius_km), None)
        if wider:
            miles = round(wider / KM_PER_MILE)
            found.append(
                (
                    N_("Search a wider area (%(miles)s miles)"),
                    link(with_changes(raw, radius_km=wider)),
                    {"miles": miles},
                )
            )
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


def results_page(
    *,
    params: SearchParams,
    raw: dict[str, Any],
    result: SearchResult,
    link: Link,
    service_url: Callable[[str], str],
    now: datetime,
) -> ResultsPage:
    at = params.at or now
    viewer_tz = raw.get("tz")
    pages = min(MAX_PAGE, max(1, math.ceil(result.total / max(1, result.per_page))))
    page = result.page
    empty = result.total == 0 and not result.online
    soon = [h for h in result.online if starts_within(h, at, ONLINE_SOON)]
    return ResultsPage(
        params=params,
        raw=raw,
        total=result.total,
        sort=result.sort,
        hits=[hit_view(h, at, service_url, viewer_tz) for h in result.hits],
        online=[hit_view(h, at, service_url, viewer_tz) for h in soon[:ONLINE_SHOWN]],
        facets=facet_groups(result, raw),
        attendance=facet_options(result.facets.get("attendance", {}), _selected(raw, "attendance")),
        days=day_options(result, raw),
        active=active_filters(raw, link),
        pages=pages,
        prev_url=link({**raw, "page": page - 1}) if page > 1 else None,
        next_url=link({**raw, "page": page + 1}) if page < pages else None,
        suggestions=suggestions(params, raw, link) if empty else [],
    )
