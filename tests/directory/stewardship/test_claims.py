"""Claiming an existing listing: a network admin approves, the claimant becomes the organization's admin."""

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from accounts.models import Membership
from core.settings import Settings
from directory.stewardship.models import ClaimRequest
from tests.factories import make_listing, make_user
from tests.html import elements, field_errors
from tests.support import folder_links, signed_in_as


def test_claiming_a_listing_makes_the_claimant_admin_after_approval(
    web: TestClient, session: Session, settings: Settings
) -> None:
    service = make_listing(session, "unclaimed-org", name="Unclaimed Pantry")
    claimant = make_user(session, "director@example.org")
    make_user(session, "root@example.org", network_admin=True)
    csrf = signed_in_as(web, session, "director@example.org")
    empty = web.post(f"/services/{service.id}/claim", data={"csrf_token": csrf, "message": ""})
    assert empty.status_code == 422 and "message" in field_errors(empty)
    sent = web.post(
        f"/services/{service.id}/claim",
        data={"csrf_token": csrf, "message": "I run this pantry."},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    assert web.get(f"/workspace/organizations/{service.organization_id}").status_code == 403
    admin = TestClient(web.app, base_url="http://testserver")
    admin_csrf = signed_in_as(admin, session, "root@example.org")
    claim = session.exec(select(ClaimRequest)).one()
    assert [e.attrs["data-claim"] for e in elements(admin.get("/admin/claims"), "article")] == [str(claim.id)]
    approved = admin.post(f"/admin/claims/{claim.id}/approve", data={"csrf_token": admin_csrf}, follow_redirects=False)
    assert approved.status_code == 303
    member = session.exec(select(Membership).where(Membership.user_id == claimant.id)).one()
    assert (member.organization_id, member.role) == (service.organization_id, "admin")
    assert folder_links(settings, f"/workspace/organizations/{service.organization_id}")
    assert web.get(f"/workspace/organizations/{service.organization_id}").status_code == 200
