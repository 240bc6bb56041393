"""Sign-in, sign-out, password reset, the account page (password, API tokens) and invitations."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from accounts import api_tokens, invitations, password_reset
from accounts.anon_forms import anon_form_guard, issue_form_token, same_origin_referrer
from accounts.deps import Auth, CurrentUser, get_auth, optional_user
from accounts.models import User
from accounts.organizations import find_organization
from accounts.service import authenticate, change_password, find_user
from accounts.sessions import SESSION_COOKIE, end_session, start_session
from accounts.throttle import RateLimited
from accounts.web import base_context, clear_session_cookie, set_session_cookie
from core.clock import utcnow
from core.deps import AppSettings, DbSession
from core.errors import ValidationFailed
from core.i18n import N_
from core.openapi import error_responses
from core.secrets import secret_key
from core.settings import Settings
from core.web import client_ip, done, error_fields, link_maker, no_store, render, safe_next, send_later, submit_form, to

router = APIRouter(tags=["accounts"])
AuthDep = Annotated[Auth, Depends(get_auth)]
MaybeUser = Annotated[User | None, Depends(optional_user)]
FormStr = Annotated[str, Form()]


def _anon_page(
    request: Request, settings: Settings, template: str, purpose: str, context: dict[str, Any], status: int = 200
) -> HTMLResponse:
    ctx = base_context(request, **{"form_token": issue_form_token(settings, purpose), "errors": {}, **context})
    response = render(request, template, ctx, status_code=status)
    same_origin_referrer(no_store(response))
    return response


@router.get("/login", response_class=HTMLResponse, name="login")
def login_form(
    request: Request, settings: AppSettings, user: MaybeUser, next: str | None = None, reset: bool = False
) -> Response:
    # Someone already signed in (e.g. from the home page's link) sees their menu and a way to their work.
    context = {"next": safe_next(next, default=""), "email": "", "reset_done": reset, "signed_in": user}
    return _anon_page(request, settings, "accounts/login.html", "login", context)


@router.post(
    "/login",
    name="login_submit",
    dependencies=[Depends(anon_form_guard("login"))],
    responses=error_responses(429, s429="Too many failed sign-ins; `Retry-After` says when to try again"),
)
def login(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    email: FormStr = "",
    password: FormStr = "",
    next: FormStr = "",
) -> Response:
    context: dict[str, Any] = {"next": safe_next(next, default=""), "email": email}
    try:
        raw, _ = authenticate(
            session=session,
            secret=secret_key(settings),
            email=email,
            password=password,
            client_ip=client_ip(request),
            now=utcnow(),
        )
    except RateLimited as exc:
        limited = _anon_page(
            request, settings, "accounts/login.html", "login", {**context, "errors": {"form": exc.message}}, status=429
        )
        limited.headers["Retry-After"] = str(exc.retry_after)
        return limited
    except ValidationFailed as exc:
        return _anon_page(
            request, settings, "accounts/login.html", "login", {**context, "errors": {"form": exc.message}}, status=422
        )
    response = done(request, safe_next(next, default=to(request, "staff_home")))  # no page asked: where work is
    set_session_cookie(response, raw, settings)
    return response


@router.post("/logout", name="logout")
def logout(request: Request, session: DbSession, settings: AppSettings, _user: CurrentUser) -> Response:
    end_session(session=session, raw=request.cookies.get(SESSION_COOKIE, ""))
    response = done(request, to(request, "login"))
    clear_session_cookie(response, settings)
    return response


@router.get("/password/forgot", response_class=HTMLResponse, name="password_forgot")
def forgot_form(request: Request, settings: AppSettings) -> Response:
    return _anon_page(request, settings, "accounts/forgot.html", "forgot", {"sent": False, "email": ""})


@router.post("/password/forgot", name="password_forgot_submit", dependencies=[Depends(anon_form_guard("forgot"))])
def forgot(
    request: Request, session: DbSession, settings: AppSettings, background: BackgroundTasks, email: FormStr = ""
) -> Response:
    mails = password_reset.request_reset(
        session=session,
        email=email,
        now=utcnow(),
        make_link=link_maker(request, settings, "password_reset"),
        secret=secret_key(settings),
        client_ip=client_ip(request),
    )
    send_later(background, settings, mails)
    return _anon_page(request, settings, "accounts/forgot.html", "forgot", {"sent": True, "email": ""})


_GONE = error_responses(410, s410="The link is unknown, used, replaced by a newer one or expired")


@router.get("/password/reset/{token}", response_class=HTMLResponse, name="password_reset", responses=_GONE)
def reset_form(request: Request, session: DbSession, settings: AppSettings, token: str) -> Response:
    password_reset.valid_token(session=session, raw=token, now=utcnow())
    return _anon_page(request, settings, "accounts/reset.html", "reset", {"token": token})


@router.post(
    "/password/reset/{token}",
    name="password_reset_submit",
    dependencies=[Depends(anon_form_guard("reset"))],
    responses=_GONE,
)
def reset(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    token: str,
    password: FormStr = "",
    password_again: FormStr = "",
) -> Response:

    def reset_it() -> None:
        if password != password_again:
            raise ValidationFailed(N_("The two passwords differ."), field="password_again")
        password_reset.reset_password(
            session=session,
            secret=secret_key(settings),
            raw=token,
            new_password=password,
            now=utcnow(),
            client_ip=client_ip(request),
        )

    return submit_form(
        request,
        reset_it,
        invalid=lambda exc: _anon_page(
            request, settings, "accounts/reset.html", "reset", {"token": token, "errors": error_fields(exc)}, status=422
        ),
        then=lambda _: to(request, "login", {"reset": True}),
    )


def _account_page(request: Request, session: DbSession, user: User, *, status: int = 200, **extra: Any) -> Response:
    defaults: dict[str, Any] = {"errors": {}, "new_token": None, "done": request.query_params.get("done")}
    context = base_context(request, tokens=api_tokens.list_tokens(session=session, user=user), **{**defaults, **extra})
    return render(request, "accounts/account.html", context, status_code=status)


@router.get("/account", response_class=HTMLResponse, name="account")
def account(request: Request, session: DbSession, user: CurrentUser) -> Response:
    return _account_page(request, session, user)


@router.post("/account/password", name="account_password")
def account_password(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: CurrentUser,
    current_password: FormStr = "",
    new_password: FormStr = "",
) -> Response:
    def changed(result: tuple[str, Any]) -> Response:
        response = done(request, to(request, "account", {"done": "password"}))
        set_session_cookie(response, result[0], settings)  # every other session of the account has just ended
        return response

    return submit_form(
        request,
        lambda: change_password(session=session, user=user, current=current_password, new=new_password),
        invalid=lambda exc: _account_page(request, session, user, status=422, password_errors=error_fields(exc)),
        then=changed,
    )


@router.post("/account/tokens", name="api_token_create")
def api_token_create(request: Request, session: DbSession, user: CurrentUser, name: FormStr = "") -> Response:
    # Shown once, so the answer is the page itself rather than a redirect (and is never cached).
    return submit_form(
        request,
        lambda: api_tokens.create_token(session=session, user=user, name=name),
        invalid=lambda exc: _account_page(request, session, user, status=422, token_errors=error_fields(exc)),
        then=lambda created: _account_page(request, session, user, new_token=created[0]),
    )


@router.post("/account/tokens/{token_id}/revoke", name="api_token_revoke")
def api_token_revoke(request: Request, session: DbSession, user: CurrentUser, token_id: uuid.UUID) -> Response:
    api_tokens.revoke_token(session=session, user=user, token_id=token_id)
    return done(request, to(request, "account", {"done": "revoked"}))


@router.get("/invitations/{token}", response_class=HTMLResponse, name="invitation", responses=_GONE)
def invitation(request: Request, session: DbSession, settings: AppSettings, token: str, user: MaybeUser) -> Response:
    row = invitations.pending_invitation(session=session, raw=token, now=utcnow())
    org = find_organization(session, row.organization_id)
    context = {
        "invitation": row,
        "organization": org,
        "token": token,
        "has_account": find_user(session=session, email=row.email) is not None,
    }
    return _anon_page(request, settings, "accounts/invitation.html", "invite", context)


@router.post(
    "/invitations/{token}",
    name="invitation_accept",
    dependencies=[Depends(anon_form_guard("invite"))],
    responses=_GONE,
)
def invitation_accept(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    token: str,
    user: MaybeUser,
    display_name: FormStr = "",
    password: FormStr = "",
) -> Response:
    now = utcnow()
    raw_cookie: str | None = None
    try:
        if user is not None:
            member = invitations.accept_as_user(session=session, raw=token, user=user, now=now)
        else:
            new_user, member = invitations.accept_new_account(
                session=session, raw=token, display_name=display_name, password=password, now=now
            )
            raw_cookie, _ = start_session(session=session, user_id=new_user.id)
    except ValidationFailed as exc:
        row = invitations.pending_invitation(session=session, raw=token, now=now)
        context = {
            "invitation": row,
            "organization": find_organization(session, row.organization_id),
            "token": token,
            "has_account": False,
            "errors": error_fields(exc),
            "display_name": display_name,
        }
        return _anon_page(request, settings, "accounts/invitation.html", "invite", context, status=422)
    response = done(request, to(request, "workspace_organization", organization_id=member.organization_id))
    if raw_cookie:
        set_session_cookie(response, raw_cookie, settings)
    return response
