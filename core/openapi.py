"""Make `/openapi.json` describe what the app really answers, for every route, in one place.

FastAPI documents each route's success response and, for routes with inputs, a 422 in its own
`HTTPValidationError` shape. The app answers differently: every error goes through `core.web.error_response`
(JSON `ErrorBody` under /api/, an HTML page elsewhere unless the client asks for JSON only); page routes
answer HTML, and form posts redirect. Errors come from three places, and each declares them once:
- dependencies (sign-in 401, CSRF and roles 403) carry the statuses they raise (`raises`), so every route
  that uses them documents them;
- a path parameter names an object that may not exist (404); inputs may be invalid (422); a body may be too
  large (413);
- services raise domain errors (409, 429, 503...): their router or route lists them with `error_responses`.
`install` rewrites the generated document accordingly, so routes added later are covered without edits here.
"""

from collections.abc import Callable, Iterator
from http import HTTPStatus
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.datastructures import DefaultPlaceholder
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from core.web import API_PREFIX, TITLES, ErrorBody, all_routes

F = TypeVar("F", bound=Callable[..., Any])
_RAISES = "__openapi_errors__"
ERROR_SCHEMA = "Error"
_ERROR_REF = {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}
_METHODS_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
_HTML = {"text/html": {"schema": {"type": "string"}}}
# FastAPI's own validation-error schemas, unused once every 422 is described by ErrorBody.
_FASTAPI_ERROR_SCHEMAS = ("HTTPValidationError", "ValidationError")


def raises(*statuses: int) -> Callable[[F], F]:
    """Mark a dependency as answering these error statuses; every route depending on it documents them."""

    def mark(fn: F) -> F:
        setattr(fn, _RAISES, frozenset(statuses) | getattr(fn, _RAISES, frozenset()))
        return fn

    return mark


def error_responses(*statuses: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a router or route whose services raise these statuses (e.g. 409, 429, 503).

    A description may be given per status as `s409="..."`; the body schema is filled in by `install`.
    """
    return {code: {"description": descriptions.get(f"s{code}") or _title(code)} for code in statuses}


def install(app: FastAPI) -> None:
    """Replace `app.openapi` by FastAPI's generator followed by `describe` (built once, then cached)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            describe(FastAPI.openapi(app), app.routes)
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def describe(schema: dict[str, Any], routes: list[BaseRoute]) -> dict[str, Any]:
    """Rewrite `schema` in place: the shared error model, real error statuses and real content types."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components[ERROR_SCHEMA] = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    for route in api_routes(routes):
        path_item = schema["paths"].get(route.path_format, {})
        for method in route.methods:
            if (operation := path_item.get(method.lower())) is not None:
                _describe_operation(operation, route, method)
    for name in _FASTAPI_ERROR_SCHEMAS:
        if f"#/components/schemas/{name}" not in repr(schema):
            components.pop(name, None)
    return schema


def api_routes(routes: list[BaseRoute]) -> Iterator[Any]:
    """Every FastAPI route that is in the document."""
    for route in all_routes(routes):
        original = getattr(route, "original_route", route)
        if isinstance(original, APIRoute) and route.include_in_schema:
            yield route


def _describe_operation(operation: dict[str, Any], route: Any, method: str) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    is_api = route.path_format.startswith(API_PREFIX)
    if not is_api and isinstance(route.response_class, DefaultPlaceholder):
        _page_success(responses, method)
    for status in sorted(_error_statuses(operation, route, method)):
        entry = responses.setdefault(str(status), {})
        entry["description"] = entry.get("description") or _title(status)
        declared = route.responses.get(status, {})
        if "model" in declared or "content" in declared:
            continue  # the route answers this status with its own body, not an ErrorBody
        json_error = {"application/json": {"schema": _ERROR_REF}}
        entry["content"] = json_error if is_api else {**_HTML, **json_error}


def _error_statuses(operation: dict[str, Any], route: Any, method: str) -> set[int]:
    statuses = {int(code) for code in operation["responses"] if code.isdigit() and int(code) >= 400}
    statuses |= _dependency_errors(route.dependant)
    if route.dependant.path_params:
        statuses.add(404)  # the path names an object that may not exist (or is not yours to see)
    if method in _METHODS_WITH_BODY:
        statuses |= {400, 413}  # a body that cannot be parsed at all; every body is size-capped
    return statuses


def _dependency_errors(dependant: Any) -> set[int]:
    found: set[int] = set(getattr(dependant.call, _RAISES, ()))
    for sub in dependant.dependencies:
        found |= _dependency_errors(sub)
    return found


def _page_success(responses: dict[str, Any], method: str) -> None:
    """A page route answers HTML; a form post also redirects (303, or 204 + HX-Redirect for htmx)."""
    for code, entry in responses.items():
        if code.startswith("2") and "content" in entry:
            entry["content"] = dict(_HTML)
    if method == "POST":
        responses.setdefault(
            "303",
            {
                "description": "Done: the next page is at `Location`",
                "headers": {"Location": {"schema": {"type": "string"}, "description": "The next page"}},
            },
        )
        responses.setdefault(
            "204",
            {
                "description": "Done, for htmx requests (`HX-Request: true`): the next page is at `HX-Redirect`",
                "headers": {"HX-Redirect": {"schema": {"type": "string"}, "description": "The next page"}},
            },
        )


def _title(status: int) -> str:
    return TITLES.get(status) or HTTPStatus(status).phrase
