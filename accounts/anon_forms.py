"""CSRF protection for forms posted without a session (sign-in, password reset, invitations, suggestions).

Two checks, both required:
- a signed, time-limited form token (itsdangerous with the app's secret key) naming the form's purpose;
- the request's Origin (or, without one, its Referer) must be this site. A cross-site form post carries
  a foreign origin or `null`; pages holding these forms send `Referrer-Policy: same-origin` so that a
  same-site post carries the real origin instead of `null` (the site default is `no-referrer`).
"""

from collections.abc import Awaitable, Callable
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Form, Request, Response
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from core.deps import AppSettings
from core.errors import Forbidden
from core.i18n import N_
from core.openapi import raises
from core.secrets import secret_key
from core.settings import Settings

SALT = "anon-form-v1"
MAX_AGE_SECONDS = 2 * 3600


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key(settings), salt=SALT)


def issue_form_token(settings: Settings, purpose: str) -> str:
    return _serializer(settings).dumps({"p": purpose})


def verify_form_token(settings: Settings, token: str | None, purpose: str) -> None:
    if not token:
        raise Forbidden(N_("This form is missing its security token. Reload the page and try again."))
    try:
        data = _serializer(settings).loads(token, max_age=MAX_AGE_SECONDS)
    except SignatureExpired:
        raise Forbidden(N_("This form expired. Reload the page and try again.")) from None
    except BadSignature:
        raise Forbidden(N_("This form's security token is not valid. Reload the page and try again.")) from None
    if not isinstance(data, dict) or data.get("p") != purpose:
        raise Forbidden(N_("This form's security token belongs to another form. Reload the page and try again."))


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def check_same_origin(request: Request, settings: Settings) -> None:
    allowed = {o for o in (_origin(str(request.base_url)), _origin(settings.base_url)) if o}
    origin = request.headers.get("origin")
    if origin is not None:
        if origin.lower() not in allowed:
            raise Forbidden(N_("This form was sent from another site (origin check failed)."))
        return
    referer = request.headers.get("referer")
    if referer is not None and _origin(referer) not in allowed:
        raise Forbidden(N_("This form was sent from another site (referrer check failed)."))


def anon_form_guard(purpose: str) -> Callable[[Request, Settings], Awaitable[None]]:
    """A dependency checking the origin and the signed token of the anonymous form `purpose`."""

    @raises(403)
    async def guard(
        request: Request,
        settings: AppSettings,
        form_token: Annotated[str, Form(description="The token of the form page this form came from.")] = "",
    ) -> None:
        check_same_origin(request, settings)
        verify_form_token(settings, form_token, purpose)

    return guard


def same_origin_referrer(response: Response) -> Response:
    response.headers["Referrer-Policy"] = "same-origin"
    return response
