"""The search service: text + place + filters + time against the listings index. Read-only.

Sorts:
- `distance` (default with a place): `_geoPoint(lat,lng):asc` in Meilisearch; `relevance` (default
  otherwise): Meilisearch's ranking rules.
- `soonest`: ordered by the exact next start (or, for an occurrence that began at most 10 minutes ago,
  by that start), computed in Python from each candidate's stored slots. Candidates (ids and slots only)
  come from ONE multi-search of nested windows ("starts within 60 min / 4 h / 24 h / any time"), each
  returning at most `limit` = clamp(2 x page x per_page, 200, 1000) listings; a second request fetches
  the page's documents. The order is exact for every listing whose sort time lies inside a window that
  Meilisearch returned completely (its total <= `limit`); beyond that, candidates are the index's first
  `limit` by relevance/distance. Listings without recurring times come last. Soonest pages only
  through the first 1000 results (`SOONEST_MAX_RANK`, deeper pages are a 422 on `page`).
- With a place, online-only listings matching the same text/filters/times (no place filter) are
  fetched in the same multi-search with the same nested windows and returned in `online`, soonest first
  (page 1 only, at most `ONLINE_LIMIT`), and counted in `online_total` (every page). `attendance=online`
  with a place searches the online listings themselves, every page of them, soonest first: the place does
  not apply to them (`place_applies` is False).
- A temporarily closed listing has no next start and is never in progress (it ranks after open ones).
- An empty result with a place or a time filter comes with `alternatives` (see `search.alternatives`).
"""

import math
import threading
import time as clock
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
import requests
from meilisearch.errors import MeilisearchError
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.errors import NotFound, ServiceUnavailable, ValidationFailed
from core.i18n import N_
from core.logging import get_logger
from directory.listings.geocoding import resolve_place
from directory.listings.models import Schedule
from search import alternatives, fanout, filters
from search.alternatives import Alternatives
from search.client import SearchRequestFailed
from search.fanout import Target
from search.hits import HIT_FIELDS, hit, status_of
from search.index_spec import FACETS, MAX_TOTAL_HITS
from search.layout import MultiSearch, SearchTarget, is_missing_index
from search.schemas import SearchParams
from search.timeslots import group_zones

log = get_logger(__name__)

RANK_FIELDS = ["id", "slots", "timezone"]
FACET_NAMES = {
    "categories": "category",
    "fellowship": "fellowship",
    "types": "type",
    "attendance": "attendance",
    "languages": "language",
    "accessibility": "accessibility",
    "cost": "cost",
    "days": "day",
    "regions": "region",
}
WINDOWS: tuple[int | None, ...] = (60, 240, 1440, None)  # minutes ahead; None = no time window
SOONEST_MAX_RANK = 1000
ONLINE_LIMIT = 10
ONLINE_RUNG_LIMIT = 2 * ONLINE_LIMIT  # per rung; nested rungs make more unnecessary (see `_by_soonest`)
UNAVAILABLE = "Search is temporarily unavailable; please try again in a minute."
_MEILI_ERRORS = (MeilisearchError, requests.exceptions.RequestException, httpx.HTTPError, SearchRequestFailed)


@dataclass
class SearchResult:
    total: int
    page: int
    per_page: int
    sort: str
    hits: list[dict[str, Any]]
    online: list[dict[str, Any]] = field(default_factory=list)
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    online_total: int | None = None  # with a place: how many online listings match (None: not asked)
    place_applies: bool = True  # False for `attendance=online` with a place
    alternatives: Alternatives = field(default_factory=Alternatives)


@dataclass(frozen=True)
class _Plan:
    flat: Target  # every document (the online list, and searches without a place)
    main: tuple[Target, ...]  # where the main results come from: the flat index or the shards the circle touches
    q: str
    main_filter: str | None
    online_filter: str | None  # None: no separate online list
    online_list: bool  # fetch the online list (page 1 without an attendance filter), else only count it
    point: tuple[float, float] | None
    sort: str
    at: datetime
    groups: dict[int, list[str]]

    @property
    def merged(self) -> bool:
        """Several indexes answer the main search: ask for ranking details and merge."""
        return len(self.main) > 1


