""" "Is this your organization? Manage this listing": the public way in to a claim.

Signed-in people go on to the claim form of their account; anyone else may ask without an account
(access_requests): no session, so the form carries a signed token and an origin check, like suggestions.
"""

import uuid
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import HTMLResponse, Response

from accounts.anon_forms import anon_form_guard, issue_form_token, same_origin_referrer
from accounts.deps import OptionalUser
from accounts.throttle import RateLimited
from core.clock import utcnow
from core.deps import AppSettings, DbSession
from core.errors import Conflict, ValidationFailed
from core.openapi import error_responses
from core.secrets import secret_key
from core.settings import Settings
from core.web import client_ip, error_fields, link_maker, no_store, render, see_other, send_later, to
from directory.listings.models import Organization, Service
from directory.stewardship import access_requests
from directory.stewardship.views import claim_form

router = APIRouter(tags=["claims"])
_PAGE = "directory/stewardship/request_access.html"
_FIELDS = ("display_name", "email", "phone", "message")
_GONE = error_responses(410, s410="The link is unknown, used or expired")


def _form(
    request: Request,
    settings: Settings,
    organization: Organization,
    service: Service | None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    context: dict[str, Any] = {
        "organization": organization,
        "service": service,
        "form_token": issue_form_token(settings, "access"),
        "values": values or dict.fromkeys(_FIELDS, ""),
        "errors": errors or {},
        "claim_url": to(request, "service_claim", service_id=service.id) if service else None,
    }
    return same_origin_referrer(no_store(render(request, _PAGE, context, status_code=status)))


def _entry(
    request: Request,
    session: DbSession,
    settings: Settings,
    user: OptionalUser,
    service_id: uuid.UUID | None,
    organization_id: uuid.UUID | None,
) -> Response:
    organization, service = access_requests.target_of(
        session=session, service_id=service_id, organization_id=organization_id
    )
    listing = access_requests.claimable_listing(session=session, organization=organization, service=service)
    if user is not None and listing is not None:
        # Signed in: the claim form with the account, shown here rather than behind a redirect (a client that
        # follows redirects without the session would land on a sign-in page).
        return claim_form(request, session, user, listing.id)
    return _form(request, settings, organization, service)


@router.get("/services/{service_id}/manage", response_class=HTMLResponse, name="service_manage")
def service_manage(
    request: Request, session: DbSession, settings: AppSettings, user: OptionalUser, service_id: uuid.UUID
) -> Response:
    return _entry(request, session, settings, user, service_id, None)


@router.get("/organizations/{organization_id}/manage", response_class=HTMLResponse, name="organization_manage")
def organization_manage(
    request: Request, session: DbSession, settings: AppSettings, user: OptionalUser, organization_id: uuid.UUID
) -> Response:
    return _entry(request, session, settings, user, None, organization_id)


async def _ask(
    request: Request,
    session: DbSession,
    settings: Settings,
    background: BackgroundTasks,
    service_id: uuid.UUID | None,
    organization_id: uuid.UUID | None,
) -> Response:
    organization, service = access_requests.target_of(
        session=session, service_id=service_id, organization_id=organization_id
    )
    form = await request.form()
    values = {k: str(form.get(k) or "") for k in _FIELDS}
    try:
        _row, mails = access_requests.request_access(
            session=session,
            organization=organization,
            service=service,
            fields=values,
            now=utcnow(),
            secret=secret_key(settings),
            client_ip=client_ip(request),
            make_link=link_maker(request, settings, "access_request_confirm"),
        )
    except RateLimited as exc:
        limited = _form(request, settings, organization, service, values, {"form": exc.message}, 429)
        limited.headers["Retry-After"] = str(exc.retry_after)
        return limited
    except (ValidationFailed, Conflict) as exc:
        return _form(request, settings, organization, service, values, error_fields(exc), 422)
    send_later(background, settings, mails)
    return see_other(to(request, "access_request_sent"))


_GUARD = [Depends(anon_form_guard("access"))]
_REFUSALS = error_responses(409, 429)


@router.post("/services/{service_id}/manage", name="service_manage_submit", dependencies=_GUARD, responses=_REFUSALS)
async def service_ask(
    request: Request, session: DbSession, settings: AppSettings, background: BackgroundTasks, service_id: uuid.UUID
) -> Response:
    return await _ask(request, session, settings, background, service_id, None)


@router.post(
    "/organizations/{organization_id}/manage",
    name="organization_manage_submit",
    dependencies=_GUARD,
    responses=_REFUSALS,
)
async def organization_ask(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    background: BackgroundTasks,
    organization_id: uuid.UUID,
) -> Response:
    return await _ask(request, session, settings, background, None, organization_id)


def _message(request: Request, settings: Settings, state: str, token: str | None = None) -> Response:
    context = {"state": state, "token": token, "form_token": issue_form_token(settings, "access-confirm")}
    return same_origin_referrer(no_store(render(request, "directory/stewardship/access_message.html", context)))


@router.get("/access-requests/sent", response_class=HTMLResponse, name="access_request_sent")
def sent(request: Request, settings: AppSettings) -> Response:
    return _message(request, settings, "sent")


@router.get("/access-requests/confirm/{token}", response_class=HTMLResponse, name="access_request_confirm")
def confirm_page(request: Request, settings: AppSettings, token: str) -> Response:
    """A button, not an action: mail scanners that open links must not confirm for the person."""
    return _message(request, settings, "confirm", token)


@router.post(
    "/access-requests/confirm/{token}",
    name="access_request_confirm_submit",
    dependencies=[Depends(anon_form_guard("access-confirm"))],
    responses=_GONE,
)
def confirm(request: Request, session: DbSession, settings: AppSettings, token: str) -> Response:
    access_requests.confirm_email(session=session, raw=token, now=utcnow())
    return _message(request, settings, "confirmed")
