"""`/api/hsds/`: the Open Referral HSDS 3.0 read API (services, places, organizations, taxonomy).

Thin views: parse the query, ask `directory.hsds.query`, answer JSON (or NDJSON when `format=ndjson`).
Bad parameters give a 422 naming the parameter, unknown ids a 404 (both JSON, from the app's handler).
"""

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from sqlalchemy.sql import Select
from sqlmodel import Session

from core.conditional import cached_response
from core.deps import AppSettings, DbSession
from core.errors import NotFound
from core.i18n import N_
from core.inputs import Instant
from core.outbox import data_version
from directory.hsds import query
from directory.hsds.query import Filters, PageRequest, Renderer, TermFilters
from directory.hsds.spec import HSDS_VERSION

router = APIRouter(prefix="/api/hsds", tags=["hsds"])

MAX_AGE = 60  # seconds a reader may reuse a list page before it revalidates (a 304 when unchanged)
UNCHANGED = datetime(2000, 1, 1, tzinfo=UTC)  # Last-Modified of a directory that has never changed
PROFILE_URL = "https://github.com/openreferral/specification/tree/3.0"
NDJSON = "application/x-ndjson"

Format = Annotated[Literal["json", "ndjson"], Query(description="`ndjson` streams every result, unpaged.")]
Search = Annotated[str | None, Query(max_length=200, description="Text to look for in names and descriptions.")]
Flag = Annotated[bool, Query()]
# The list routes answer JSON, or NDJSON with `format=ndjson`.
STREAMABLE: dict[int | str, dict[str, Any]] = {
    200: {"content": {NDJSON: {"schema": {"type": "string", "description": "One JSON object per line"}}}}
}


def page_request(
    page: Annotated[int, Query(ge=1, le=1_000_000, description="Page number, from 1.")] = 1,
    per_page: Annotated[int, Query(ge=1, le=1000, description="Results per page (at most 1000).")] = 50,
) -> PageRequest:
    return PageRequest(page=page, per_page=per_page)


def filters(
    search: Search = None,
    taxonomy_term_id: Annotated[uuid.UUID | None, Query()] = None,
    taxonomy_id: Annotated[uuid.UUID | None, Query()] = None,
    organization_id: Annotated[uuid.UUID | None, Query()] = None,
    modified_after: Annotated[Instant | None, Query(description="ISO 8601 date and time.")] = None,
    postcode: Annotated[str | None, Query(max_length=20)] = None,
    proximity: Annotated[float | None, Query(gt=0, le=500_000, description="Metres from the postcode.")] = None,
) -> Filters:
    return Filters(search=search, taxonomy_term_id=taxonomy_term_id, taxonomy_id=taxonomy_id,
                   organization_id=organization_id, modified_after=modified_after, postcode=postcode,
                   proximity=proximity)  # fmt: skip


Paging = Annotated[PageRequest, Depends(page_request)]
ListFilters = Annotated[Filters, Depends(filters)]


def _listing(request: Request, session: Session, stmt: Select, render: Renderer, paging: PageRequest,
             fmt: str) -> Response:  # fmt: skip
    if fmt == "ndjson":
        return StreamingResponse(_stream(request, stmt, render), media_type=NDJSON)
    # A page is the same bytes until a listing changes: built once per data version, 304 when unchanged.
    version, changed = data_version(session)

    def build() -> bytes:
        ids, total = query.page_ids(session, stmt, paging)
        body = query.page_body(render(session, ids), total, paging)
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()

    key = ("hsds", request.url.path, request.url.query)
    return cached_response(request, key=key, version=version, last_modified=changed or UNCHANGED, build=build,
                           max_age=MAX_AGE)  # fmt: skip


def _stream(request: Request, stmt: Select, render: Renderer) -> Iterator[str]:
    # A session of its own: the request's session may be closed before a long stream ends.
    with Session(request.app.state.engine) as session:
        for ids in query.stream_ids(session, stmt):
            yield "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in render(session, ids))


def _found(body: dict[str, Any] | None, what: str) -> JSONResponse:
    if body is None:
        raise NotFound(N_("no %(what)s with this id", what=what))
    return JSONResponse(body)


