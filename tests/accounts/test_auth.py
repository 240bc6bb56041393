"""Sign-in, sessions, throttling, anonymous-form protection, password reset (through real SMTP), API tokens."""

import os
import stat
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from accounts.anon_forms import issue_form_token
from accounts.models import ApiToken, PasswordResetToken, User, UserSession
from accounts.passwords import verify_password
from accounts.tokens import token_hash
from core.app import create_app
from core.clock import utcnow
from core.secrets import secret_key
from core.settings import Settings
from tests.factories import PASSWORD, make_user
from tests.html import elements, field_errors, hidden
from tests.support import Mailbox, folder_links, sign_in, table_counts


def _login(client: TestClient, email: str, password: str, **headers: str) -> httpx.Response:
    token = hidden(client.get("/login"), "form_token")
    return client.post(
        "/login",
        data={"email": email, "password": password, "form_token": token},
        headers=headers,
        follow_redirects=False,
    )


def test_sign_in_sets_a_strict_session_cookie_and_opens_the_workspace(web: TestClient, session: Session) -> None:
    make_user(session, "ana@example.org")
    response = _login(web, "ANA@example.org ", PASSWORD)
    assert response.status_code == 303 and response.headers["location"] == "/start"  # where the work is
    assert web.get("/start", follow_redirects=False).headers["location"] == "/workspace"  # no role yet
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("sid=")
    for part in ("HttpOnly", "SameSite=lax", "Max-Age=43200", "Path=/"):
        assert part.lower() in cookie.lower()
    assert "secure" not in cookie.lower()  # base_url is http:// in tests
    assert web.get("/workspace").status_code == 200
    raw = web.cookies.get("sid")
    assert raw and session.get(UserSession, token_hash(raw)) is not None  # only the hash is stored


def test_cookie_is_secure_when_the_site_is_https(engine: Engine, settings: Settings, session: Session) -> None:
    make_user(session, "ana@example.org")
    client = TestClient(
        create_app(settings.model_copy(update={"base_url": "https://directory.example.org"}), engine=engine),
        base_url="https://testserver",
    )
    response = _login(client, "ana@example.org", PASSWORD)
    assert response.status_code == 303
    assert "secure" in response.headers["set-cookie"].lower()


def test_wrong_password_and_unknown_address_get_the_same_answer(web: TestClient, session: Session) -> None:
    make_user(session, "ana@example.org")
    wrong = _login(web, "ana@example.org", "not the password")
    unknown = _login(web, "nobody@example.org", PASSWORD)
    assert wrong.status_code == unknown.status_code == 422
    assert field_errors(wrong) == field_errors(unknown) == {"form": "The e-mail address or the password is not right."}
    assert "sid" not in web.cookies


def test_sign_in_is_throttled_after_five_failures_even_with_the_right_password(
    web: TestClient, session: Session
) -> None:
    make_user(session, "ana@example.org")
    for _ in range(5):
        assert _login(web, "ana@example.org", "guess").status_code == 422
    blocked = _login(web, "ana@example.org", PASSWORD)
    assert blocked.status_code == 429
    assert 1 <= int(blocked.headers["retry-after"]) <= 15 * 60
    assert "sid" not in web.cookies


@pytest.mark.parametrize("tamper", ["missing", "forged", "other-form", "cross-origin", "null-origin", "bad-referer"])
def test_anonymous_forms_need_a_signed_token_and_a_same_site_origin(
    web: TestClient, session: Session, settings: Settings, engine: Engine, tamper: str
) -> None:
    make_user(session, "ana@example.org")
    data = {"email": "ana@example.org", "password": PASSWORD, "form_token": issue_form_token(settings, "login")}
    headers: dict[str, str] = {}
    if tamper == "missing":
        del data["form_token"]
    elif tamper == "forged":
        data["form_token"] = data["form_token"][:-4] + "AAAA"
    elif tamper == "other-form":
        data["form_token"] = issue_form_token(settings, "suggest")
    elif tamper == "cross-origin":
        headers["Origin"] = "https://evil.example"
    elif tamper == "null-origin":
        headers["Origin"] = "null"
    else:
        headers["Referer"] = "https://evil.example/page"
    before = table_counts(engine)
    response = web.post("/login", data=data, headers=headers, follow_redirects=False)
    assert response.status_code == 403
    assert "sid" not in web.cookies
    assert table_counts(engine) == before


