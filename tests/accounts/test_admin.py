"""Network admins create accounts and peer profiles."""

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from accounts.models import PeerProfile, User
from core.settings import Settings
from tests.factories import make_listing, make_user
from tests.html import field_errors
from tests.support import folder_links, signed_in_as


def test_network_admins_create_accounts_and_peer_profiles(
    web: TestClient, session: Session, settings: Settings
) -> None:
    org = make_listing(session, "employer-org")
    make_user(session, "root@example.org", network_admin=True)
    supervisor = make_user(session, "sup@example.org")
    csrf = signed_in_as(web, session, "root@example.org")
    created = web.post(
        "/admin/users",
        data={"csrf_token": csrf, "email": "peer@example.org", "display_name": "Pat Peer"},
        follow_redirects=False,
    )
    assert created.status_code == 303
    assert folder_links(settings, "/password/reset/")  # the new person chooses a password by e-mail
    peer = session.exec(select(User).where(User.email == "peer@example.org")).one()
    not_supervisor = web.post(
        f"/admin/users/{peer.id}/peer",
        data={"csrf_token": csrf, "is_peer": "true", "credential": "CPRS", "supervisor_id": str(supervisor.id)},
    )
    assert not_supervisor.status_code == 422 and "supervisor_id" in field_errors(not_supervisor)
    web.post(
        f"/admin/users/{supervisor.id}/flags", data={"csrf_token": csrf, "is_active": "true", "is_supervisor": "true"}
    )
    saved = web.post(
        f"/admin/users/{peer.id}/peer",
        data={
            "csrf_token": csrf,
            "is_peer": "true",
            "credential": "CPRS",
            "supervisor_id": str(supervisor.id),
            "employer_organization_id": str(org.organization_id),
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    profile = session.get(PeerProfile, peer.id)
    assert profile is not None and (profile.credential, profile.supervisor_id, profile.employer_organization_id) == (
        "CPRS",
        supervisor.id,
        org.organization_id,
    )
    me = session.exec(select(User).where(User.email == "root@example.org")).one()
    assert web.post(f"/admin/users/{me.id}/flags", data={"csrf_token": csrf, "is_active": "true"}).status_code == 409
