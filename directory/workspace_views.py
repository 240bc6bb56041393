"""Organization workspace pages: organizations, listings and their sections, members, audit trail.

Every form works without JavaScript (POST, then 303 to a page); with htmx the same URL answers with the
re-rendered section. Invalid input re-renders the form with a message per field and writes nothing.
"""

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from accounts import invitations, members
from accounts.deps import CurrentUser
from accounts.web import base_context, done, error_fields, link_maker, see_other, send_later, to
from core.clock import utcnow
from core.deps import AppSettings, DbSession
from core.errors import Conflict, ValidationFailed
from core.web import is_htmx, render
from directory import audit
from directory.workspace import OPERATIONS, find_organizations, my_organizations, organization_for, submit_change
from directory.workspace_import import MAX_UPLOAD_BYTES, Upload, import_uploads
from directory.workspace_pages import (
    SECTIONS,
    import_page_context,
    members_page,
    new_service_page,
    organization_page,
    service_page,
)

router = APIRouter(tags=["workspace"])
Section = Literal["details", "status", "capacity", "hours", "meeting", "verify"]
NOTES = {
    True: "Saved. The public listing shows it within seconds.",
    False: "Sent for approval. The public listing changes once an organization admin approves it.",
}


def _page(
    request: Request, template: str, context: dict[str, Any], partial: str | None = None, status: int = 200
) -> HTMLResponse:
    return render(request, template, base_context(request, **context), partial=partial, status_code=status)


@router.get("/workspace", response_class=HTMLResponse, name="workspace")
def workspace(
    request: Request, session: DbSession, user: CurrentUser, q: Annotated[str, Query(max_length=100)] = ""
) -> HTMLResponse:
    found = find_organizations(session=session, user=user, query=q)
    return _page(
        request,
        "workspace/home.html",
        {"organizations": my_organizations(session=session, user=user), "q": q, "found": found},
    )


@router.get("/workspace/organizations/{organization_id}", response_class=HTMLResponse, name="workspace_organization")
def organization(
    request: Request, session: DbSession, user: CurrentUser, organization_id: uuid.UUID, note: str | None = None
) -> HTMLResponse:
    context = organization_page(
        session=session,
        user=user,
        organization_id=organization_id,
        message=NOTES.get(note == "saved") if note else None,
    )
    return _page(request, "workspace/organization.html", context)


@router.post("/workspace/organizations/{organization_id}", name="workspace_organization_save")
async def organization_save(
    request: Request, session: DbSession, user: CurrentUser, organization_id: uuid.UUID
) -> Response:
    raw = OPERATIONS["organization.update"].form.raw_from_form(await request.form())
    try:
        outcome = submit_change(
            session=session, user=user, op="organization.update", raw=raw, organization_id=organization_id
        )
    except ValidationFailed as exc:
        context = organization_page(
            session=session, user=user, organization_id=organization_id, raw=raw, errors=exc.errors
        )
        return _page(request, "workspace/organization.html", context, "workspace/_organization_form.html", 422)
    note = "saved" if outcome.applied else "held"
    if is_htmx(request):
        context = organization_page(
            session=session, user=user, organization_id=organization_id, message=NOTES[outcome.applied]
        )
        return _page(request, "workspace/organization.html", context, "workspace/_organization_form.html")
    return see_other(to(request, "workspace_organization", {"note": note}, organization_id=organization_id))


@router.get(
    "/workspace/organizations/{organization_id}/services/new", response_class=HTMLResponse, name="workspace_service_new"
)
def service_new(request: Request, session: DbSession, user: CurrentUser, organization_id: uuid.UUID) -> HTMLResponse:
    return _page(
        request,
        "workspace/service_new.html",
        new_service_page(session=session, user=user, organization_id=organization_id),
    )