def test_same_origin_header_is_accepted(web: TestClient, session: Session) -> None:
    make_user(session, "ana@example.org")
    assert _login(web, "ana@example.org", PASSWORD, Origin="http://testserver").status_code == 303


def test_pages_with_anonymous_forms_send_the_real_origin_on_post(web: TestClient) -> None:
    # The site default (no-referrer) would make browsers send "Origin: null" on a same-site form post.
    assert web.get("/login").headers["referrer-policy"] == "same-origin"


def test_sign_out_needs_the_csrf_token_and_ends_the_session(web: TestClient, session: Session) -> None:
    make_user(session, "ana@example.org")
    csrf = sign_in(web, "ana@example.org")
    assert web.post("/logout", data={}, follow_redirects=False).status_code == 403
    assert web.post("/logout", data={"csrf_token": "wrong"}, follow_redirects=False).status_code == 403
    assert web.get("/account").status_code == 200
    response = web.post("/logout", headers={"X-CSRF-Token": csrf}, follow_redirects=False)
    assert response.status_code == 303
    assert session.exec(select(UserSession)).all() == []
    assert web.get("/account").status_code == 401


def test_expired_sessions_are_refused(web: TestClient, session: Session) -> None:
    make_user(session, "ana@example.org")
    sign_in(web, "ana@example.org")
    row = session.exec(select(UserSession)).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.add(row)
    session.commit()
    assert web.get("/account").status_code == 401


def test_anonymous_visitors_are_asked_to_sign_in(web: TestClient) -> None:
    page = web.get("/workspace")
    assert page.status_code == 401 and "sign in" in page.text.lower()
    api = web.get("/api/v1/workspace/organizations")
    assert api.status_code == 401 and api.json()["detail"] == "Please sign in to continue."


