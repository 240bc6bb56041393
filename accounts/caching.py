"""`Cache-Control: no-store` for everything a signed-in person is shown, in one place rather than per view.

A browser's back/forward cache or a shared proxy must never keep a workspace, an account, a referral, the
moderation queue or the development mailbox for the next person at that computer. The rule therefore
follows the credential, not the page: every response to a request that carries a session cookie or an
API token, and every response that sets or clears the session cookie, is marked no-store. Anonymous
pages (search) stay cacheable; static files stay cacheable for everyone.
"""

from starlette.datastructures import MutableHeaders
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from accounts.sessions import SESSION_COOKIE

NO_STORE = "no-store"
_SETS_SESSION_COOKIE = f"{SESSION_COOKIE}=".encode()


def carries_credentials(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"authorization":
            return True
        if name == b"cookie" and SESSION_COOKIE in cookie_parser(value.decode("latin-1")):
            return True
    return False


class NoStoreForSessionsMiddleware:
    def __init__(self, app: ASGIApp, static_prefix: str = "/static/") -> None:
        self.app = app
        self.static_prefix = static_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.static_prefix):
            await self.app(scope, receive, send)
            return
        private = carries_credentials(scope)

        async def send_marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                sets_cookie = any(
                    name == b"set-cookie" and value.startswith(_SETS_SESSION_COOKIE)
                    for name, value in message.get("headers", [])
                )
                if private or sets_cookie:
                    MutableHeaders(scope=message)["Cache-Control"] = NO_STORE
            await send(message)

        await self.app(scope, receive, send_marked)
