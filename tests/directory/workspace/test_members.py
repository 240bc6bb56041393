"""Organization members: invitations by e-mail, joining with an existing account, roles and trust."""

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from accounts.models import Invitation, Membership, OrgRole, User
from core.app import create_app
from core.settings import Settings
from tests.factories import add_member, make_listing, make_user
from tests.html import field_errors, hidden
from tests.support import Mailbox, folder_links, signed_in_as


def test_an_invitation_by_email_creates_an_editor_account(
    engine: Engine, session: Session, smtp_settings: Settings, smtp: Mailbox
) -> None:
    service = make_listing(session, "north-pantry")
    add_member(session, make_user(session, "boss@example.org"), service.organization_id, OrgRole.admin)
    client = TestClient(create_app(smtp_settings, engine=engine), base_url="http://testserver")
    csrf = signed_in_as(client, session, "boss@example.org")
    sent = client.post(
        f"/workspace/organizations/{service.organization_id}/invitations",
        data={"csrf_token": csrf, "email": "New.Helper@Example.org", "role": "editor"},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    (link,) = smtp.links("/invitations/")
    assert smtp.messages[0]["To"] == "new.helper@example.org"
    newcomer = TestClient(client.app, base_url="http://testserver")
    path = link.removeprefix(smtp_settings.base_url)
    page = newcomer.get(path)
    assert page.status_code == 200 and "North Pantry" in page.text
    short = newcomer.post(path, data={"form_token": hidden(page, "form_token"), "password": "short"})
    assert short.status_code == 422 and "password" in field_errors(short)
    joined = newcomer.post(
        path,
        data={
            "form_token": hidden(page, "form_token"),
            "display_name": "Helper",
            "password": "a long enough passphrase",
        },
        follow_redirects=False,
    )
    assert joined.status_code == 303 and "sid" in newcomer.cookies
    user = session.exec(select(User).where(User.email == "new.helper@example.org")).one()
    member = session.exec(select(Membership).where(Membership.user_id == user.id)).one()
    assert (member.organization_id, member.role, member.trusted) == (service.organization_id, "editor", False)
    assert newcomer.get(joined.headers["location"]).status_code == 200
    assert newcomer.get(path).status_code == 410  # used


def test_an_invitation_for_an_existing_account_needs_that_account_signed_in(
    web: TestClient, session: Session, settings: Settings
) -> None:
    service = make_listing(session)
    add_member(session, make_user(session, "boss@example.org"), service.organization_id, OrgRole.admin)
    make_user(session, "known@example.org")
    make_user(session, "someone-else@example.org")
    csrf = signed_in_as(web, session, "boss@example.org")
    web.post(
        f"/workspace/organizations/{service.organization_id}/invitations",
        data={"csrf_token": csrf, "email": "known@example.org", "role": "admin"},
    )
    path = folder_links(settings, "/invitations/")[-1].removeprefix(settings.base_url)
    other = TestClient(web.app, base_url="http://testserver")
    signed_in_as(other, session, "someone-else@example.org")
    page = other.get(path)
    refused = other.post(
        path, data={"form_token": hidden(page, "form_token"), "csrf_token": hidden(page, "csrf_token")}
    )
    assert refused.status_code == 403
    owner = TestClient(web.app, base_url="http://testserver")
    owner_csrf = signed_in_as(owner, session, "known@example.org")
    page = owner.get(path)
    accepted = owner.post(
        path, data={"form_token": hidden(page, "form_token"), "csrf_token": owner_csrf}, follow_redirects=False
    )
    assert accepted.status_code == 303
    known = session.exec(select(User).where(User.email == "known@example.org")).one()
    member = session.exec(select(Membership).where(Membership.user_id == known.id)).one()
    assert (member.role, member.trusted) == ("admin", True)


def test_admins_manage_trust_and_keep_at_least_one_admin(web: TestClient, session: Session) -> None:
    service = make_listing(session)
    boss = add_member(session, make_user(session, "boss@example.org"), service.organization_id, OrgRole.admin)
    helper = add_member(session, make_user(session, "helper@example.org"), service.organization_id)
    csrf = signed_in_as(web, session, "boss@example.org")
    base = f"/workspace/organizations/{service.organization_id}/members"
    assert (
        web.post(
            f"{base}/{helper.id}",
            data={"csrf_token": csrf, "role": "editor", "trusted": "true"},
            follow_redirects=False,
        ).status_code
        == 303
    )
    session.refresh(helper)
    assert helper.trusted is True
    assert web.post(f"{base}/{boss.id}/remove", data={"csrf_token": csrf}).status_code == 409
    assert web.post(f"{base}/{boss.id}", data={"csrf_token": csrf, "role": "editor"}).status_code == 409
    helper_id = helper.id
    assert web.post(f"{base}/{helper_id}/remove", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    session.expire_all()
    assert session.exec(select(Membership).where(Membership.id == helper_id)).first() is None
    duplicate = web.post(
        f"/workspace/organizations/{service.organization_id}/invitations",
        data={"csrf_token": csrf, "email": "boss@example.org", "role": "editor"},
    )
    assert duplicate.status_code == 422 and "email" in field_errors(duplicate)
    assert session.exec(select(Invitation)).all() == []
