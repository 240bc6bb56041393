"""HTTP test support: the real app, and one client per person (session cookie + CSRF, or an API token)."""

from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from accounts.models import ApiToken, User
from accounts.sessions import SESSION_COOKIE, start_session
from accounts.tokens import new_token, token_hash


@dataclass
class As:
    """A signed-in person: `browser` carries the session cookie, `api` an API bearer token."""

    user: User
    browser: TestClient
    csrf: str
    api: TestClient

    def post_form(
        self, url: str, data: dict[str, Any] | None = None, *, htmx: bool = False, csrf: bool = True
    ) -> httpx.Response:
        body = dict(data or {})
        if csrf:
            body["csrf_token"] = self.csrf
        headers = {"HX-Request": "true"} if htmx else {}
        return self.browser.post(url, data=body, headers=headers, follow_redirects=False)


def sign_in(app: FastAPI, session: Session, user: User) -> As:
    raw, row = start_session(session=session, user_id=user.id)
    browser = TestClient(app, base_url="http://testserver")
    browser.cookies.set(SESSION_COOKIE, raw)
    token = new_token()
    session.add(ApiToken(user_id=user.id, name="tests", token_hash=token_hash(token)))
    session.commit()
    api = TestClient(app, base_url="http://testserver", headers={"Authorization": f"Bearer {token}"})
    return As(user=user, browser=browser, csrf=row.csrf_token, api=api)
