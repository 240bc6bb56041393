"""Routes of the Meeting Guide feeds: thin, each answers from the built feed (304 when unchanged)."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from core.conditional import VersionedCache, static_response
from core.deps import AppSettings
from core.errors import NotFound
from core.i18n import N_
from directory.listings.taxonomy import FELLOWSHIPS
from directory.meeting_guide.build import FeedSite

router = APIRouter(tags=["meeting-guide"])
# Readers may reuse a feed for five minutes, then revalidate (a 304 when nothing changed).
MAX_AGE = 300


def _site(request: Request, settings: AppSettings) -> FeedSite:
    cache: VersionedCache = request.app.state.static_cache
    return FeedSite(engine=request.app.state.engine, cache=cache, base_url=settings.base_url,
                    path_for=request.app.url_path_for)  # fmt: skip


@router.get("/api/meeting-guide/", name="meeting_guide_feeds")
def meeting_guide_feeds(request: Request, settings: AppSettings) -> Response:
    """The list of our Meeting Guide feeds: one per fellowship that has meetings, and the all-in-one feed."""
    return static_response(request, _site(request, settings).index(), max_age=MAX_AGE)


@router.get("/api/meeting-guide/{fellowship}.json", name="meeting_guide_fellowship_feed")
def meeting_guide_fellowship_feed(fellowship: str, request: Request, settings: AppSettings) -> Response:
    """One fellowship's active meetings in the Meeting Guide format: what TSML UI and the Meeting Guide app read."""
    if fellowship not in FELLOWSHIPS:
        raise NotFound(
            N_("No fellowship %(fellowship)s; /api/meeting-guide/ lists the feeds.", fellowship=repr(fellowship))
        )
    return static_response(request, _site(request, settings).feed(fellowship), max_age=MAX_AGE)


@router.get("/api/meeting-guide.json", name="meeting_guide_feed")
def meeting_guide_feed(request: Request, settings: AppSettings) -> Response:
    """Every fellowship's active meetings in one Meeting Guide feed. Entries do not say their fellowship, and
    TSML UI and the Meeting Guide app describe types in A.A.'s words: give them a per-fellowship feed."""
    return static_response(request, _site(request, settings).feed(), max_age=MAX_AGE)
