"""A network admin links a peer to an employer by searching the organization's name (htmx suggestions, and
the same choices without JavaScript), never by pasting an id."""

from fastapi.testclient import TestClient
from sqlmodel import Session

from accounts.models import PeerProfile
from tests.factories import make_listing, make_user
from tests.html import parse
from tests.support import signed_in_as


def test_an_admin_picks_an_employer_by_name(web: TestClient, session: Session) -> None:
    service = make_listing(session, "lakeview-recovery", org_name="Lakeview Recovery Partners")
    make_listing(session, "hillside-food", org_name="Hillside Food Bank")
    make_user(session, "root@example.org", network_admin=True)
    peer = make_user(session, "peer@example.org")
    csrf = signed_in_as(web, session, "root@example.org")

    typed = web.get(
        f"/admin/users/{peer.id}/employers", params={"employer_q": "lakeview"}, headers={"HX-Request": "true"}
    )
    assert typed.status_code == 200 and "<html" not in typed.text
    radios = parse(typed.text).find_all("input", type="radio", name="employer_organization_id")
    assert [r.attrs["value"] for r in radios] == [str(service.organization_id), ""]
    assert "Lakeview Recovery Partners" in typed.text and "Hillside" not in typed.text

    without_js = web.get(f"/admin/users/{peer.id}", params={"employer_q": "LAKEVIEW recovery"})
    values = [r.attrs["value"] for r in parse(without_js.text).find_all("input", name="employer_organization_id")]
    assert values == [str(service.organization_id), ""]

    saved = web.post(
        f"/admin/users/{peer.id}/peer",
        data={"csrf_token": csrf, "is_peer": "true", "credential": "CPRS", "employer_organization_id": values[0]},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    profile = session.get(PeerProfile, peer.id)
    assert profile is not None and profile.employer_organization_id == service.organization_id
    page = parse(web.get(f"/admin/users/{peer.id}").text)
    checked = page.find("input", name="employer_organization_id", checked=True)
    assert checked.attrs["value"] == str(service.organization_id)
    assert "Lakeview Recovery Partners" in page.find("ul", id="employer-choices").text


def test_the_search_takes_wildcards_literally_and_is_for_network_admins(web: TestClient, session: Session) -> None:
    make_listing(session, "lakeview-recovery", org_name="Lakeview Recovery Partners")
    peer = make_user(session, "peer@example.org")
    make_user(session, "root@example.org", network_admin=True)
    signed_in_as(web, session, "root@example.org")
    for query in ("%%", "__", "a%"):
        found = web.get(f"/admin/users/{peer.id}/employers", params={"employer_q": query})
        assert [r.attrs["value"] for r in parse(found.text).find_all("input", type="radio")] == [""]
        assert "No organization name contains" in found.text
    signed_in_as(web, session, "peer@example.org")
    assert web.get(f"/admin/users/{peer.id}/employers", params={"employer_q": "lake"}).status_code == 403
