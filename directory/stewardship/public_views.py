"""Public "suggest an edit / report a problem" form and the reporter's anonymous status page.

No account and no cookie: the form is protected by a signed form token and an origin check, limited per
client address, and carries a honeypot field that people never see (a filled one is quietly dropped).
"""

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from accounts.anon_forms import anon_form_guard, issue_form_token, same_origin_referrer
from accounts.throttle import RateLimited
from core.clock import utcnow
from core.deps import AppSettings, DbSession
from core.errors import ValidationFailed
from core.openapi import error_responses
from core.secrets import secret_key
from core.settings import Settings
from core.web import client_ip, error_fields, no_store, render, see_other, to
from directory.edits.forms import WEEKDAYS, HoursForm
from directory.edits.operations import default_timezone
from directory.listings.queries import get_listing
from directory.stewardship.models import SuggestionKind
from directory.stewardship.suggestions import create_suggestion, status_for

router = APIRouter(tags=["suggestions"])
HONEYPOT = "website"
SUGGEST_ROWS = 3


def _form_page(
    request: Request,
    session: DbSession,
    settings: Settings,
    service_id: uuid.UUID,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    detail = get_listing(session, service_id)
    blank = {"days": [], "opens_at": "", "closes_at": ""}
    context = {
        "detail": detail,
        "form_token": issue_form_token(settings, "suggest"),
        "kinds": [k.value for k in SuggestionKind],
        "weekdays": WEEKDAYS,
        "values": values
        or {
            "kind": "",
            "rows": [dict(blank) for _ in range(SUGGEST_ROWS)],
            "timezone": default_timezone(session, detail.service),
        },
        "errors": errors or {},
        "honeypot": HONEYPOT,
    }
    response = render(request, "directory/stewardship/suggest.html", context, status_code=status)
    return same_origin_referrer(no_store(response))


@router.get("/services/{service_id}/suggest", response_class=HTMLResponse, name="service_suggest")
def suggest_form(request: Request, session: DbSession, settings: AppSettings, service_id: uuid.UUID) -> Response:
    return _form_page(request, session, settings, service_id)


@router.post(
    "/services/{service_id}/suggest",
    name="service_suggest_submit",
    dependencies=[Depends(anon_form_guard("suggest"))],
    responses=error_responses(429),
)
async def suggest(request: Request, session: DbSession, settings: AppSettings, service_id: uuid.UUID) -> Response:
    form = await request.form()
    if form.get(HONEYPOT):
        return see_other(to(request, "suggestion_thanks"))
    raw = {
        k: form.get(k)
        for k in ("kind", "text", "contact", "reopening_date", "address_1", "city", "state_province", "postal_code")
    }
    hours_raw = HoursForm.raw_from_form(form)
    try:
        _row, token = create_suggestion(
            session=session,
            secret=secret_key(settings),
            client_ip=client_ip(request),
            service_id=service_id,
            raw=raw,
            hours_raw=hours_raw,
            now=utcnow(),
        )
    except (ValidationFailed, RateLimited) as exc:
        values = {**{k: v or "" for k, v in raw.items()}, "rows": hours_raw["rows"], "timezone": hours_raw["timezone"]}
        status = 429 if isinstance(exc, RateLimited) else 422
        response = _form_page(request, session, settings, service_id, values, error_fields(exc), status)
        if isinstance(exc, RateLimited):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    return see_other(to(request, "suggestion_status", token=token))


@router.get("/suggestions/thanks", response_class=HTMLResponse, name="suggestion_thanks")
def thanks(request: Request) -> Response:
    return render(request, "directory/stewardship/suggestion_status.html", {"suggestion": None, "service": None})


@router.get("/suggestions/status/{token}", response_class=HTMLResponse, name="suggestion_status")
def status(request: Request, session: DbSession, token: str) -> Response:
    row, service = status_for(session=session, raw_token=token)
    return no_store(
        render(request, "directory/stewardship/suggestion_status.html", {"suggestion": row, "service": service})
    )