@router.post("/workspace/organizations/{organization_id}/services/new", name="workspace_service_create")
async def service_create(
    request: Request, session: DbSession, user: CurrentUser, organization_id: uuid.UUID
) -> Response:
    raw = OPERATIONS["service.create"].form.raw_from_form(await request.form())
    try:
        outcome = submit_change(
            session=session, user=user, op="service.create", raw=raw, organization_id=organization_id
        )
    except ValidationFailed as exc:
        context = new_service_page(
            session=session, user=user, organization_id=organization_id, raw=raw, errors=exc.errors
        )
        return _page(request, "workspace/service_new.html", context, "workspace/_service_new_form.html", 422)
    if outcome.created_id is not None:
        return done(request, to(request, "workspace_service", {"done": "created"}, service_id=outcome.created_id))
    return done(request, to(request, "workspace_organization", {"note": "held"}, organization_id=organization_id))


@router.get("/workspace/services/{service_id}", response_class=HTMLResponse, name="workspace_service")
def service(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    service_id: uuid.UUID,
    done: Section | Literal["created"] | None = None,
    note: str | None = None,
) -> HTMLResponse:
    message = NOTES[note == "saved"] if done and note else ("Listing added." if done == "created" else None)
    context = service_page(
        session=session, user=user, service_id=service_id, section=done if done in SECTIONS else None, message=message
    )
    return _page(request, "workspace/service.html", context)


@router.post("/workspace/services/{service_id}/{section}", name="workspace_service_save")
async def service_save(
    request: Request, session: DbSession, user: CurrentUser, service_id: uuid.UUID, section: Section
) -> Response:
    op = SECTIONS[section]
    raw = OPERATIONS[op].form.raw_from_form(await request.form())
    try:
        outcome = submit_change(session=session, user=user, op=op, raw=raw, service_id=service_id)
    except ValidationFailed as exc:
        context = service_page(
            session=session, user=user, service_id=service_id, section=section, raw=raw, errors=exc.errors
        )
        return _page(request, "workspace/service.html", {**context, "section": section}, "workspace/_section.html", 422)
    if is_htmx(request):
        context = service_page(
            session=session, user=user, service_id=service_id, section=section, message=NOTES[outcome.applied]
        )
        return _page(request, "workspace/service.html", {**context, "section": section}, "workspace/_section.html")
    note = "saved" if outcome.applied else "held"
    return see_other(to(request, "workspace_service", {"done": section, "note": note}, service_id=service_id))


@router.post("/workspace/locations/{location_id}", name="workspace_location_save")
async def location_save(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    location_id: uuid.UUID,
    service_id: Annotated[uuid.UUID, Query()],
) -> Response:
    form = await request.form()
    raw = OPERATIONS["location.update"].form.raw_from_form(form)
    try:
        outcome = submit_change(
            session=session, user=user, op="location.update", raw=raw, location_id=location_id, service_id=service_id
        )
    except ValidationFailed as exc:
        context = service_page(
            session=session, user=user, service_id=service_id, location_id=location_id, raw=raw, errors=exc.errors
        )
        return _page(request, "workspace/service.html", context, status=422)
    note = "saved" if outcome.applied else "held"
    return done(request, to(request, "workspace_service", {"done": "details", "note": note}, service_id=service_id))