def search(*, target: SearchTarget, params: SearchParams, timezones: Sequence[str], now: datetime) -> SearchResult:
    """Run one search. Raises ValidationFailed (bad input) or ServiceUnavailable (Meilisearch down)."""
    filters.check_ranges(params)
    point = resolve_point(params)
    try:
        try:
            found = _run(target, params, point, timezones, now, refresh=False)
        except _MEILI_ERRORS as exc:
            if not is_missing_index(exc):
                raise
            # A reindex replaced the shards since this process read the map: read it again, once.
            found = _run(target, params, point, timezones, now, refresh=True)
    except _MEILI_ERRORS as exc:
        code = getattr(exc, "code", None)
        log.warning("search unavailable", error=type(exc).__name__, code=code, detail=str(exc)[:300])
        raise ServiceUnavailable(UNAVAILABLE) from exc
    docs, total, facets, online, online_total, plan, other = found
    online_only = _ignores_place(params, point)
    return SearchResult(
        total=total,
        page=params.page,
        per_page=params.per_page,
        sort=plan.sort,
        hits=[hit(d, plan.at, point, viewer_tz=params.tz if online_only else None) for d in docs],
        online=[hit(d, plan.at, point, viewer_tz=params.tz) for d in online],
        facets={FACET_NAMES[f]: dict(facets.get(f, {})) for f in FACETS},
        online_total=online_total,
        place_applies=not online_only,
        alternatives=other,
    )


def _ignores_place(params: SearchParams, point: tuple[float, float] | None) -> bool:
    """Online listings have no place: with `attendance=online` a place changes nothing."""
    return point is not None and params.attendance == "online"


def _run(
    target: SearchTarget,
    params: SearchParams,
    point: tuple[float, float] | None,
    timezones: Sequence[str],
    now: datetime,
    *,
    refresh: bool,
) -> tuple[list, int, dict, list, int | None, "_Plan", Alternatives]:
    plan = _plan(target, params, point, timezones, now, refresh=refresh)
    if plan.sort == "soonest":
        docs, total, facets, online, online_total = _soonest(plan, params)
    else:
        docs, total, facets, online, online_total = _ranked(plan, params)
    other = Alternatives()
    if total == 0:
        other = alternatives.find(
            params=params,
            point=None if _ignores_place(params, point) else point,
            q=plan.q,
            at=plan.at,
            timezones=timezones,
            targets=lambda radius_km: _main_targets(target, plan.flat, plan.point, radius_km, refresh=refresh),
        )
    return docs, total, facets, online, online_total, plan, other


def resolve_point(params: SearchParams) -> tuple[float, float] | None:
    if params.lat is not None and params.lng is not None:
        return (params.lat, params.lng)
    if not params.near:
        return None
    try:
        found = resolve_place(params.near)
    except NotFound as exc:
        raise ValidationFailed(exc.message, field="near") from exc
    return (found.latitude, found.longitude)


def _plan(
    target: SearchTarget,
    p: SearchParams,
    point: tuple[float, float] | None,
    timezones: Sequence[str],
    now: datetime,
    *,
    refresh: bool,
) -> _Plan:
    at = p.at or now
    near = None if _ignores_place(p, point) else point
    sort = p.sort or ("distance" if near else "soonest" if point else "relevance")
    if sort == "distance" and near is None:
        sort = "soonest"  # online listings have no distance: the next one to start comes first
    online_only = p.attendance == "online"
    shared = filters.combine(alternatives.shared_clauses(p, at, timezones, online=online_only))
    attendance = filters.vocabulary_clauses(SearchParams(attendance=p.attendance))
    geo = filters.geo_clause(near[0], near[1], p.radius_km) if near else None
    online = None
    if near:
        viewer = filters.combine(alternatives.shared_clauses(p, at, timezones, online=True))
        online = filters.combine([c for c in (viewer, alternatives.ONLINE) if c])
    flat = Target(target.home, target.flat)
    return _Plan(
        flat=flat,
        main=_main_targets(target, flat, near, p.radius_km, refresh=refresh),
        q=p.q,
        main_filter=filters.combine([c for c in (shared, *attendance, geo) if c]),
        online_filter=online,
        online_list=p.attendance is None and p.page == 1,
        point=near,
        sort=sort,
        at=at,
        groups=group_zones(timezones, at),
    )


def _main_targets(
    target: SearchTarget, flat: Target, point: tuple[float, float] | None, radius_km: float, *, refresh: bool
) -> tuple[Target, ...]:
    """The flat index, or, for a place with regional shards, the shards the circle touches (maybe none)."""
    shard_map = target.shard_map(refresh=refresh) if point else None
    if shard_map is None or not shard_map.sharded or point is None:
        return (flat,)
    return tuple(Target(target.server(s.group), s.uid) for s in shard_map.covering(point[0], point[1], radius_km))


