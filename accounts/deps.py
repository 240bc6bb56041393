"""Who is asking: session cookie (browsers, with CSRF) or `Authorization: Bearer <API token>` (JSON API)."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from accounts.models import User
from accounts.sessions import SESSION_COOKIE, session_for, user_for_api_token
from accounts.tokens import same
from core.deps import DbSession
from core.errors import DomainError, Forbidden
from core.i18n import N_
from core.openapi import raises

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Unauthenticated(DomainError):
    status_code = 401


@dataclass
class Auth:
    user: User | None
    csrf_token: str | None  # None for API-token requests, which carry no ambient credential
    via_cookie: bool


def get_auth(request: Request, session: DbSession) -> Auth:
    cached: Auth | None = getattr(request.state, "auth", None)
    if cached is not None:
        return cached
    auth = Auth(user=None, csrf_token=None, via_cookie=False)
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        auth = Auth(user=user_for_api_token(session=session, raw=header[7:].strip()), csrf_token=None, via_cookie=False)
    elif raw := request.cookies.get(SESSION_COOKIE):
        found = session_for(session=session, raw=raw)
        if found is not None:
            auth = Auth(user=found[1], csrf_token=found[0].csrf_token, via_cookie=True)
    request.state.auth = auth
    return auth


@raises(403)
async def require_csrf(request: Request, auth: Annotated[Auth, Depends(get_auth)]) -> None:
    """Every state-changing request made with the session cookie must echo the session's CSRF token
    (hidden form field `csrf_token`, or the `X-CSRF-Token` header htmx sends from `hx-headers`)."""
    if request.method not in UNSAFE_METHODS or not auth.via_cookie:
        return
    sent = request.headers.get("x-csrf-token")
    if not sent:
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    if not sent or auth.csrf_token is None or not same(sent, auth.csrf_token):
        raise Forbidden(N_("The form expired or did not come from this site (CSRF check failed). Reload and retry."))


@raises(401)
def require_user(auth: Annotated[Auth, Depends(get_auth)], _csrf: Annotated[None, Depends(require_csrf)]) -> User:
    if auth.user is None:
        raise Unauthenticated("Please sign in to continue.")
    return auth.user


def optional_user(
    auth: Annotated[Auth, Depends(get_auth)], _csrf: Annotated[None, Depends(require_csrf)]
) -> User | None:
    return auth.user


@raises(403)
def require_network_admin(user: Annotated[User, Depends(require_user)]) -> User:
    if not user.is_network_admin:
        raise Forbidden(N_("Only network administrators can do this."))
    return user


CurrentUser = Annotated[User, Depends(require_user)]
OptionalUser = Annotated[User | None, Depends(optional_user)]
NetworkAdmin = Annotated[User, Depends(require_network_admin)]
