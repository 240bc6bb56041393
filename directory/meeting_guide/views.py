"""Routes of the Meeting Guide feeds: thin, each answers from the built feed (304 when unchanged).

The routes are async: a feed that is already built for the current data version is answered on the event
loop without a thread, a query or a dependency (under load every hand-over between threads waits for the
interpreter lock). Only a look-up of the data version or a build goes to a worker thread.
"""

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from core.conditional import CurrentVersion, StaticBody, VersionedCache, static_response
from core.errors import NotFound
from core.i18n import N_
from core.settings import Settings
from directory.listings.taxonomy import FELLOWSHIPS
from directory.meeting_guide.build import ALL, INDEX, FeedSite

router = APIRouter(tags=["meeting-guide"])
# Readers may reuse a feed for five minutes, then revalidate (a 304 when nothing changed).
MAX_AGE = 300


def _site(request: Request) -> FeedSite:
    state = request.app.state
    cache: VersionedCache = state.static_cache
    version: CurrentVersion | None = getattr(state, "data_version", None)
    if version is None or version.engine is not state.engine:
        version = state.data_version = CurrentVersion(state.engine)
    settings: Settings = state.settings
    return FeedSite(engine=state.engine, cache=cache, version=version, base_url=settings.base_url,
                    path_for=request.app.url_path_for)  # fmt: skip


async def _answer(request: Request, key: str, build: Callable[[FeedSite], StaticBody]) -> Response:
    site = _site(request)
    body = site.peek(key)
    if body is None:
        body = await run_in_threadpool(build, site)
    return static_response(request, body, max_age=MAX_AGE)


@router.get("/api/meeting-guide/", name="meeting_guide_feeds")
async def meeting_guide_feeds(request: Request) -> Response:
    """The list of our Meeting Guide feeds: one per fellowship that has meetings, and the all-in-one feed."""
    return await _answer(request, INDEX, FeedSite.index)


@router.get("/api/meeting-guide/{fellowship}.json", name="meeting_guide_fellowship_feed")
async def meeting_guide_fellowship_feed(fellowship: str, request: Request) -> Response:
    """One fellowship's active meetings in the Meeting Guide format: what TSML UI and the Meeting Guide app read."""
    if fellowship not in FELLOWSHIPS:
        raise NotFound(
            N_("No fellowship %(fellowship)s; /api/meeting-guide/ lists the feeds.", fellowship=repr(fellowship))
        )
    return await _answer(request, fellowship, lambda site: site.feed(fellowship))


@router.get("/api/meeting-guide.json", name="meeting_guide_feed")
async def meeting_guide_feed(request: Request) -> Response:
    """Every fellowship's active meetings in one Meeting Guide feed. Entries do not say their fellowship, and
    TSML UI and the Meeting Guide app describe types in A.A.'s words: give them a per-fellowship feed."""
    return await _answer(request, ALL, FeedSite.feed)
