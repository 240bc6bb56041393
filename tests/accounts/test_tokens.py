"""Reset and invitation links are single use, and a new password ends every other session and link."""

import threading
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from accounts import password_reset
from accounts.models import Invitation, Membership, OrgRole, PasswordResetToken, User, UserSession
from accounts.passwords import verify_password
from accounts.tokens import LinkNotValid
from core.clock import utcnow
from core.secrets import secret_key
from core.settings import Settings
from tests.factories import PASSWORD, add_member, make_listing, make_user
from tests.html import elements, field_errors, hidden
from tests.support import folder_links, sign_in, signed_in_as, table_counts

NEW_PASSWORD = "a brand new passphrase"


def _ask_for_reset(client: TestClient, email: str) -> None:
    form = client.get("/password/forgot")
    client.post("/password/forgot", data={"email": email, "form_token": hidden(form, "form_token")})


def _reset_paths(settings: Settings) -> list[str]:
    return [urlsplit(link).path for link in folder_links(settings, "/password/reset/")]


def _choose(client: TestClient, path: str, password: str = NEW_PASSWORD) -> int:
    page = client.get(path)
    if page.status_code != 200:
        return page.status_code
    answer = client.post(
        path,
        data={"password": password, "password_again": password, "form_token": hidden(page, "form_token")},
        follow_redirects=False,
    )
    return answer.status_code


def _password_is(session: Session, email: str, password: str) -> bool:
    user = session.exec(select(User).where(User.email == email)).one()
    session.refresh(user)
    return verify_password(user.password_hash, password)


def test_the_second_of_two_reset_links_is_refused_once_the_first_is_used(
    web: TestClient, session: Session, settings: Settings
) -> None:
    make_user(session, "ana@example.org")
    signed_in_elsewhere = TestClient(web.app, base_url="http://testserver")
    sign_in(signed_in_elsewhere, "ana@example.org")
    _ask_for_reset(web, "ana@example.org")
    _ask_for_reset(web, "ana@example.org")
    first, second = _reset_paths(settings)
    assert _choose(web, first) == 303
    refused = web.get(second)
    assert refused.status_code == 410
    (detail,) = elements(refused, "p", class_="detail")
    assert "not valid any more" in detail.text and "Ask for a new one" in detail.text
    assert _choose(web, second, "an attacker's passphrase") == 410
    assert _choose(web, first, "an attacker's passphrase") == 410  # and the used one stays used
    assert _password_is(session, "ana@example.org", NEW_PASSWORD)
    assert signed_in_elsewhere.get("/account").status_code == 401  # the reset signed out every session


def test_changing_the_password_signs_out_every_other_session_and_keeps_this_one(
    web: TestClient, session: Session
) -> None:
    make_user(session, "ana@example.org")
    other_browser = TestClient(web.app, base_url="http://testserver")
    sign_in(other_browser, "ana@example.org")
    csrf = sign_in(web, "ana@example.org")
    old_cookie = web.cookies["sid"]
    changed = web.post(
        "/account/password",
        data={"csrf_token": csrf, "current_password": PASSWORD, "new_password": NEW_PASSWORD},
        follow_redirects=False,
    )
    assert changed.status_code == 303
    assert other_browser.get("/account").status_code == 401
    assert web.cookies["sid"] != old_cookie  # a fresh session id: the cookie from before is worth nothing
    assert web.get("/account").status_code == 200
    stale = TestClient(web.app, base_url="http://testserver", cookies={"sid": old_cookie})
    assert stale.get("/account").status_code == 401
    assert len(session.exec(select(UserSession)).all()) == 1