@router.get("/", name="hsds_root")
def root(settings: AppSettings) -> dict[str, str]:
    return {
        "version": HSDS_VERSION,
        "profile": PROFILE_URL,
        "openapi_url": f"{settings.base_url.rstrip('/')}/openapi.json",
    }


@router.get("/services", name="hsds_services", responses=STREAMABLE)
def services(request: Request, session: DbSession, paging: Paging, where: ListFilters, format: Format = "json",
             minimal: Flag = False, full: Flag = False) -> Response:  # fmt: skip
    render = query.render_services(full=full and not minimal, minimal=minimal)
    return _listing(request, session, query.services_query(where), render, paging, format)


@router.get("/services/{service_id}", name="hsds_service")
def service(session: DbSession, service_id: uuid.UUID) -> JSONResponse:
    return _found(query.one(session, query.render_services(full=True), service_id), "service")


@router.get("/service_at_locations", name="hsds_service_at_locations", responses=STREAMABLE)
def service_at_locations(request: Request, session: DbSession, paging: Paging, where: ListFilters,
                         format: Format = "json", full: Flag = False) -> Response:  # fmt: skip
    render = query.render_service_at_locations(full=full)
    return _listing(request, session, query.service_at_locations_query(where), render, paging, format)


@router.get("/service_at_locations/{sal_id}", name="hsds_service_at_location")
def service_at_location(session: DbSession, sal_id: uuid.UUID) -> JSONResponse:
    return _found(query.one(session, query.render_service_at_locations(full=True), sal_id), "service_at_location")


@router.get("/organizations", name="hsds_organizations", responses=STREAMABLE)
def organizations(request: Request, session: DbSession, paging: Paging, search: Search = None,
                  format: Format = "json", full: Flag = False, full_service: Flag = False) -> Response:  # fmt: skip
    render = query.render_organizations(full=full, full_service=full_service)
    return _listing(request, session, query.organizations_query(search), render, paging, format)


@router.get("/organizations/{organization_id}", name="hsds_organization")
def organization(session: DbSession, organization_id: uuid.UUID, full_service: Flag = False) -> JSONResponse:
    return _found(query.organization_body(session, organization_id, full_service=full_service), "organization")


@router.get("/taxonomies", name="hsds_taxonomies", responses=STREAMABLE)
def taxonomies(session: DbSession, paging: Paging, search: Search = None, format: Format = "json") -> Response:
    return _paged_json(query.taxonomies_page(session, search, _unpaged(paging, format)), format)


@router.get("/taxonomies/{taxonomy_id}", name="hsds_taxonomy")
def taxonomy(session: DbSession, taxonomy_id: uuid.UUID) -> JSONResponse:
    return _found(query.taxonomy_body(session, taxonomy_id), "taxonomy")


@router.get("/taxonomy_terms", name="hsds_taxonomy_terms", responses=STREAMABLE)
def taxonomy_terms(session: DbSession, paging: Paging, search: Search = None,
                   taxonomy_id: Annotated[uuid.UUID | None, Query()] = None,
                   parent_id: Annotated[uuid.UUID | None, Query()] = None, top_only: Flag = False,
                   format: Format = "json") -> Response:  # fmt: skip
    where = TermFilters(search=search, taxonomy_id=taxonomy_id, parent_id=parent_id, top_only=top_only)
    return _paged_json(query.taxonomy_terms_page(session, where, _unpaged(paging, format)), format)


@router.get("/taxonomy_terms/{term_id}", name="hsds_taxonomy_term")
def taxonomy_term(session: DbSession, term_id: uuid.UUID) -> JSONResponse:
    return _found(query.taxonomy_term_body(session, term_id), "taxonomy term")


def _unpaged(paging: PageRequest, fmt: str) -> PageRequest:
    # Taxonomies are small enough to send whole when a stream is asked for.
    return PageRequest(page=1, per_page=10_000_000) if fmt == "ndjson" else paging


def _paged_json(page: dict[str, Any], fmt: str) -> Response:
    if fmt == "ndjson":
        lines = "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in page["contents"])
        return Response(lines, media_type=NDJSON)
    return JSONResponse(page)
