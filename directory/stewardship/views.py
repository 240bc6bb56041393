"""Moderation pages: the queue, held changes and suggestions with before/after, claims, freshness dashboard."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse, Response

from accounts.deps import CurrentUser, NetworkAdmin
from accounts.models import User
from accounts.web import base_context
from core.clock import utcnow
from core.deps import AppSettings, DbSession
from core.errors import DomainError
from core.openapi import error_responses
from core.web import error_fields, link_maker, render, send_later, submit_form, templates, to
from directory.edits.models import REQUEST_STATUS_LABELS
from directory.edits.readable import readable
from directory.edits.service import OPERATIONS
from directory.edits.values import CHOICES, submitted_values, with_blank_rows
from directory.listings.queries import get_listing
from directory.stewardship import claims, freshness, moderation, suggestions
from directory.stewardship.models import SUGGESTION_KIND_LABELS, SUGGESTION_STATUS_LABELS

router = APIRouter(tags=["moderation"])
# Before/after tables in words (templates/directory/stewardship/_diff.html), for moderation and the audit log.
templates.env.filters["readable"] = readable
Reason = Annotated[str, Form()]
_SUGGESTION = "directory/stewardship/suggestion.html"


# Stored codes in words on the moderation pages (the `in_words` filter translates them).
LABELS = {
    "change_status": REQUEST_STATUS_LABELS,
    "suggestion_status": SUGGESTION_STATUS_LABELS,
    "suggestion_kind": SUGGESTION_KIND_LABELS,
}


def _page(request: Request, template: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    context = {"labels": LABELS, **context}
    return render(request, template, base_context(request, choices=CHOICES, **context), status_code=status)


@router.get("/workspace/moderation", response_class=HTMLResponse, name="moderation_queue")
def queue(request: Request, session: DbSession, user: CurrentUser, done: str | None = None) -> HTMLResponse:
    return _page(
        request,
        "directory/stewardship/queue.html",
        {"items": moderation.queue(session=session, user=user), "done": done},
    )


@router.get("/workspace/moderation/changes/{change_id}", response_class=HTMLResponse, name="moderation_change")
def change(request: Request, session: DbSession, user: CurrentUser, change_id: uuid.UUID) -> HTMLResponse:
    view = moderation.change_request_for(session=session, user=user, change_id=change_id)
    return _page(request, "directory/stewardship/change.html", {"view": view, "errors": {}})


def _change_form(request: Request, session: DbSession, user: CurrentUser, change_id: uuid.UUID) -> Any:
    """The held change again, with the reason the decision was refused (422)."""

    def invalid(exc: DomainError) -> HTMLResponse:
        view = moderation.change_request_for(session=session, user=user, change_id=change_id)
        return _page(request, "directory/stewardship/change.html", {"view": view, "errors": error_fields(exc)}, 422)

    return invalid


@router.post("/workspace/moderation/changes/{change_id}/approve", name="moderation_change_approve")
def change_approve(request: Request, session: DbSession, user: CurrentUser, change_id: uuid.UUID) -> Response:
    return submit_form(
        request,
        lambda: moderation.approve_change(session=session, user=user, change_id=change_id, now=utcnow()),
        invalid=_change_form(request, session, user, change_id),
        then=lambda _: to(request, "moderation_queue", {"done": "approved"}),
    )


@router.post("/workspace/moderation/changes/{change_id}/reject", name="moderation_change_reject")
def change_reject(
    request: Request, session: DbSession, user: CurrentUser, change_id: uuid.UUID, reason: Reason = ""
) -> Response:
    return submit_form(
        request,
        lambda: moderation.reject_change(session=session, user=user, change_id=change_id, reason=reason, now=utcnow()),
        invalid=_change_form(request, session, user, change_id),
        then=lambda _: to(request, "moderation_queue", {"done": "rejected"}),
    )


def _suggestion_context(
    view: suggestions.SuggestionView, raw: dict[str, Any] | None, errors: dict[str, str]
) -> dict[str, Any]:
    section = "hours" if view.op == "service.hours" else "form"
    values = submitted_values(section, raw) if raw is not None else dict(view.default_raw)
    if view.op == "service.hours":
        values = with_blank_rows(values)
    return {"view": view, "values": values, "errors": errors}


@router.get(
    "/workspace/moderation/suggestions/{suggestion_id}", response_class=HTMLResponse, name="moderation_suggestion"
)
def suggestion(request: Request, session: DbSession, user: CurrentUser, suggestion_id: uuid.UUID) -> HTMLResponse:
    view = suggestions.suggestion_for(session=session, user=user, suggestion_id=suggestion_id)
    return _page(request, "directory/stewardship/suggestion.html", _suggestion_context(view, None, {}))


@router.post("/workspace/moderation/suggestions/{suggestion_id}/approve", name="moderation_suggestion_approve")
async def suggestion_approve(
    request: Request, session: DbSession, user: CurrentUser, suggestion_id: uuid.UUID
) -> Response:
    view = suggestions.suggestion_for(session=session, user=user, suggestion_id=suggestion_id)
    raw = OPERATIONS[view.op].form.raw_from_form(await request.form()) if view.op else None

    def invalid(exc: DomainError) -> HTMLResponse:
        again = suggestions.suggestion_for(session=session, user=user, suggestion_id=suggestion_id, raw=raw)
        return _page(request, _SUGGESTION, _suggestion_context(again, raw, error_fields(exc)), 422)

    return submit_form(
        request,
        lambda: suggestions.approve_suggestion(
            session=session, user=user, suggestion_id=suggestion_id, raw=raw, now=utcnow()
        ),
        invalid=invalid,
        then=lambda _: to(request, "moderation_queue", {"done": "approved"}),
    )


@router.post("/workspace/moderation/suggestions/{suggestion_id}/reject", name="moderation_suggestion_reject")
def suggestion_reject(
    request: Request, session: DbSession, user: CurrentUser, suggestion_id: uuid.UUID, reason: Reason = ""
) -> Response:
    def invalid(exc: DomainError) -> HTMLResponse:
        view = suggestions.suggestion_for(session=session, user=user, suggestion_id=suggestion_id)
        return _page(request, _SUGGESTION, _suggestion_context(view, None, error_fields(exc)), 422)

    return submit_form(
        request,
        lambda: suggestions.reject_suggestion(
            session=session, user=user, suggestion_id=suggestion_id, reason=reason, now=utcnow()
        ),
        invalid=invalid,
        then=lambda _: to(request, "moderation_queue", {"done": "rejected"}),
    )


@router.get("/services/{service_id}/claim", response_class=HTMLResponse, name="service_claim")
def claim_form(request: Request, session: DbSession, user: CurrentUser, service_id: uuid.UUID) -> HTMLResponse:
    detail = get_listing(session, service_id)
    return _page(
        request,
        "directory/stewardship/claim.html",
        {"detail": detail, "errors": {}, "message": "", "mine": claims.my_claims(session=session, user=user)},
    )


@router.post("/services/{service_id}/claim", name="service_claim_submit", responses=error_responses(409))
def claim_submit(
    request: Request, session: DbSession, user: CurrentUser, service_id: uuid.UUID, message: Annotated[str, Form()] = ""
) -> Response:
    def invalid(exc: DomainError) -> HTMLResponse:
        context = {
            "detail": get_listing(session, service_id),
            "errors": error_fields(exc),
            "message": message,
            "mine": claims.my_claims(session=session, user=user),
        }
        return _page(request, "directory/stewardship/claim.html", context, 422)

    return submit_form(
        request,
        lambda: claims.request_claim(session=session, user=user, service_id=service_id, message=message, now=utcnow()),
        invalid=invalid,
        then=lambda _: to(request, "workspace", {"claimed": 1}),
    )


@router.get("/admin/claims", response_class=HTMLResponse, name="admin_claims")
def claims_page(request: Request, session: DbSession, user: NetworkAdmin, done: str | None = None) -> HTMLResponse:
    return _page(
        request,
        "directory/stewardship/claims.html",
        {"items": claims.pending_claims(session=session, user=user), "done": done, "errors": {}},
    )


@router.post("/admin/claims/{claim_id}/approve", name="admin_claim_approve")
def claim_approve(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    background: BackgroundTasks,
    user: NetworkAdmin,
    claim_id: uuid.UUID,
    callback_note: Reason = "",
) -> Response:
    def approve() -> list[Any]:
        _claim, mails = claims.approve_claim(
            session=session,
            user=user,
            claim_id=claim_id,
            now=utcnow(),
            make_link=link_maker(request, settings, "workspace_organization", param="organization_id"),
            make_invitation_link=link_maker(request, settings, "invitation"),
            callback_note=callback_note,
        )
        send_later(background, settings, mails)
        return mails

    return submit_form(
        request,
        approve,
        invalid=lambda exc: _claims_again(request, session, user, claim_id, exc),
        then=lambda _: to(request, "admin_claims", {"done": "approved"}),
    )


def _claims_again(request: Request, session: DbSession, user: User, claim_id: uuid.UUID, exc: DomainError) -> Response:
    """The claims page again, with the reason a decision was refused next to its claim (422)."""
    session.rollback()
    context = {
        "items": claims.pending_claims(session=session, user=user),
        "done": None,
        "errors": {str(claim_id): next(iter(error_fields(exc).values()), exc.message)},
    }
    return _page(request, "directory/stewardship/claims.html", context, 422)


@router.post("/admin/claims/{claim_id}/reject", name="admin_claim_reject")
def claim_reject(
    request: Request, session: DbSession, user: NetworkAdmin, claim_id: uuid.UUID, reason: Reason = ""
) -> Response:
    return submit_form(
        request,
        lambda: claims.reject_claim(session=session, user=user, claim_id=claim_id, reason=reason, now=utcnow()),
        invalid=lambda exc: _claims_again(request, session, user, claim_id, exc),
        then=lambda _: to(request, "admin_claims", {"done": "rejected"}),
    )


@router.get("/admin/freshness", response_class=HTMLResponse, name="admin_freshness")
def freshness_dashboard(request: Request, session: DbSession, _user: NetworkAdmin) -> HTMLResponse:
    board = freshness.dashboard(session=session, today=utcnow().date())
    return _page(request, "directory/stewardship/freshness.html", {"board": board, "windows": freshness.WINDOWS})
