"""`Cache-Control: no-store` for everything a signed-in person is shown, in one place rather than per view.

A browser's back/forward cache or a shared proxy must never keep a workspace, an account, a referral, the
moderation queue or the development mailbox for the next person at that computer. The rule therefore
follows the credential, not the page: every response to a request that carries a session cookie or an
API token, and every response that sets or clears the session cookie, is marked no-store. Anonymous
pages (search) stay cacheable; static files stay cacheable for everyone.
"""

from starlette.requests import cookie_parser
from starlette.types import Message, Scope

from accounts.sessions import SESSION_COOKIE

STATIC_PREFIX = "/static/"
_SETS_SESSION_COOKIE = f"{SESSION_COOKIE}=".encode()


def carries_credentials(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"authorization":
            return True
        if name == b"cookie" and SESSION_COOKIE in cookie_parser(value.decode("latin-1")):
            return True
    return False


def needs_no_store(scope: Scope, message: Message) -> bool:
    """The rule the app's header middleware (`core.security.HeadersMiddleware`) applies to each response:
    no-store when the request carried credentials or the response sets or clears the session cookie."""
    if scope["path"].startswith(STATIC_PREFIX):
        return False
    sets_cookie = any(
        name == b"set-cookie" and value.startswith(_SETS_SESSION_COOKIE) for name, value in message.get("headers", [])
    )
    return sets_cookie or carries_credentials(scope)
