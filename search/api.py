"""JSON search API: `GET /api/v1/search`. Read-only: it never writes to Meilisearch or waits for tasks.

The seeker's location (near, lat, lng) is used for the query only; it is never logged or stored.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from core.clock import utcnow
from core.openapi import error_responses
from search import filters
from search.client import SearchHttp
from search.layout import SearchTarget, shard_servers
from search.query import UNAVAILABLE, ZoneCache, search
from search.schemas import (
    DEFAULT_PER_PAGE,
    DEFAULT_RADIUS_KM,
    MAX_PER_PAGE,
    MAX_RADIUS_KM,
    SearchParams,
    SearchResponse,
)

router = APIRouter(prefix="/api/v1", tags=["search"], responses=error_responses(503, s503=UNAVAILABLE))

CLIENT_TIMEOUT_SECONDS = 5


def search_client(request: Request) -> SearchHttp:
    """One search client per app (search-scoped key when configured), with a short timeout."""
    state = request.app.state
    client: SearchHttp | None = getattr(state, "search_client", None)
    if client is None:
        key = state.settings.meili_search_key or state.meili.api_key
        client = SearchHttp(state.meili.url, key, timeout=CLIENT_TIMEOUT_SECONDS)
        state.meili.followers.add(client)  # re-pointed if a restart moves Meilisearch to another port
        state.search_client = client
    return client


def search_target(request: Request) -> SearchTarget:
    """The app's search target: the search client, one per shard server, and the cached shard map."""
    state = request.app.state
    home = search_client(request)
    target: SearchTarget | None = getattr(state, "search_target", None)
    if target is None or target.home is not home:
        settings = state.settings
        groups = [
            SearchHttp(s.url, s.api_key, timeout=CLIENT_TIMEOUT_SECONDS) for s in shard_servers(settings, check=False)
        ]
        target = SearchTarget(prefix=settings.meili_index_prefix, home=home, groups=groups)
        state.search_target = target
    return target


def zone_cache(request: Request) -> ZoneCache:
    state = request.app.state
    cache: ZoneCache | None = getattr(state, "search_zones", None)
    if cache is None:
        cache = ZoneCache(state.engine)
        state.search_zones = cache
    return cache


def _q(description: str, **kw: Any) -> Any:
    return Query(description=description, **kw)


Text = Annotated[str | None, _q("Words to look for (typos and synonyms allowed).", max_length=200)]
Near = Annotated[str | None, _q('A ZIP code or "City, ST". Not together with lat/lng (422).', max_length=200)]
Lat = Annotated[float | None, _q("Latitude of the search point (needs lng).", ge=-90, le=90)]
Lng = Annotated[float | None, _q("Longitude of the search point (needs lat).", ge=-180, le=180)]
Radius = Annotated[float, _q("Radius around the place, km.", gt=0, le=MAX_RADIUS_KM)]
Categories = Annotated[list[str] | None, _q("Category code (repeatable); includes its sub-categories.")]
Kind = Annotated[str | None, _q("`meeting` or `service`.")]
Fellowships = Annotated[list[str] | None, _q("Fellowship code such as aa, na, smart (repeatable).")]
Types = Annotated[list[str] | None, _q("Meeting Guide type code such as O, C, BE (repeatable).")]
AttendanceQ = Annotated[str | None, _q("`in_person`, `online` or `hybrid`.")]
Languages = Annotated[list[str] | None, _q("ISO 639 language code such as es (repeatable).")]
AccessibilityQ = Annotated[list[str] | None, _q("Accessibility code such as wheelchair (repeatable).")]
Costs = Annotated[list[str] | None, _q("free, sliding_scale, medicaid, medicare, insurance, self_pay (repeatable).")]
Regions = Annotated[
    list[str] | None, _q('Area: a state ("Illinois"), "City, ST" or "Neighbourhood, City" (repeatable).')
]
Days = Annotated[list[str] | None, _q("Local weekday of a start: 0-6 (0 = Sunday) or a name (repeatable).")]
TimeFrom = Annotated[str | None, _q("Local start time from, HH:MM (24-hour).")]
TimeTo = Annotated[str | None, _q("Local start time to, HH:MM; earlier than time_from = crossing midnight.")]
OpenNow = Annotated[bool, _q("Only services open and meetings in session at `at`.")]
InProgress = Annotated[bool, _q("Only meetings in session at `at`.")]
StartingWithin = Annotated[
    int | None, _q("Only listings starting in the next N minutes (or begun in the last 10).", ge=1, le=1440)
]
At = Annotated[str | None, _q("ISO 8601 instant the time filters use (naive = UTC). Default: now.")]
Tz = Annotated[str, _q("Viewer's IANA time zone: the online list's times are shown in it.")]
Sort = Annotated[str | None, _q("`distance` (default with a place), `soonest` or `relevance` (default without).")]
Page = Annotated[int, _q("Page number; sort=soonest reaches the first 1000 results.", ge=1, le=1000)]
PerPage = Annotated[int, _q("Results per page, 1-100 (more is a 422, not clamped).", ge=1, le=MAX_PER_PAGE)]


def search_params(
    q: Text = None,
    near: Near = None,
    lat: Lat = None,
    lng: Lng = None,
    radius_km: Radius = DEFAULT_RADIUS_KM,
    category: Categories = None,
    kind: Kind = None,
    fellowship: Fellowships = None,
    type: Types = None,
    attendance: AttendanceQ = None,
    language: Languages = None,
    accessibility: AccessibilityQ = None,
    cost: Costs = None,
    region: Regions = None,
    day: Days = None,
    time_from: TimeFrom = None,
    time_to: TimeTo = None,
    open_now: OpenNow = False,
    in_progress: InProgress = False,
    starting_within: StartingWithin = None,
    at: At = None,
    tz: Tz = "UTC",
    sort: Sort = None,
    page: Page = 1,
    per_page: PerPage = DEFAULT_PER_PAGE,
) -> SearchParams:
    """Query parameters -> validated SearchParams (422 naming the parameter on bad input)."""
    return filters.parse_params(dict(locals()))


@router.get("/search", response_model=SearchResponse, name="api_search")
def api_search(request: Request, params: Annotated[SearchParams, Depends(search_params)]) -> SearchResponse:
    """Search listings by words, place, categories and time.

    `near` and `lat`/`lng` together are a 422 (ambiguous); lat without lng is a 422. Unknown vocabulary
    values, sorts and malformed times are 422s naming the parameter. Meilisearch unreachable: 503.
    """
    result = search(
        target=search_target(request),
        params=params,
        timezones=zone_cache(request).get(),
        now=utcnow(),
    )
    return SearchResponse.model_validate(
        {
            "total": result.total,
            "page": result.page,
            "per_page": result.per_page,
            "sort": result.sort,
            "hits": result.hits,
            "online": result.online,
            "online_total": result.online_total,
            "place_applies": result.place_applies,
            "facets": result.facets,
        }
    )
