"""Every request gets an id (sent back as `X-Request-ID`, bound into every log line it causes), and an
error nobody expected ends here: one short, redacted log line and a plain 500 page or JSON body.

The id is made here, never taken from the client, so nobody can put text of their choosing in the log.
The log line names the exception type, the route template and the project line it came from: never the
exception's message (it often quotes the input), the request (cookies, headers, body) or local variables.
The error is answered here instead of being re-raised to the server, which would log it a second time.
"""

import secrets
from typing import Any

import structlog
from fastapi import Request
from starlette.datastructures import MutableHeaders
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.logging import get_logger
from core.redaction import project_frame
from core.security import SECURITY_HEADERS
from core.web import error_response

log = get_logger(__name__)
REQUEST_ID_HEADER = "X-Request-ID"


def new_request_id() -> str:
    return secrets.token_hex(8)


def route_template(scope: Scope) -> str:
    """The matched route's path template (`/services/{service_id}`), never the concrete path or query."""
    route: Any = scope.get("route")
    return str(getattr(route, "path", None) or "unmatched")


def request_id_of(request: Request) -> str | None:
    value = request.scope.get("state", {}).get("request_id")
    return str(value) if value else None


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            except Exception as exc:
                log.error(
                    "unhandled error",
                    error=type(exc).__name__,
                    where=project_frame(exc.__traceback__),
                    method=scope.get("method"),
                    route=route_template(scope),
                )
                if not started:
                    response = _unexpected_response(Request(scope, receive), request_id)
                    await response(scope, receive, send_with_id)


def _unexpected_response(request: Request, request_id: str) -> Response:
    message = f"An unexpected error happened. It has been logged (request {request_id})."
    try:
        response = error_response(request, 500, message)
    except Exception:  # the error page itself failed: still answer, in plain text
        response = PlainTextResponse(message, status_code=500)
    # Server errors are answered outside the security-headers middleware, so the headers are set here.
    response.headers.update(SECURITY_HEADERS)
    return response
