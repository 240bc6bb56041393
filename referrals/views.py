"""Referral pages (HTML). Thin: parse, call one service, render or redirect 303. Every page needs sign-in;
object-level access comes from the services (a referral you may not see is a 404, like a missing one)."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from accounts.deps import CurrentUser
from core.clock import utcnow
from core.deps import AppSettings, DbSession
from core.errors import Forbidden, ValidationFailed
from core.i18n import N_, path_with, request_lang
from core.web import render
from directory.listings.queries import get_listing
from referrals import access, local, metrics, notifications, pages, privacy, queries, records, service
from referrals.workflow import Action

router = APIRouter(tags=["referral pages"], include_in_schema=False)


def _page(
    request: Request, template: str, context: dict[str, Any], *, partial: str | None = None, status_code: int = 200
) -> HTMLResponse:
    """render(), and never cached: these pages carry personal details."""
    response = render(request, template, context, partial=partial, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response


def _back(request: Request, referral_id: uuid.UUID) -> RedirectResponse:
    return RedirectResponse(path_with(request, "referral_detail", referral_id=referral_id), status_code=303)


@router.get("/services/{service_id}/refer", response_class=HTMLResponse, name="referral_new")
def new_referral(
    request: Request, session: DbSession, settings: AppSettings, user: CurrentUser, service_id: uuid.UUID
) -> HTMLResponse:
    listing = get_listing(session, service_id)
    if not access.is_peer(session, user):
        raise Forbidden(N_("Only peer support specialists with a peer profile can send referrals."))
    values = pages.form_defaults(listing, utcnow(), settings)
    return _page(
        request,
        "referrals/new.html",
        pages.base(request, user, session, listing=listing, values=values, errors={}),
        partial="referrals/_form.html",
    )


@router.post("/services/{service_id}/refer", name="referral_create")
async def create_referral(
    request: Request, session: DbSession, settings: AppSettings, user: CurrentUser, service_id: uuid.UUID
) -> Response:
    listing = get_listing(session, service_id)
    values = pages.form_values(await request.form())
    try:
        data = pages.parse_referral_form(values, listing, settings)
        referral = service.create_referral(session=session, actor=user, data=data, now=utcnow(), settings=settings)
    except ValidationFailed as exc:
        errors = exc.errors or {"form": exc.message}
        context = pages.base(request, user, session, listing=listing, values=values, errors=errors, message=exc.message)
        return _page(request, "referrals/new.html", context, partial="referrals/_form.html", status_code=422)
    return _back(request, referral.id)


@router.get("/referrals", response_class=HTMLResponse, name="referrals_dashboard")
def dashboard(request: Request, session: DbSession, settings: AppSettings, user: CurrentUser) -> HTMLResponse:
    board = queries.dashboard(session=session, user=user, now=utcnow(), settings=settings)
    return _page(
        request,
        "referrals/dashboard.html",
        pages.base(request, user, session, board=board),
        partial="referrals/_dashboard.html",
    )


@router.get("/referrals/inbox", response_class=HTMLResponse, name="referrals_inbox")
def inbox(request: Request, session: DbSession, settings: AppSettings, user: CurrentUser) -> HTMLResponse:
    box = queries.inbox(session=session, user=user, now=utcnow(), settings=settings)
    return _page(
        request, "referrals/inbox.html", pages.base(request, user, session, box=box), partial="referrals/_inbox.html"
    )


@router.get("/referrals/metrics", response_class=HTMLResponse, name="referrals_metrics")
def metrics_page(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    organization_id: Annotated[uuid.UUID | None, Query()] = None,
) -> HTMLResponse:
    context = pages.metrics_context(session, user, organization_id, request_lang(request))
    return _page(request, "referrals/metrics.html", pages.base(request, user, session, **context))


@router.get("/referrals/metrics.csv", name="referrals_metrics_csv")
def metrics_csv(
    session: DbSession, user: CurrentUser, organization_id: Annotated[uuid.UUID | None, Query()] = None
) -> Response:
    scope = metrics.scope_for(session=session, user=user, organization_id=organization_id)
    rows = metrics.rows_in(session, scope)
    body = metrics.to_csv(rows, suppress=scope.suppress)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="referral-metrics.csv"', "Cache-Control": "no-store"},
    )


@router.get("/referrals/notifications", response_class=HTMLResponse, name="referral_notifications")
def notifications_page(request: Request, session: DbSession, settings: AppSettings, user: CurrentUser) -> HTMLResponse:
    items = notifications.recent(session, user.id)
    zone = local.user_zone(session, user.id, settings)
    context = pages.base(request, user, session, items=items, text_for=notifications.text_for, zone=zone)
    return _page(request, "referrals/notifications.html", context)


@router.get("/referrals/notifications/badge", response_class=HTMLResponse, name="referral_notifications_badge")
def notifications_badge(request: Request, session: DbSession, user: CurrentUser) -> HTMLResponse:
    return _page(request, "referrals/_badge.html", {"unread": notifications.unread_count(session, user.id)})


@router.post("/referrals/notifications/read", name="referral_notifications_read")
def notifications_read(request: Request, session: DbSession, user: CurrentUser) -> RedirectResponse:
    notifications.mark_all_read(session=session, user_id=user.id, now=utcnow())
    return RedirectResponse(path_with(request, "referral_notifications"), status_code=303)


@router.get("/referrals/{referral_id}", response_class=HTMLResponse, name="referral_detail")
def detail(
    request: Request, session: DbSession, settings: AppSettings, user: CurrentUser, referral_id: uuid.UUID
) -> HTMLResponse:
    referral, viewer = queries.open_referral(
        session=session, referral_id=referral_id, user=user, now=utcnow(), settings=settings
    )
    context = pages.base(request, user, session, errors={}, **pages.detail_context(session, referral, viewer, settings))
    return _page(request, "referrals/detail.html", context, partial="referrals/_detail.html")


@router.post("/referrals/{referral_id}/actions/{action}", name="referral_action")
async def act(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: CurrentUser,
    referral_id: uuid.UUID,
    action: Action,
) -> Response:
    values = pages.form_values(await request.form())
    try:
        data = pages.parse_action(values)
        service.apply_action(
            session=session,
            referral_id=referral_id,
            actor=user,
            action=action,
            data=data.to_input(),
            now=utcnow(),
            settings=settings,
            expected_version=data.version,
            organization_id=data.organization_id,
        )
    except ValidationFailed as exc:
        session.rollback()
        referral, viewer = access.visible_referral(session, referral_id, user, now=utcnow())
        context = pages.base(
            request,
            user,
            session,
            errors=exc.errors or {"form": exc.message},
            failed_action=action.value,
            message=exc.message,
            **pages.detail_context(session, referral, viewer, settings),
        )
        return _page(request, "referrals/detail.html", context, partial="referrals/_detail.html", status_code=422)
    return _back(request, referral_id)


@router.post("/referrals/{referral_id}/notes", name="referral_note")
async def note(
    request: Request, session: DbSession, settings: AppSettings, user: CurrentUser, referral_id: uuid.UUID
) -> Response:
    body = str((await request.form()).get("body", ""))
    records.add_note(session=session, referral_id=referral_id, actor=user, body=body, now=utcnow(), settings=settings)
    return _back(request, referral_id)


@router.post("/referrals/{referral_id}/consent/revoke", name="referral_revoke_consent")
def revoke(
    request: Request, session: DbSession, settings: AppSettings, user: CurrentUser, referral_id: uuid.UUID
) -> Response:
    privacy.revoke_consent(session=session, referral_id=referral_id, actor=user, now=utcnow(), settings=settings)
    return _back(request, referral_id)


@router.post("/referrals/{referral_id}/capacity-full", name="referral_capacity_full")
def capacity_full(request: Request, session: DbSession, user: CurrentUser, referral_id: uuid.UUID) -> Response:
    records.mark_listing_full(session=session, referral_id=referral_id, actor=user, now=utcnow())
    return _back(request, referral_id)
