"""HTML search pages: the home page and the results page (full page, or the results fragment for htmx).

The results page calls the same search service as `GET /api/v1/search`, in process, with the same
parameter definitions (`search.api.search_params`, validated by pydantic against its annotations).
"""

import inspect
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError, validate_call

from core.clock import utcnow
from core.errors import ValidationFailed
from core.i18n import N_, path_with
from core.openapi import error_responses
from core.web import is_htmx, render, templates
from search.api import search_params, search_target, zone_cache
from search.map_view import MAP_ASSETS, allow_tiles, map_tiles
from search.query import UNAVAILABLE
from search.query import search as run_search
from search.results_page import ResultsPage, results_page, searched
from search.schemas import SearchParams
from search.understanding import read

router = APIRouter(tags=["search pages"])
templates.env.globals.update(map_tiles=map_tiles, MAP_ASSETS=MAP_ASSETS)

# Parameters that may repeat (the API takes them as lists); every other one keeps its last value.
LIST_PARAMS = frozenset({"category", "fellowship", "type", "language", "accessibility", "cost", "day", "region"})
PARAM_NAMES = frozenset(inspect.signature(search_params).parameters)
_validated_params = validate_call(search_params)


@dataclass(frozen=True)
class QuickChoice:
    label: str
    query: dict[str, str] = field(default_factory=dict)


QUICK_CHOICES: tuple[QuickChoice, ...] = (
    QuickChoice(N_("Meetings starting soon"), {"kind": "meeting", "starting_within": "60", "sort": "soonest"}),
    QuickChoice(N_("Food open now"), {"category": "food", "open_now": "1"}),
    QuickChoice(N_("Rides"), {"category": "transport"}),
    QuickChoice(N_("Treatment"), {"category": "treatment"}),
    QuickChoice(N_("Crisis help"), {"category": "crisis-services"}),
)


def submitted(request: Request) -> dict[str, Any]:
    """The search parameters in the URL, empty form fields left out (plain form submits send them)."""
    raw: dict[str, Any] = {}
    for key, value in request.query_params.multi_items():
        if key not in PARAM_NAMES or not value.strip():
            continue
        if key in LIST_PARAMS:
            raw.setdefault(key, []).append(value)
        else:
            raw[key] = value
    return raw


def parse(raw: dict[str, Any]) -> SearchParams:
    try:
        params: SearchParams = _validated_params(**raw)
    except ValidationError as exc:
        errors = {".".join(str(p) for p in err["loc"]) or "request": err["msg"] for err in exc.errors()}
        raise ValidationFailed("; ".join(f"{k}: {v}" for k, v in errors.items()), errors=errors) from exc
    return params


def form_values(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "q": raw.get("q", ""),
        "near": raw.get("near", ""),
        "lat": raw.get("lat"),
        "lng": raw.get("lng"),
        "tz": raw.get("tz", ""),
    }


PLACE_PARAMS = ("near", "lat", "lng")


@router.get("/", response_class=HTMLResponse, name="home")
def home(request: Request) -> HTMLResponse:
    """A place already in the URL (`/?near=60614`) goes into the form and into every quick choice."""
    place = {k: v for k, v in submitted(request).items() if k in PLACE_PARAMS}
    context = {
        "form": form_values(place),
        "quick_choices": [QuickChoice(c.label, {**c.query, **place}) for c in QUICK_CHOICES],
    }
    return render(request, "search/home.html", context)


@router.get(
    "/search",
    response_class=HTMLResponse,
    name="search",
    responses=error_responses(422, 503, s503=UNAVAILABLE),
)
def search(request: Request) -> HTMLResponse:
    """Every parameter of `GET /api/v1/search` works here too; the page shows the same results."""
    raw = submitted(request)
    # htmx restoring history asks for the whole page, even though it says HX-Request.
    partial = None if request.headers.get("HX-History-Restore-Request") == "true" else "search/_results.html"
    context: dict[str, Any] = {"form": form_values(raw), "oob": is_htmx(request) and partial is not None}
    now = utcnow()
    try:
        params = parse(raw)
        understood, reading = read(params, tz_given="tz" in raw, now=now)
        result = run_search(
            target=search_target(request),
            params=searched(understood),
            timezones=zone_cache(request).get(),
            now=now,
        )
    except ValidationFailed as exc:
        context.update(page=None, error=exc)
        return render(request, "search/results.html", context, partial=partial, status_code=422)
    page: ResultsPage = results_page(
        params=params,
        raw=raw,
        result=result,
        now=now,
        link=lambda query: path_with(request, "search", query),
        service_url=lambda service_id: path_with(request, "service", service_id=service_id),
        reading=reading,
    )
    context.update(page=page, error=None)
    return allow_tiles(render(request, "search/results.html", context, partial=partial), request)