def _query(plan: _Plan, index: Target, filter_: str | None, **extra: Any) -> tuple[MultiSearch, dict[str, Any]]:
    query: dict[str, Any] = {"indexUid": index.uid, "q": plan.q, **extra}
    if filter_:
        query["filter"] = filter_
    return index.client, query


def _windows(
    plan: _Plan, index: Target, filter_: str | None, limit: int, fields: list[str], *, facets: bool = False
) -> list[tuple[MultiSearch, dict[str, Any]]]:
    """Nested "starts within" windows; the last (no window) also gives the exact total (and facets)."""
    extra: dict[str, Any] = {"attributesToRetrieve": fields}
    if index in plan.main and plan.merged:
        extra["showRankingScoreDetails"] = True
    queries = []
    for ahead in WINDOWS:
        if ahead is None:
            facet_list: dict[str, Any] = {"facets": FACETS} if facets else {}
            queries.append(_query(plan, index, filter_, page=1, hitsPerPage=limit, **extra, **facet_list))
            continue
        window = filters.starts_within_clause(plan.groups, filters.GRACE_MINUTES, ahead)
        queries.append(_query(plan, index, filters.combine([c for c in (filter_, window) if c]), limit=limit, **extra))
    return queries


def _online(plan: _Plan) -> list[tuple[MultiSearch, dict[str, Any]]]:
    """The online list's windows (or only its count), from the flat index (online listings have no point,
    hence no shard)."""
    if not plan.online_filter:
        return []
    if not plan.online_list:
        return [_query(plan, plan.flat, plan.online_filter, page=1, hitsPerPage=0)]
    return _windows(plan, plan.flat, plan.online_filter, ONLINE_RUNG_LIMIT, HIT_FIELDS)


def _online_found(plan: _Plan, results: Sequence[dict[str, Any]]) -> tuple[list[dict[str, Any]], int | None]:
    """The online list (soonest first) and how many online listings match, from the `_online` answers."""
    if not results:
        return [], None
    total = int(results[-1].get("totalHits", 0))
    return (_by_soonest(results, plan.at, ONLINE_LIMIT) if plan.online_list else []), total


def _ranked(plan: _Plan, p: SearchParams) -> tuple[list, int, dict, list, int | None]:
    sort = [f"_geoPoint({plan.point[0]:.6f},{plan.point[1]:.6f}):asc"] if plan.sort == "distance" and plan.point else []
    need = min(p.page * p.per_page, MAX_TOTAL_HITS)
    paging = {"page": 1, "hitsPerPage": need, "showRankingScoreDetails": True} if plan.merged else {}
    main = [
        _query(
            plan,
            index,
            plan.main_filter,
            **({"page": p.page, "hitsPerPage": p.per_page} | paging),
            attributesToRetrieve=HIT_FIELDS,
            facets=FACETS,
            **({"sort": sort} if sort else {}),
        )
        for index in plan.main
    ]
    results = fanout.run([*main, *_online(plan)])
    found, (online, online_total) = results[: len(main)], _online_found(plan, results[len(main) :])
    if not plan.merged:
        first = found[0] if found else {}
        facets = first.get("facetDistribution") or {}
        return first.get("hits", []), int(first.get("totalHits", 0)), facets, online, online_total
    ranked = [doc for _, doc in fanout.merge_hits(found, need, plan.point if sort else None)]
    page = ranked[(p.page - 1) * p.per_page :]
    return page, fanout.total_hits(found), fanout.facet_counts(found), online, online_total


def _soonest(plan: _Plan, p: SearchParams) -> tuple[list, int, dict, list, int | None]:
    need = p.page * p.per_page
    if need > SOONEST_MAX_RANK:
        raise ValidationFailed(
            N_("sort=soonest shows the first %(soonest_max_rank)s results only.", soonest_max_rank=SOONEST_MAX_RANK),
            field="page",
        )
    limit = min(max(2 * need, 200), SOONEST_MAX_RANK)
    main = [q for index in plan.main for q in _windows(plan, index, plan.main_filter, limit, RANK_FIELDS, facets=True)]
    results = fanout.run([*main, *_online(plan)])
    rungs, whole, source = _rungs(results[: len(main)], limit)
    ranked = _by_soonest(rungs, plan.at, need)
    page_ids = [d["id"] for d in ranked[(p.page - 1) * p.per_page : need]]
    online, online_total = _online_found(plan, results[len(main) :])
    return (
        _fetch(plan, page_ids, source),
        fanout.total_hits(whole),
        fanout.facet_counts(whole) if plan.merged else (whole[0].get("facetDistribution") or {} if whole else {}),
        online,
        online_total,
    )


