"""Nothing a signed-in person sees, and no response that sets or clears the session cookie, may be kept
by a browser cache or a proxy; anonymous search stays cacheable."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from accounts.models import OrgRole
from core.app import create_app
from core.settings import Settings
from tests.factories import PASSWORD, add_member, make_listing, make_user
from tests.html import elements, hidden
from tests.support import sign_in, signed_in_as

STAFF_PAGES = [
    "/workspace",
    "/workspace/organizations/{org}",
    "/workspace/moderation",
    "/account",
    "/admin/users",
    "/admin/claims",
    "/admin/freshness",
    "/referrals",
    "/referrals/inbox",
    "/referrals/notifications",
    "/dev/mail",
]


@pytest.mark.parametrize("page", STAFF_PAGES)
def test_every_signed_in_page_is_no_store(engine: Engine, settings: Settings, session: Session, page: str) -> None:
    web = TestClient(create_app(settings.model_copy(update={"dev_mail_page": True}), engine=engine))
    service = make_listing(session)
    add_member(
        session, make_user(session, "root@example.org", network_admin=True), service.organization_id, OrgRole.admin
    )
    signed_in_as(web, session, "root@example.org")
    answer = web.get(page.format(org=service.organization_id))
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"


def test_signing_in_and_out_are_no_store(web: TestClient, session: Session) -> None:
    make_user(session, "ana@example.org")
    form = web.get("/login")
    signed_in = web.post(
        "/login",
        data={"email": "ana@example.org", "password": PASSWORD, "form_token": hidden(form, "form_token")},
        follow_redirects=False,
    )
    assert signed_in.headers["set-cookie"].startswith("sid=") and signed_in.headers["cache-control"] == "no-store"
    csrf = hidden(web.get("/account"), "csrf_token")
    signed_out = web.post("/logout", headers={"X-CSRF-Token": csrf}, follow_redirects=False)
    assert signed_out.headers["set-cookie"].startswith("sid=") and signed_out.headers["cache-control"] == "no-store"


def test_api_token_answers_are_no_store(web: TestClient, session: Session) -> None:
    make_user(session, "ana@example.org")
    csrf = sign_in(web, "ana@example.org")
    created = web.post("/account/tokens", data={"csrf_token": csrf, "name": "script"})
    raw = elements(created, "code", data_new_token=True)[0].text.strip()
    api = TestClient(web.app, base_url="http://testserver")
    answer = api.get("/api/v1/workspace/organizations", headers={"Authorization": f"Bearer {raw}"})
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"


def test_anonymous_pages_and_static_files_stay_cacheable(web: TestClient, session: Session) -> None:
    make_user(session, "ana@example.org")
    organizations = web.get("/organizations")
    assert organizations.status_code == 200 and "no-store" not in organizations.headers.get("cache-control", "")
    signed_in_as(web, session, "ana@example.org")
    stylesheet = web.get("/static/css/site.css")
    assert stylesheet.status_code == 200 and "no-store" not in stylesheet.headers.get("cache-control", "")
