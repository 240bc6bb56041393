"""Account-specific web helpers: the session cookie and the signed-in context every staff page starts from."""

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from accounts.deps import Auth
from accounts.sessions import SESSION_COOKIE, SESSION_LIFETIME
from core.settings import Settings


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


def base_context(request: Request, auth: Auth | None = None, **extra: Any) -> dict[str, Any]:
    auth = auth or getattr(request.state, "auth", None)
    return {
        "current_user": auth.user if auth else None,
        "csrf_token": auth.csrf_token if auth else None,
        **extra,
    }
