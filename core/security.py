"""Response hardening for every page: a strict Content-Security-Policy and privacy headers, set by the one
header middleware, which also picks each request's language.

The policy allows nothing but our own origin: no inline scripts or styles, no third-party hosts, no
framing. Pages must therefore load htmx and app.js as files, and htmx is told (through its meta config)
not to inject its indicator <style>.
"""

from collections.abc import Callable
from urllib.parse import parse_qsl

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.i18n import negotiate

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Permissions-Policy": "geolocation=(self), camera=(), microphone=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
GZIP_MINIMUM_SIZE = 500


class HttpMiddleware:
    """Base of our ASGI middlewares: only HTTP requests reach `handle`; lifespan and websocket messages pass."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


class HeadersMiddleware(HttpMiddleware):
    """The one middleware that shapes response headers. It picks the language of each HTTP request (kept
    on the request state for templates and links) and gives every response `Vary: Accept-Language`, the
    hardening headers (a route may set its own) and, when `no_store_when(scope, message)` says so,
    `Cache-Control: no-store` (the app passes the accounts rule: requests with credentials, session cookies)."""

    def __init__(self, app: ASGIApp, no_store_when: Callable[[Scope, Message], bool] | None = None) -> None:
        super().__init__(app)
        self.no_store_when = no_store_when

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        headers = dict((k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", []))
        lang, in_url = negotiate(query.get("lang"), headers.get("accept-language"))
        state = scope.setdefault("state", {})
        state["lang"], state["lang_in_url"] = lang, in_url

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                response_headers.add_vary_header("Accept-Language")
                for name, value in SECURITY_HEADERS.items():
                    response_headers.setdefault(name, value)
                if self.no_store_when is not None and self.no_store_when(scope, message):
                    response_headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