@router.get("/workspace/organizations/{organization_id}/audit", response_class=HTMLResponse, name="workspace_audit")
def audit_log(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    organization_id: uuid.UUID,
    service_id: uuid.UUID | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    org, _ = organization_for(session=session, user=user, organization_id=organization_id)
    rows, total = audit.organization_log(
        session=session, user=user, organization_id=organization_id, service_id=service_id, page=page
    )
    entries = [{"row": r, "changes": audit.field_changes(r.before, r.after)} for r in rows]
    pages = max(1, -(-total // audit.PAGE_SIZE))
    return _page(
        request,
        "workspace/audit.html",
        {
            "organization": org,
            "entries": entries,
            "page": page,
            "pages": pages,
            "total": total,
            "service_id": service_id,
        },
    )


@router.get("/workspace/organizations/{organization_id}/members", response_class=HTMLResponse, name="workspace_members")
def members_view(
    request: Request, session: DbSession, user: CurrentUser, organization_id: uuid.UUID, done: str | None = None
) -> HTMLResponse:
    context = members_page(session=session, user=user, organization_id=organization_id)
    return _page(request, "workspace/members.html", {**context, "done": done})


@router.post("/workspace/organizations/{organization_id}/invitations", name="workspace_invite")
def invite(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    background: BackgroundTasks,
    user: CurrentUser,
    organization_id: uuid.UUID,
    email: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "editor",
) -> Response:
    org, _ = organization_for(session=session, user=user, organization_id=organization_id)
    try:
        _row, mails = invitations.invite(
            session=session,
            actor=user,
            organization_id=org.id,
            organization_name=org.name,
            email=email,
            role=role,
            now=utcnow(),
            make_link=link_maker(request, settings, "invitation"),
        )
    except (ValidationFailed, Conflict) as exc:
        context = members_page(session=session, user=user, organization_id=organization_id)
        return _page(
            request,
            "workspace/members.html",
            {**context, "errors": error_fields(exc), "values": {"email": email, "role": role}},
            status=422,
        )
    send_later(background, settings, mails)
    return done(request, to(request, "workspace_members", {"done": "invited"}, organization_id=organization_id))


@router.post("/workspace/organizations/{organization_id}/members/{membership_id}", name="workspace_member_update")
def member_update(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    organization_id: uuid.UUID,
    membership_id: uuid.UUID,
    role: Annotated[str, Form()] = "editor",
    trusted: Annotated[bool, Form()] = False,
) -> Response:
    members.update_member(
        session=session,
        actor=user,
        organization_id=organization_id,
        membership_id=membership_id,
        role=role,
        trusted=trusted,
    )
    return done(request, to(request, "workspace_members", {"done": "updated"}, organization_id=organization_id))


@router.post(
    "/workspace/organizations/{organization_id}/members/{membership_id}/remove", name="workspace_member_remove"
)
def member_remove(
    request: Request, session: DbSession, user: CurrentUser, organization_id: uuid.UUID, membership_id: uuid.UUID
) -> Response:
    members.remove_member(session=session, actor=user, organization_id=organization_id, membership_id=membership_id)
    return done(request, to(request, "workspace_members", {"done": "removed"}, organization_id=organization_id))


@router.post(
    "/workspace/organizations/{organization_id}/invitations/{invitation_id}/revoke", name="workspace_invitation_revoke"
)
def invitation_revoke(
    request: Request, session: DbSession, user: CurrentUser, organization_id: uuid.UUID, invitation_id: uuid.UUID
) -> Response:
    invitations.revoke_invitation(
        session=session, actor=user, organization_id=organization_id, invitation_id=invitation_id
    )
    return done(request, to(request, "workspace_members", {"done": "revoked"}, organization_id=organization_id))


@router.get("/workspace/organizations/{organization_id}/import", response_class=HTMLResponse, name="workspace_import")
def import_page(request: Request, session: DbSession, user: CurrentUser, organization_id: uuid.UUID) -> HTMLResponse:
    return _page(
        request,
        "workspace/import.html",
        import_page_context(session=session, user=user, organization_id=organization_id),
    )


# The files may reach MAX_UPLOAD_BYTES; the form fields and multipart framing get a little room on top.
# A larger body is refused with 413 while it streams in (see core.web.MAX_BODY_BYTES).
@router.post(
    "/workspace/organizations/{organization_id}/import",
    name="workspace_import_submit",
    max_body_size=MAX_UPLOAD_BYTES + 1024 * 1024,
)
async def import_submit(
    request: Request, session: DbSession, user: CurrentUser, organization_id: uuid.UUID
) -> Response:
    form = await request.form()
    kind, fellowship = str(form.get("kind") or ""), str(form.get("fellowship") or "AA")
    uploads = [Upload(f.filename or "upload", f.file) for f in form.getlist("files") if isinstance(f, UploadFile)]
    context = {
        **import_page_context(session=session, user=user, organization_id=organization_id),
        "kind": kind,
        "fellowship": fellowship,
    }
    try:
        report = import_uploads(
            engine=request.app.state.engine,
            session=session,
            user=user,
            organization_id=organization_id,
            kind=kind,
            uploads=uploads,
            fellowship=fellowship,
            now=utcnow(),
        )
    except ValidationFailed as exc:
        return _page(request, "workspace/import.html", {**context, "errors": error_fields(exc)}, status=422)
    return _page(request, "workspace/import.html", {**context, "report": report}, status=200 if report.ok else 422)
