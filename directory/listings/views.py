"""Public directory pages: organizations, a listing and its calendar file. Search pages live in search/views.py."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import pass_context
from jinja2.runtime import Context

from accounts.deps import OptionalUser
from accounts.permissions import is_peer
from core.clock import utcnow
from core.deps import DbSession
from core.i18n import gettext, lang_params, path_with, request_lang
from core.openapi import error_responses
from core.web import render, templates
from directory.listings import ics, labels, my_list, pages
from directory.listings import queries as listing

router = APIRouter(tags=["directory"])

# The accounts package serves this page; link to its named route when it is mounted, else to this path.
SUGGEST_EDIT_PATH = "/services/{service_id}/suggest"


@pass_context
def _label(ctx: Context, code: str | None, table: str) -> str:
    return labels.LABELERS[table](code, request_lang(ctx.get("request")))


templates.env.filters["label"] = _label


def suggest_edit_url(request: Request, service_id: uuid.UUID) -> str:
    for route in request.app.routes:
        if getattr(route, "path", None) == SUGGEST_EDIT_PATH and getattr(route, "name", None):
            return path_with(request, route.name, service_id=service_id)
    query = "&".join(f"{k}={v}" for k, v in lang_params(request).items())
    return SUGGEST_EDIT_PATH.format(service_id=service_id) + (f"?{query}" if query else "")


@router.get("/organizations", response_class=HTMLResponse, name="organizations")
def organizations(
    request: Request, session: DbSession, page: Annotated[int, Query(ge=1, le=100_000)] = 1
) -> HTMLResponse:
    per_page = 50
    orgs, total = listing.list_organizations(session, page=page, per_page=per_page)
    pages_count = max(1, -(-total // per_page))
    context = {"organizations": orgs, "page": page, "pages": pages_count, "total": total}
    return render(request, "directory/listings/organizations.html", context)


@router.get("/organizations/{organization_id}", response_class=HTMLResponse, name="organization")
def organization(request: Request, session: DbSession, organization_id: uuid.UUID) -> HTMLResponse:
    page = pages.organization_page(session=session, organization_id=organization_id)
    return render(request, "directory/listings/organization.html", {"page": page})


@router.get("/services/{service_id}", response_class=HTMLResponse, name="service")
def service(
    request: Request,
    session: DbSession,
    service_id: uuid.UUID,
    user: OptionalUser,
    tz: Annotated[str | None, Query(max_length=64, description="Show online meeting times in this zone")] = None,
) -> HTMLResponse:
    page = pages.listing_page(session=session, service_id=service_id, now=utcnow(), viewer_tz=tz)
    context = {
        "page": page,
        # Only peers send referrals: a signed-in organization member or admin is not offered a link that refuses.
        "may_refer": user is None or is_peer(session=session, user=user),
        "listing": page.detail,
        "suggest_url": suggest_edit_url(request, service_id),
        "share_url": str(request.url_for("service", service_id=service_id)),
    }
    return render(request, "directory/listings/service.html", context)


@router.get(
    "/services/{service_id}/calendar.ics",
    name="service_calendar",
    response_class=Response,
    responses={200: {"description": "An iCalendar file", "content": {"text/calendar": {"schema": {"type": "string"}}}}},
)
def service_calendar(request: Request, session: DbSession, service_id: uuid.UUID) -> Response:
    detail = listing.get_listing(session, service_id)
    url = str(request.url_for("service", service_id=service_id))
    body = ics.listing_calendar(detail, listing_url=url, lang=request_lang(request))
    filename = f"{detail.meeting.slug if detail.meeting else service_id}.ics"
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


SavedIds = Annotated[
    list[uuid.UUID], Query(alias="id", max_length=my_list.MAX_SAVED, description="Saved listings (service ids)")
]


@router.get("/my-list", response_class=HTMLResponse, name="my_list")
def my_list_view(request: Request, session: DbSession, ids: SavedIds = []) -> HTMLResponse:  # noqa: B006
    """The visitor's saved listings: the ids come from their own browser; nothing is stored here."""
    page = my_list.my_list_page(session=session, ids=ids, now=utcnow())
    return render(request, "directory/listings/my_list.html", {"page": page})


SavedIdsRequired = Annotated[
    list[uuid.UUID],
    Query(alias="id", min_length=1, max_length=my_list.MAX_SAVED, description="Saved listings (service ids)"),
]


@router.get(
    "/my-list/calendar.ics",
    name="my_list_calendar",
    response_class=Response,
    responses={
        200: {"description": "An iCalendar file", "content": {"text/calendar": {"schema": {"type": "string"}}}},
        **error_responses(404, s404="None of these listings exist any more."),
    },
)
def my_list_calendar_view(request: Request, session: DbSession, ids: SavedIdsRequired) -> Response:
    body = my_list.my_list_calendar(
        session=session,
        ids=ids,
        listing_url=lambda service_id: str(request.url_for("service", service_id=service_id)),
        today=utcnow().date(),
        name=gettext(request_lang(request), "My list"),
    )
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="my-list.ics"'},
    )
