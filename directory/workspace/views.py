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
from accounts.web import base_context
from core.clock import utcnow
from core.deps import AppSettings, DbSession
from core.errors import Conflict, DomainError, ValidationFailed
from core.i18n import N_
from core.web import done, error_fields, is_htmx, link_maker, render, send_later, submit_form, to
from directory.edits import audit
from directory.edits.models import VIA_LABELS
from directory.edits.service import (
    OPERATIONS,
    Outcome,
    find_organizations,
    my_organizations,
    organization_for,
    submit_change,
)
from directory.listings import zones
from directory.workspace.pages import (
    SECTIONS,
    import_page_context,
    members_page,
    new_service_page,
    organization_page,
    service_page,
)
from directory.workspace.uploads import MAX_UPLOAD_BYTES, Upload, import_uploads

router = APIRouter(tags=["workspace"])
Section = Literal["details", "status", "capacity", "hours", "meeting", "verify"]
_ORG_FORM = "directory/workspace/_organization_form.html"
_NEW_SERVICE_FORM = "directory/workspace/_service_new_form.html"
_SERVICE_PAGE = "directory/workspace/service.html"
NOTES = {
    True: N_("Saved. The public listing shows it within seconds."),
    False: N_("Sent for approval. The public listing changes once an organization admin approves it."),
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
        "directory/workspace/home.html",
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
    return _page(request, "directory/workspace/organization.html", context)


@router.post("/workspace/organizations/{organization_id}", name="workspace_organization_save")
async def organization_save(
    request: Request, session: DbSession, user: CurrentUser, organization_id: uuid.UUID
) -> Response:
    raw = OPERATIONS["organization.update"].form.raw_from_form(await request.form())

    def form(status: int = 200, **extra: Any) -> HTMLResponse:
        context = organization_page(session=session, user=user, organization_id=organization_id, **extra)
        return _page(request, "directory/workspace/organization.html", context, _ORG_FORM, status)

    def saved(outcome: Outcome) -> str | Response:
        if is_htmx(request):
            return form(message=NOTES[outcome.applied])
        note = "saved" if outcome.applied else "held"
        return to(request, "workspace_organization", {"note": note}, organization_id=organization_id)

    return submit_form(
        request,
        lambda: submit_change(
            session=session, user=user, op="organization.update", raw=raw, organization_id=organization_id
        ),
        invalid=lambda exc: form(422, raw=raw, errors=error_fields(exc)),
        then=saved,
    )


@router.get(
    "/workspace/organizations/{organization_id}/services/new", response_class=HTMLResponse, name="workspace_service_new"
)
def service_new(request: Request, session: DbSession, user: CurrentUser, organization_id: uuid.UUID) -> HTMLResponse:
    return _page(
        request,
        "directory/workspace/service_new.html",
        new_service_page(session=session, user=user, organization_id=organization_id),
    )


@router.post("/workspace/organizations/{organization_id}/services/new", name="workspace_service_create")
async def service_create(
    request: Request, session: DbSession, user: CurrentUser, organization_id: uuid.UUID
) -> Response:
    raw = OPERATIONS["service.create"].form.raw_from_form(await request.form())

    def invalid(exc: DomainError) -> HTMLResponse:
        context = new_service_page(
            session=session, user=user, organization_id=organization_id, raw=raw, errors=error_fields(exc)
        )
        return _page(request, "directory/workspace/service_new.html", context, _NEW_SERVICE_FORM, 422)

    def created(outcome: Outcome) -> str:
        if outcome.created_id is not None:
            return to(request, "workspace_service", {"done": "created"}, service_id=outcome.created_id)
        return to(request, "workspace_organization", {"note": "held"}, organization_id=organization_id)

    return submit_form(
        request,
        lambda: submit_change(
            session=session, user=user, op="service.create", raw=raw, organization_id=organization_id
        ),
        invalid=invalid,
        then=created,
    )


@router.get("/workspace/services/{service_id}", response_class=HTMLResponse, name="workspace_service")
def service(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    service_id: uuid.UUID,
    done: Section | Literal["created", "location"] | None = None,
    note: str | None = None,
) -> HTMLResponse:
    message = NOTES[note == "saved"] if done and note else (N_("Listing added.") if done == "created" else None)
    context = service_page(
        session=session, user=user, service_id=service_id, section=done if done in SECTIONS else None, message=message
    )
    context["new_location"]["message"] = message if done == "location" else None
    return _page(request, "directory/workspace/service.html", context)


@router.post("/workspace/services/{service_id}/{section}", name="workspace_service_save")
async def service_save(
    request: Request, session: DbSession, user: CurrentUser, service_id: uuid.UUID, section: Section
) -> Response:
    op = SECTIONS[section]
    raw = OPERATIONS[op].form.raw_from_form(await request.form())

    def form(status: int = 200, **extra: Any) -> HTMLResponse:
        context = service_page(session=session, user=user, service_id=service_id, section=section, **extra)
        return _page(
            request, _SERVICE_PAGE, {**context, "section": section}, "directory/workspace/_section.html", status
        )

    def saved(outcome: Outcome) -> str | Response:
        if is_htmx(request):
            return form(message=NOTES[outcome.applied])
        note = "saved" if outcome.applied else "held"
        return to(request, "workspace_service", {"done": section, "note": note}, service_id=service_id)

    return submit_form(
        request,
        lambda: submit_change(session=session, user=user, op=op, raw=raw, service_id=service_id),
        invalid=lambda exc: form(422, raw=raw, errors=error_fields(exc)),
        then=saved,
    )


@router.post("/workspace/services/{service_id}/locations/new", name="workspace_location_add")
async def location_add(request: Request, session: DbSession, user: CurrentUser, service_id: uuid.UUID) -> Response:
    """Another place for this listing (held for approval like any change by an editor not yet trusted)."""
    raw = OPERATIONS["location.add"].form.raw_from_form(await request.form())

    def invalid(exc: DomainError) -> HTMLResponse:
        context = service_page(
            session=session, user=user, service_id=service_id, raw=raw, errors=error_fields(exc), adding_location=True
        )
        return _page(request, _SERVICE_PAGE, context, status=422)

    def saved(outcome: Outcome) -> str:
        note = "saved" if outcome.applied else "held"
        return to(request, "workspace_service", {"done": "location", "note": note}, service_id=service_id)

    return submit_form(
        request,
        lambda: submit_change(session=session, user=user, op="location.add", raw=raw, service_id=service_id),
        invalid=invalid,
        then=saved,
    )


@router.post("/workspace/locations/{location_id}", name="workspace_location_save")
async def location_save(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    location_id: uuid.UUID,
    service_id: Annotated[uuid.UUID, Query()],
) -> Response:
    raw = OPERATIONS["location.update"].form.raw_from_form(await request.form())

    def invalid(exc: DomainError) -> HTMLResponse:
        context = service_page(
            session=session,
            user=user,
            service_id=service_id,
            location_id=location_id,
            raw=raw,
            errors=error_fields(exc),
        )
        return _page(request, _SERVICE_PAGE, context, status=422)

    def saved(outcome: Outcome) -> str:
        note = "saved" if outcome.applied else "held"
        return to(request, "workspace_service", {"done": "details", "note": note}, service_id=service_id)

    return submit_form(
        request,
        lambda: submit_change(
            session=session, user=user, op="location.update", raw=raw, location_id=location_id, service_id=service_id
        ),
        invalid=invalid,
        then=saved,
    )


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
        "directory/workspace/audit.html",
        {
            "organization": org,
            "entries": entries,
            "page": page,
            "pages": pages,
            "total": total,
            "service_id": service_id,
            "action_labels": {name: op.label for name, op in OPERATIONS.items()},
            "via_labels": VIA_LABELS,
            "zone": zones.organization_zone(session, org.id) or zones.DEFAULT_ZONE,
        },
    )


@router.get("/workspace/organizations/{organization_id}/members", response_class=HTMLResponse, name="workspace_members")
def members_view(
    request: Request, session: DbSession, user: CurrentUser, organization_id: uuid.UUID, done: str | None = None
) -> HTMLResponse:
    context = members_page(session=session, user=user, organization_id=organization_id)
    return _page(request, "directory/workspace/members.html", {**context, "done": done})


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
            "directory/workspace/members.html",
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
        "directory/workspace/import.html",
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
        return _page(request, "directory/workspace/import.html", {**context, "errors": error_fields(exc)}, status=422)
    return _page(
        request, "directory/workspace/import.html", {**context, "report": report}, status=200 if report.ok else 422
    )
