"""The outermost layer of every request: an id, the checks no route should have to repeat, and the one
place where an error nobody expected ends.

- The request id is made here (never taken from the client, so nobody can put text of their choosing in
  the log), bound into every log line the request causes and sent back as `X-Request-ID`.
- A body larger than the route accepts (`MAX_BODY_BYTES`, or the route's own `max_body_size`) is a 413:
  at once when its Content-Length says so, else as soon as the bytes read pass the limit.
- A query string, path or urlencoded form that is not valid UTF-8 is a 400, instead of reaching the
  routes as replacement characters or mojibake.
- An unexpected exception is logged as one short, redacted line (type, route template, project line,
  request id): never its message (it often quotes the input), the request (cookies, headers, body) or
  local variables. It is answered here rather than re-raised, so the server does not log it again.
"""

import secrets
from typing import Any
from urllib.parse import unquote_to_bytes

import structlog
from fastapi import Request
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Match
from starlette.types import Message, Receive, Scope, Send

from core.logging import get_logger
from core.redaction import project_frame
from core.security import SECURITY_HEADERS, HttpMiddleware
from core.web import MAX_BODY_BYTES, error_response, too_large_message

log = get_logger(__name__)
REQUEST_ID_HEADER = "X-Request-ID"
FORM_TYPE = "application/x-www-form-urlencoded"


def new_request_id() -> str:
    return secrets.token_hex(8)


def route_template(scope: Scope) -> str:
    """The matched route's path template (`/services/{service_id}`), never the concrete path or query."""
    route: Any = scope.get("route")
    return str(getattr(route, "path", None) or "unmatched")


def is_utf8(percent_encoded: bytes) -> bool:
    try:
        unquote_to_bytes(percent_encoded.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def body_limit(scope: Scope) -> int:
    """The body limit of the route this request will reach: its own `max_body_size`, else the app's."""
    for route in scope["app"].router.routes:
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return getattr(route, "max_body_size", None) or MAX_BODY_BYTES
    return MAX_BODY_BYTES


def declared_length(scope: Scope) -> int | None:
    value = Headers(scope=scope).get("content-length", "")
    return int(value) if value.isdigit() else None


class RequestContextMiddleware(HttpMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
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
            refusal = _refusal(scope)
            if refusal is not None:
                await _hardened(refusal)(scope, receive, send_with_id)
                return
            receive = _limited(receive, _limit_for(scope))
            if Headers(scope=scope).get("content-type", "").startswith(FORM_TYPE):
                receive = _utf8_form(receive)
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
                    await _unexpected_response(Request(scope, receive), request_id)(scope, receive, send_with_id)


def _refusal(scope: Scope) -> Response | None:
    """A 400 or 413 decided from the request line and headers alone, before any route runs."""
    request = Request(scope)
    if not is_utf8(scope.get("query_string", b"")) or not is_utf8(scope.get("raw_path") or b""):
        return error_response(request, 400, "The address has characters that are not valid UTF-8.")
    length = declared_length(scope)
    if length is not None and length > MAX_BODY_BYTES:
        limit = _limit_for(scope)
        if length > limit:
            return error_response(request, 413, too_large_message(limit))
    return None


def _limit_for(scope: Scope) -> int:
    # Only a method that sends a body pays for matching the routes.
    return MAX_BODY_BYTES if scope.get("method") in ("GET", "HEAD", "OPTIONS") else body_limit(scope)


def _limited(receive: Receive, limit: int) -> Receive:
    """Count the body as it arrives (with or without a Content-Length) and stop it past `limit`."""
    total = 0

    async def limited() -> Message:
        nonlocal total
        message = await receive()
        if message["type"] == "http.request":
            total += len(message.get("body", b""))
            if total > limit:
                raise HTTPException(413, too_large_message(limit))
        return message

    return limited


def _utf8_form(receive: Receive) -> Receive:
    """Pass the body through; at its end, refuse it (400) when its percent-decoded bytes are not UTF-8.
    The copy is bounded: the framework's body limit applies to `receive` before this sees it."""
    seen = bytearray()

    async def checked() -> Message:
        message = await receive()
        if message["type"] == "http.request":
            seen.extend(message.get("body", b""))
            if not message.get("more_body", False) and not is_utf8(bytes(seen)):
                raise HTTPException(400, "The form data is not valid UTF-8.")
        return message

    return checked


def _unexpected_response(request: Request, request_id: str) -> Response:
    message = f"An unexpected error happened. It has been logged (request {request_id})."
    try:
        response = error_response(request, 500, message)
    except Exception:  # the error page itself failed: still answer, in plain text
        response = PlainTextResponse(message, status_code=500)
    return _hardened(response)


def _hardened(response: Response) -> Response:
    """Answers made here pass outside the security-headers middleware, so the headers are set here."""
    response.headers.update(SECURITY_HEADERS)
    return response
