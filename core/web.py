"""Templates, the "one route, two renderings" helper, the answers after a form POST, and the error
handlers of expected errors (the unexpected ones end in `core.request_context`): the web helpers every
domain's views share."""

from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

import fastapi.routing
from fastapi import BackgroundTasks, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.body_limit import MAX_BODY_SIZE_SCOPE_KEY
from starlette.routing import BaseRoute

from core.errors import DomainError, ValidationFailed
from core.i18n import N_, path_with
from core.localtime import FILTERS as LOCAL_TIME_FILTERS
from core.mail import Mail, absolute, deliver
from core.settings import PROJECT_ROOT, Settings
from core.urls import tel_href, web_href

# Largest request body (forms, JSON) unless the route declares its own `max_body_size` (an upload).
# Enforced by core.request_context as the body streams in: a bigger one is a 413, never read whole.
MAX_BODY_BYTES = 1024 * 1024

templates = Jinja2Templates(directory=str(PROJECT_ROOT / "templates"))
templates.env.add_extension("jinja2.ext.i18n")
templates.env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
# Stored links reach an href only through these (core/urls.py): a value breaking the rule renders no link.
templates.env.filters.update(web_href=web_href, tel_href=tel_href)
# Staff times in the organization's zone with the zone shown (core/localtime.py).
templates.env.filters.update(LOCAL_TIME_FILTERS)

API_PREFIX = "/api/"  # paths under it answer JSON only, errors included
TITLES = {
    400: "Bad request",
    401: "Please sign in",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Too large",
    422: "Please check your input",
    429: "Too many requests",
    500: "Something went wrong",
    503: "Temporarily unavailable",
}


class ErrorBody(BaseModel):
    """The JSON body of every error; `/openapi.json` documents it as `Error` for each 4xx/5xx response."""

    error: str = Field(description="Short title of the status, e.g. `Not found`.")
    detail: str = Field(description="What went wrong, in words a person can act on.")
    errors: dict[str, str] | None = Field(
        default=None, description="A message per input field at fault (absent when no field was)."
    )


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def wants_json(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX) or (
        "application/json" in request.headers.get("accept", "") and "text/html" not in request.headers.get("accept", "")
    )


def render(
    request: Request, template: str, context: dict[str, Any], *, partial: str | None = None, status_code: int = 200
) -> HTMLResponse:
    """Render the full page, or only `partial` when htmx asks; either way vary on HX-Request."""
    name = partial if partial and is_htmx(request) else template
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    response.headers["Vary"] = "HX-Request"
    return response


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


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


def error_fields(exc: DomainError) -> dict[str, str]:
    if isinstance(exc, ValidationFailed) and exc.errors:
        return dict(exc.errors)
    return {exc.field or "form": exc.message}


def done(request: Request, url: str) -> Response:
    """After a successful POST: 303 to a page, or for htmx an HX-Redirect (a 303 would be swapped in place)."""
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return see_other(url)


def no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


T = TypeVar("T")


def submit_form(
    request: Request,
    action: Callable[[], T],
    *,
    invalid: Callable[[DomainError], Response],
    then: Callable[[T], str | Response],
    errors: tuple[type[DomainError], ...] = (ValidationFailed,),
) -> Response:
    """A form POST: run the use case; when it refuses the input, answer `invalid(exc)` (the form again, with
    a message per field, usually 422 and only the fragment for htmx); else answer `then(result)`: a URL
    means "done, go there" (303, or HX-Redirect for htmx), a response is sent as it is."""
    try:
        result = action()
    except errors as exc:
        return invalid(exc)
    outcome = then(result)
    return outcome if isinstance(outcome, Response) else done(request, outcome)


def error_response(request: Request, status: int, message: str, errors: dict[str, str] | None = None) -> Response:
    if wants_json(request):
        body = ErrorBody(error=TITLES.get(status, "Error"), detail=message, errors=errors or None)
        return JSONResponse(body.model_dump(exclude_none=True), status_code=status)
    context = {"status": status, "title": TITLES.get(status, "Error"), "message": message, "errors": errors or {}}
    if status == 401:
        context["login_url"] = login_url(request)
    name = "_error.html" if is_htmx(request) else "errors/error.html"
    response = templates.TemplateResponse(request, name, context, status_code=status)
    response.headers["Vary"] = "HX-Request"
    return response


def _describe_validation(exc: RequestValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("query", "body", "path", "form", "header")]
        errors[".".join(loc) or "request"] = str(err.get("msg", "invalid value"))
    return errors


def too_large_message(limit: int) -> str:
    size = format(limit / 1_048_576, "g")
    return N_("The request is too large: this address accepts at most %(size)s MB.", size=size)


def login_url(request: Request) -> str | None:
    """Where a signed-out browser should go to sign in and come back to this page."""
    try:
        base = str(request.app.url_path_for("login"))
    except Exception:
        return None
    target = request.url.path
    if request.method == "GET" and request.url.query:
        target += f"?{request.url.query}"
    return base + "?" + urlencode({"next": target})


def allowed_methods(request: Request) -> set[str]:
    """Every method some route accepts at this request's path (a path may be served by several routes)."""
    path = request.scope["path"]
    methods: set[str] = set()
    for route in all_routes(request.app.routes):
        regex = getattr(route, "path_regex", None)
        if regex is not None and regex.match(path):
            methods |= set(getattr(route, "methods", None) or ())
    return methods


def all_routes(routes: list[BaseRoute]) -> Iterator[Any]:
    """Every route, also those of included routers (newer FastAPI keeps them nested in the app's list)."""
    flatten = getattr(fastapi.routing, "iter_route_contexts", None)
    return iter(flatten(routes) if flatten else routes)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        errors = exc.errors if isinstance(exc, ValidationFailed) else ({exc.field: exc.message} if exc.field else None)
        return error_response(request, exc.status_code, exc.message, errors)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = _describe_validation(exc)
        message = "; ".join(f"{k}: {v}" for k, v in errors.items())
        return error_response(request, 422, message, errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = str(exc.detail)
        limit = request.scope.get(MAX_BODY_SIZE_SCOPE_KEY)  # set by a route's own `max_body_size`
        if exc.status_code == 413 and isinstance(limit, int):
            message = too_large_message(limit)  # the framework's own text is just "Content Too Large"
        response = error_response(request, exc.status_code, message)
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        if exc.status_code == 405 and (methods := allowed_methods(request)):
            # The router names only the first route matching the path; list every method the path accepts.
            response.headers["Allow"] = ", ".join(sorted(methods))
        return response