def _rungs(
    results: list[dict[str, Any]], limit: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, int]]:
    """Per window, the shards' results merged as one index would rank them; the "any time" results; and
    for each listing, which of the plan's main indexes holds it."""
    per_index = [results[n : n + len(WINDOWS)] for n in range(0, len(results), len(WINDOWS))]
    source: dict[str, int] = {}
    rungs = []
    for rung in range(len(WINDOWS)):
        answers = [windows[rung] for windows in per_index]
        if len(answers) == 1:
            merged = [(0, doc) for doc in answers[0].get("hits", [])]
        else:
            merged = fanout.merge_hits(answers, limit)
        for n, doc in merged:
            source.setdefault(doc["id"], n)
        rungs.append({"hits": [doc for _, doc in merged]})
    return rungs, [windows[-1] for windows in per_index], source


def _fetch(plan: _Plan, ids: list[str], source: dict[str, int]) -> list[dict[str, Any]]:
    if not ids:
        return []
    wanted: dict[int, list[str]] = {}
    for doc_id in ids:
        wanted.setdefault(source.get(doc_id, 0), []).append(doc_id)
    queries = [
        (
            plan.main[n].client,
            {
                "indexUid": plan.main[n].uid,
                "q": "",
                "filter": filters.ids_clause(chunk),
                "limit": len(chunk),
                "attributesToRetrieve": HIT_FIELDS,
            },
        )
        for n, chunk in wanted.items()
    ]
    found = {d["id"]: d for result in fanout.run(queries) for d in result.get("hits", [])}
    return [found[i] for i in ids if i in found]


def soonest_key(doc: dict[str, Any], at: datetime) -> float:
    """Seconds from `at` to the listing's next start (an occurrence begun <= 10 minutes ago counts)."""
    status = status_of(doc, at)
    grace = timedelta(minutes=filters.GRACE_MINUTES)
    if status.started_at is not None and status.started_at >= at - grace:
        return (status.started_at - at).total_seconds()
    return (status.next_start - at).total_seconds() if status.next_start else math.inf


def _by_soonest(results: Sequence[dict[str, Any]], at: datetime, limit: int) -> list[dict[str, Any]]:
    """The `limit` soonest listings of the nested "starts within" rungs (one result per `WINDOWS` entry).

    A listing found only in a later rung starts after the earlier rung's horizon, so once the rungs read so
    far hold `limit` listings starting within their horizon, the later rungs cannot change the answer and
    their exact times are not computed.
    """
    keyed: dict[str, tuple[float, dict[str, Any]]] = {}
    for ahead, result in zip(WINDOWS, results, strict=False):  # no results when there was no such query
        for doc in result.get("hits", []):
            if doc["id"] not in keyed:
                keyed[doc["id"]] = (soonest_key(doc, at), doc)
        if ahead is not None and sum(1 for key, _ in keyed.values() if key <= ahead * 60) >= limit:
            break
    ordered = sorted(keyed.values(), key=lambda pair: pair[0])  # stable: index order breaks ties
    return [doc for _, doc in ordered[:limit]]


class ZoneCache:
    """Distinct schedule time zones from the database, re-read at most every `ttl` seconds."""

    def __init__(self, engine: Engine, ttl: float = 60.0, monotonic: Callable[[], float] = clock.monotonic) -> None:
        self._engine, self._ttl, self._monotonic = engine, ttl, monotonic
        self._lock = threading.Lock()
        self._zones: list[str] = []
        self._loaded_at: float | None = None

    def get(self) -> list[str]:
        with self._lock:
            now = self._monotonic()
            if self._loaded_at is None or now - self._loaded_at >= self._ttl:
                with Session(self._engine) as session:
                    rows = session.exec(select(Schedule.timezone).distinct()).all()
                self._zones = sorted({z for z in rows if z})
                self._loaded_at = now
            return list(self._zones)