def test_password_reset_end_to_end_through_a_real_smtp_server(
    engine: Engine, smtp_settings: Settings, smtp: Mailbox, session: Session
) -> None:
    make_user(session, "ana@example.org")
    client = TestClient(create_app(smtp_settings, engine=engine), base_url="http://testserver")
    form = client.get("/password/forgot")
    sent = client.post("/password/forgot", data={"email": "ana@example.org", "form_token": hidden(form, "form_token")})
    assert sent.status_code == 200 and elements(sent, "p", data_sent=True)
    assert len(smtp.messages) == 1
    message = smtp.messages[0]
    assert (
        message["To"] == "ana@example.org" and message["Subject"] == "Reset your password / Restablecer la contraseña"
    )
    (link,) = smtp.links("/password/reset/")
    assert link.startswith(smtp_settings.base_url)
    path = urlsplit(link).path
    page = client.get(path)
    assert page.status_code == 200
    new_password = "a brand new passphrase"
    done = client.post(
        path,
        data={"password": new_password, "password_again": new_password, "form_token": hidden(page, "form_token")},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"].startswith("/login")
    assert _login(client, "ana@example.org", PASSWORD).status_code == 422
    assert _login(client, "ana@example.org", new_password).status_code == 303
    assert client.get(path).status_code == 410  # single use


def test_password_reset_does_not_reveal_which_addresses_exist(
    engine: Engine, smtp_settings: Settings, smtp: Mailbox, session: Session
) -> None:
    make_user(session, "ana@example.org")
    client = TestClient(create_app(smtp_settings, engine=engine), base_url="http://testserver")
    answers = []
    for address in ("nobody@example.org", "ana@example.org"):
        form = client.get("/password/forgot")
        answer = client.post("/password/forgot", data={"email": address, "form_token": hidden(form, "form_token")})
        answers.append((answer.status_code, [e.text.strip() for e in elements(answer, "p", data_sent=True)]))
    assert answers[0] == answers[1]
    assert [m["To"] for m in smtp.messages] == ["ana@example.org"]


def test_password_reset_links_expire_after_an_hour(web: TestClient, session: Session, settings: Settings) -> None:
    make_user(session, "ana@example.org")
    form = web.get("/password/forgot")
    web.post("/password/forgot", data={"email": "ana@example.org", "form_token": hidden(form, "form_token")})
    (row,) = session.exec(select(PasswordResetToken)).all()
    assert abs((row.expires_at.replace(tzinfo=None) - utcnow().replace(tzinfo=None)) - timedelta(hours=1)) < timedelta(
        minutes=1
    )
    raw = folder_links(settings, "/password/reset/")[-1].rsplit("/", 1)[1]
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.add(row)
    session.commit()
    assert web.get(f"/password/reset/{raw}").status_code == 410


def test_reset_form_rejects_a_short_password_and_keeps_the_old_one(
    web: TestClient, session: Session, settings: Settings
) -> None:
    user = make_user(session, "ana@example.org")
    form = web.get("/password/forgot")
    web.post("/password/forgot", data={"email": "ana@example.org", "form_token": hidden(form, "form_token")})
    path = urlsplit(folder_links(settings, "/password/reset/")[-1]).path
    page = web.get(path)
    bad = web.post(
        path, data={"password": "short", "password_again": "short", "form_token": hidden(page, "form_token")}
    )
    assert bad.status_code == 422 and "password" in field_errors(bad)
    session.refresh(user)
    assert verify_password(user.password_hash, PASSWORD)


def test_change_password_on_the_account_page(web: TestClient, session: Session) -> None:
    make_user(session, "ana@example.org")
    csrf = sign_in(web, "ana@example.org")
    wrong = web.post(
        "/account/password",
        data={"csrf_token": csrf, "current_password": "nope", "new_password": "another long passphrase"},
    )
    assert wrong.status_code == 422 and "current_password" in field_errors(wrong)
    ok = web.post(
        "/account/password",
        data={"csrf_token": csrf, "current_password": PASSWORD, "new_password": "another long passphrase"},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    user = session.exec(select(User)).one()
    session.refresh(user)
    assert verify_password(user.password_hash, "another long passphrase")


def test_api_tokens_are_shown_once_stored_hashed_and_revocable(web: TestClient, session: Session) -> None:
    make_user(session, "ana@example.org")
    csrf = sign_in(web, "ana@example.org")
    created = web.post("/account/tokens", data={"csrf_token": csrf, "name": "capacity updater"})
    assert created.status_code == 200 and created.headers["cache-control"] == "no-store"
    (shown,) = elements(created, "code", data_new_token=True)
    raw = shown.text.strip()
    assert raw.startswith("crd_")
    row = session.exec(select(ApiToken)).one()
    assert row.token_hash == token_hash(raw) and raw not in row.model_dump_json()
    assert raw not in web.get("/account").text  # never shown again
    api = TestClient(web.app, base_url="http://testserver")
    answer = api.get("/api/v1/workspace/organizations", headers={"Authorization": f"Bearer {raw}"})
    assert answer.status_code == 200 and answer.json() == {"organizations": []}
    revoked = web.post(f"/account/tokens/{row.id}/revoke", data={"csrf_token": csrf}, follow_redirects=False)
    assert revoked.status_code == 303
    assert api.get("/api/v1/workspace/organizations", headers={"Authorization": f"Bearer {raw}"}).status_code == 401


def test_api_token_requests_skip_csrf_but_still_need_the_token(web: TestClient, session: Session) -> None:
    make_user(session, "ana@example.org")
    csrf = sign_in(web, "ana@example.org")
    created = web.post("/account/tokens", data={"csrf_token": csrf, "name": "script"})
    raw = elements(created, "code", data_new_token=True)[0].text.strip()
    api = TestClient(web.app, base_url="http://testserver")
    answer = api.post("/account/tokens", data={"name": "from script"}, headers={"Authorization": f"Bearer {raw}"})
    assert answer.status_code == 200
    assert (
        api.post("/account/tokens", data={"name": "x"}, headers={"Authorization": "Bearer crd_wrong"}).status_code
        == 401
    )


def test_the_secret_key_is_generated_once_with_private_permissions(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    first = secret_key(settings)
    assert len(first) >= 48 and secret_key(Settings(data_dir=tmp_path / "data")) == first
    assert stat.S_IMODE(os.stat(tmp_path / "data" / "secret_key").st_mode) == 0o600
    assert secret_key(Settings(data_dir=tmp_path / "data", secret_key="from-the-environment")) == "from-the-environment"
