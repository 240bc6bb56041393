"""Small helpers shared by the account, workspace and moderation views (cookies, redirects, contexts)."""

from typing import Any
from urllib.parse import urlsplit

from fastapi import BackgroundTasks, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from accounts.deps import Auth
from accounts.notify import Mail, absolute, deliver
from accounts.sessions import SESSION_COOKIE, SESSION_LIFETIME
from core.errors import DomainError, ValidationFailed
from core.i18n import path_with
from core.settings import Settings


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def set_session_cookie(response: Response, raw: str, settings: Settings) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        raw,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=settings.base_url.startswith("https://"),
        path="/",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=settings.base_url.startswith("https://")
    )


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def to(request: Request, name: str, query: dict[str, Any] | None = None, **params: Any) -> str:
    return path_with(request, name, query, **params)


def link_maker(request: Request, settings: Settings, name: str, param: str = "token") -> Any:
    """A function turning a raw token into the absolute URL of the route `name` (for e-mails)."""
    return lambda raw: absolute(settings, str(request.app.url_path_for(name, **{param: raw})))


def safe_next(value: str | None, default: str = "/workspace") -> str:
    """Only same-site relative paths are followed after sign-in (no open redirect)."""
    if not value:
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    return value


def send_later(background: BackgroundTasks, settings: Settings, mails: list[Mail]) -> None:
    if mails:
        background.add_task(deliver, settings, mails)


def base_context(request: Request, auth: Auth | None = None, **extra: Any) -> dict[str, Any]:
    auth = auth or getattr(request.state, "auth", None)
    return {
        "current_user": auth.user if auth else None,
        "csrf_token": auth.csrf_token if auth else None,
        **extra,
    }


def form_text(form: FormData, name: str, default: str = "") -> str:
    value = form.get(name)
    return value if isinstance(value, str) else default


def form_flag(form: FormData, name: str) -> bool:
    return form_text(form, name) in ("1", "on", "true", "yes")


def error_fields(exc: DomainError) -> dict[str, str]:
    if isinstance(exc, ValidationFailed) and exc.errors:
        return dict(exc.errors)
    return {exc.field or "form": exc.message}


def done(request: Request, url: str) -> Response:
    """After a successful POST: 303 to a page, or for htmx an HX-Redirect (a 303 would be swapped in place)."""
    if request.headers.get("HX-Request") == "true":
        return Response(status_code=204, headers={"HX-Redirect": url})
    return see_other(url)


def no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response
