"""Plain, server-rendered directory pages: organizations and listings (the full search UI lives in search/)."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from core.deps import DbSession
from core.web import render
from directory import listing

router = APIRouter(tags=["directory"])


@router.get("/organizations", response_class=HTMLResponse, name="organizations")
def organizations(
    request: Request, session: DbSession, page: Annotated[int, Query(ge=1, le=100_000)] = 1
) -> HTMLResponse:
    per_page = 50
    orgs, total = listing.list_organizations(session, page=page, per_page=per_page)
    pages = max(1, -(-total // per_page))
    context = {"organizations": orgs, "page": page, "pages": pages, "total": total}
    return render(request, "directory/organizations.html", context)


@router.get("/organizations/{organization_id}", response_class=HTMLResponse, name="organization")
def organization(request: Request, session: DbSession, organization_id: uuid.UUID) -> HTMLResponse:
    org = listing.get_organization(session, organization_id)
    listings = listing.organization_listings(session, organization_id)
    return render(request, "directory/organization.html", {"organization": org, "listings": listings})


@router.get("/services/{service_id}", response_class=HTMLResponse, name="service")
def service(request: Request, session: DbSession, service_id: uuid.UUID) -> HTMLResponse:
    detail = listing.get_listing(session, service_id)
    return render(request, "directory/service.html", {"listing": detail})