def test_changing_the_password_ends_outstanding_reset_links(
    web: TestClient, session: Session, settings: Settings
) -> None:
    make_user(session, "ana@example.org")
    _ask_for_reset(TestClient(web.app, base_url="http://testserver"), "ana@example.org")
    (path,) = _reset_paths(settings)
    csrf = sign_in(web, "ana@example.org")
    web.post("/account/password", data={"csrf_token": csrf, "current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert _choose(TestClient(web.app, base_url="http://testserver"), path, "an attacker's passphrase") == 410
    assert _password_is(session, "ana@example.org", NEW_PASSWORD)
    assert session.exec(select(PasswordResetToken)).all() == []


def test_a_wrong_current_password_changes_nothing(web: TestClient, session: Session, engine: Engine) -> None:
    make_user(session, "ana@example.org")
    other_browser = TestClient(web.app, base_url="http://testserver")
    sign_in(other_browser, "ana@example.org")
    csrf = sign_in(web, "ana@example.org")
    before = table_counts(engine)
    wrong = web.post(
        "/account/password", data={"csrf_token": csrf, "current_password": "nope", "new_password": NEW_PASSWORD}
    )
    assert wrong.status_code == 422 and "current_password" in field_errors(wrong)
    assert other_browser.get("/account").status_code == 200 and table_counts(engine) == before


def test_two_requests_racing_with_one_reset_link_set_one_password(
    engine: Engine, session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both requests pass the validity check before either writes; only one may then spend the link."""
    make_user(session, "ana@example.org")
    tokens: list[str] = []

    def remember(token: str) -> str:
        tokens.append(token)
        return token

    password_reset.request_reset(session=session, email="ana@example.org", now=utcnow(), make_link=remember)
    (raw,) = tokens
    both_checked = threading.Barrier(2)
    real_check = password_reset.valid_token

    def check_then_wait(*, session: Session, raw: str, now: datetime) -> PasswordResetToken:
        row = real_check(session=session, raw=raw, now=now)
        both_checked.wait(timeout=30)
        return row

    monkeypatch.setattr(password_reset, "valid_token", check_then_wait)
    outcomes: list[str] = []

    def attempt(password: str) -> None:
        with Session(engine, expire_on_commit=False) as own:
            try:
                password_reset.reset_password(
                    session=own, secret=secret_key(settings), raw=raw, new_password=password, now=utcnow()
                )
                outcomes.append(password)
            except LinkNotValid:
                outcomes.append("refused")

    threads = [threading.Thread(target=attempt, args=(p,)) for p in ("first racer's passphrase", "second racer's pw!")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    winners = [o for o in outcomes if o != "refused"]
    assert len(outcomes) == 2 and len(winners) == 1, outcomes
    assert _password_is(session, "ana@example.org", winners[0])


def test_an_invitation_link_cannot_be_used_twice(web: TestClient, session: Session, settings: Settings) -> None:
    service = make_listing(session)
    add_member(session, make_user(session, "boss@example.org"), service.organization_id, OrgRole.admin)
    csrf = signed_in_as(web, session, "boss@example.org")
    web.post(
        f"/workspace/organizations/{service.organization_id}/invitations",
        data={"csrf_token": csrf, "email": "helper@example.org", "role": "admin"},
    )
    (link,) = folder_links(settings, "/invitations/")
    path = urlsplit(link).path
    invitee, intruder = (TestClient(web.app, base_url="http://testserver") for _ in range(2))
    page = invitee.get(path)
    intruder_page = intruder.get(path)  # opened before the invitee accepted; posted after
    joined = invitee.post(
        path,
        data={"form_token": hidden(page, "form_token"), "display_name": "Helper", "password": "a long passphrase"},
        follow_redirects=False,
    )
    assert joined.status_code == 303
    again = intruder.post(
        path,
        data={"form_token": hidden(intruder_page, "form_token"), "display_name": "X", "password": "another passphrase"},
        follow_redirects=False,
    )
    assert again.status_code == 410 and "not valid any more" in elements(again, "p", class_="detail")[0].text
    assert "sid" not in intruder.cookies
    helper = session.exec(select(User).where(User.email == "helper@example.org")).one()
    assert verify_password(helper.password_hash, "a long passphrase")
    assert len(session.exec(select(Membership).where(Membership.user_id == helper.id)).all()) == 1


def test_an_invitation_link_expires(web: TestClient, session: Session, settings: Settings) -> None:
    service = make_listing(session)
    add_member(session, make_user(session, "boss@example.org"), service.organization_id, OrgRole.admin)
    csrf = signed_in_as(web, session, "boss@example.org")
    web.post(
        f"/workspace/organizations/{service.organization_id}/invitations",
        data={"csrf_token": csrf, "email": "late@example.org", "role": "editor"},
    )
    (link,) = folder_links(settings, "/invitations/")
    invitation = session.exec(select(Invitation)).one()
    assert invitation.expires_at.replace(tzinfo=None) > utcnow().replace(tzinfo=None) + timedelta(days=6)
    invitation.expires_at = utcnow() - timedelta(seconds=1)
    session.add(invitation)
    session.commit()
    late = TestClient(web.app, base_url="http://testserver")
    assert late.get(urlsplit(link).path).status_code == 410
    assert session.exec(select(User).where(User.email == "late@example.org")).first() is None
