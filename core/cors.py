"""CORS for public read-only data: any origin may read it, without credentials; nothing else is shared.

Intergroup websites embed meeting finders (TSML UI) that fetch our Meeting Guide feeds from the
visitor's browser, and other sites call the search and HSDS APIs the same way. Those routes are
public and read-only, so `Access-Control-Allow-Origin: *` is safe there: with `*` a browser never sends
cookies, so a signed-in visitor's session cannot be used by another site. Every other route (staff,
accounts, referrals) gets no CORS header at all, so browsers refuse cross-origin reads of them, and an
`OPTIONS` preflight there is answered by the app as usual (405), which browsers treat as a refusal.
Public paths also answer `HEAD` (a GET without the body), which link checkers and feed readers use.
"""

from collections.abc import Sequence

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

READ_METHODS = ("GET", "HEAD", "OPTIONS")
# Request headers a reader may send: conditional GETs and content negotiation.
ALLOWED_HEADERS = "Accept, Accept-Language, If-None-Match, If-Modified-Since, Cache-Control"
# ETag is not a CORS-safelisted response header; a client doing its own conditional GETs needs to read it.
EXPOSED_HEADERS = "ETag, Content-Length"
PREFLIGHT_MAX_AGE = "86400"


class PublicPaths:
    """Paths given exactly, or as prefixes when they end with "/"."""

    def __init__(self, paths: Sequence[str]) -> None:
        self.exact = frozenset(p for p in paths if not p.endswith("/"))
        self.prefixes = tuple(p for p in paths if p.endswith("/"))

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and (path in self.exact or path.startswith(self.prefixes))


class PublicReadCORSMiddleware:
    def __init__(self, app: ASGIApp, *, paths: Sequence[str]) -> None:
        self.app = app
        self.paths = PublicPaths(paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.paths or scope["method"] not in READ_METHODS:
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            await _preflight(scope, send)
            return

        head = scope["method"] == "HEAD"

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Access-Control-Allow-Origin"] = "*"
                headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
            elif head and message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        # The routes declare GET only; HEAD is the same answer without its body (headers and length kept).
        await self.app({**scope, "method": "GET"} if head else scope, receive, send_with_cors)


async def _preflight(scope: Scope, send: Send) -> None:
    """Answer OPTIONS on a public path: which methods and headers any origin may use (never credentials)."""
    asked = Headers(scope=scope).get("access-control-request-method")
    headers = [(b"allow", ", ".join(READ_METHODS).encode())]
    if asked is not None and asked.upper() in READ_METHODS:
        headers += [
            (b"access-control-allow-origin", b"*"),
            (b"access-control-allow-methods", ", ".join(READ_METHODS).encode()),
            (b"access-control-allow-headers", ALLOWED_HEADERS.encode()),
            (b"access-control-max-age", PREFLIGHT_MAX_AGE.encode()),
        ]
    await send({"type": "http.response.start", "status": 204, "headers": headers})
    await send({"type": "http.response.body", "body": b""})
