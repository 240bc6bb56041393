"""Templates, the "one route, two renderings" helper, and the single error handler."""

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import fastapi.routing
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute

from core.errors import DomainError, ValidationFailed
from core.logging import get_logger
from core.settings import PROJECT_ROOT

log = get_logger(__name__)

templates = Jinja2Templates(directory=str(PROJECT_ROOT / "templates"))
templates.env.add_extension("jinja2.ext.i18n")
templates.env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]

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
        response = error_response(request, exc.status_code, str(exc.detail))
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        if exc.status_code == 405 and (methods := allowed_methods(request)):
            # The router names only the first route matching the path; list every method the path accepts.
            response.headers["Allow"] = ", ".join(sorted(methods))
        return response

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        from core.security import SECURITY_HEADERS  # late: core.security imports this module

        log.exception("unhandled error", path=request.url.path)
        response = error_response(request, 500, "An unexpected error happened. It has been logged.")
        # Starlette answers 500s outside the user middleware, so the hardening headers are set here.
        response.headers.update(SECURITY_HEADERS)
        return response
