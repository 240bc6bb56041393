"""Object-level access (no IDOR): peers see only their referrals, organizations only those sent to them,
in HTML and JSON alike; a referral you may not see is indistinguishable from one that does not exist."""

import uuid
from typing import Any

import pytest
from sqlmodel import Session, select

from core.settings import Settings
from referrals.codes import Status
from referrals.models import Referral, ReferralAccess
from tests.factories import NOW, PERSON, World, make_referral
from tests.referrals.conftest import snapshot

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

HTML_PATHS = ["/referrals/{id}"]
API_PATHS = ["/api/v1/referrals/{id}", "/api/v1/referrals/{id}/events", "/api/v1/referrals/{id}/fhir"]


@pytest.fixture
def referral(session: Session, settings: Settings, world: World) -> Referral:
    return make_referral(session, world, settings, Status.requested, now=NOW)


def _normalized(body: str, ident: str) -> str:
    return body.replace(ident, "ID")


@pytest.mark.parametrize("who", ["peer_b", "member_b", "outsider"])
def test_strangers_get_the_same_404_as_for_a_missing_id(
    people: dict[str, Any], referral: Referral, session: Session, who: str
) -> None:
    person = people[who]
    guessed = str(uuid.uuid4())
    for template in HTML_PATHS:
        real = person.browser.get(template.format(id=referral.id))
        fake = person.browser.get(template.format(id=guessed))
        assert real.status_code == fake.status_code == 404
        assert _normalized(real.text, str(referral.id)) == _normalized(fake.text, guessed)
        assert PERSON not in real.text
    for template in API_PATHS:
        real = person.api.get(template.format(id=referral.id))
        fake = person.api.get(template.format(id=guessed))
        assert real.status_code == fake.status_code == 404
        assert real.json() == fake.json()
    assert session.exec(select(ReferralAccess).where(ReferralAccess.user_id == person.user.id)).all() == []


@pytest.mark.parametrize("who", ["peer_b", "member_b", "outsider"])
def test_strangers_cannot_act_and_nothing_changes(
    people: dict[str, Any], referral: Referral, session: Session, who: str
) -> None:
    before = snapshot(session, referral.id)
    person = people[who]
    html = person.post_form(f"/referrals/{referral.id}/actions/accept")
    api = person.api.post(f"/api/v1/referrals/{referral.id}/actions/accept", json={})
    note = person.api.post(f"/api/v1/referrals/{referral.id}/notes", json={"body": "hello"})
    revoke = person.api.post(f"/api/v1/referrals/{referral.id}/consent/revoke")
    assert [r.status_code for r in (html, api, note, revoke)] == [404, 404, 404, 404]
    assert snapshot(session, referral.id) == before


@pytest.mark.parametrize("who", ["peer_b", "member_b", "outsider"])
def test_lists_never_show_other_peoples_referrals(people: dict[str, Any], referral: Referral, who: str) -> None:
    person = people[who]
    for page in ("/referrals", "/referrals/inbox"):
        response = person.browser.get(page)
        assert response.status_code == 200
        assert PERSON not in response.text and str(referral.id) not in response.text
    for scope in ("mine", "inbox"):
        listed = person.api.get("/api/v1/referrals", params={"scope": scope})
        assert listed.status_code == 200 and str(referral.id) not in listed.text


def test_the_peer_and_the_recipient_see_it_and_their_reads_are_logged(
    people: dict[str, Any], referral: Referral, session: Session
) -> None:
    for who in ("peer", "member"):
        page = people[who].browser.get(f"/referrals/{referral.id}")
        assert page.status_code == 200 and PERSON in page.text
        assert page.headers["cache-control"] == "no-store"
        data = people[who].api.get(f"/api/v1/referrals/{referral.id}").json()
        assert data["person"]["person_name"] == PERSON and data["content_visible"] is True
    logged = session.exec(
        select(ReferralAccess.role, ReferralAccess.via, ReferralAccess.content_shown).where(
            ReferralAccess.referral_id == referral.id
        )
    ).all()
    assert {("P", "html", True), ("P", "api", True), ("O", "html", True), ("O", "api", True)} <= set(logged)


@pytest.mark.parametrize("who", ["supervisor", "admin"])
def test_supervisor_and_admin_see_statuses_but_no_personal_details(
    people: dict[str, Any], referral: Referral, who: str
) -> None:
    page = people[who].browser.get(f"/referrals/{referral.id}")
    assert page.status_code == 200 and PERSON not in page.text
    data = people[who].api.get(f"/api/v1/referrals/{referral.id}").json()
    assert data["person"] is None and data["status"] == "requested"
    fhir = people[who].api.get(f"/api/v1/referrals/{referral.id}/fhir")
    assert fhir.status_code == 200 and PERSON not in fhir.text


def test_supervisor_dashboard_lists_the_team_without_names(people: dict[str, Any], referral: Referral) -> None:
    page = people["supervisor"].browser.get("/referrals")
    assert page.status_code == 200
    assert str(referral.id) in page.text and PERSON not in page.text


def test_api_needs_a_valid_token(app: Any, referral: Referral) -> None:
    from fastapi.testclient import TestClient

    anonymous = TestClient(app)
    assert anonymous.get(f"/api/v1/referrals/{referral.id}").status_code == 401
    forged = TestClient(app, headers={"Authorization": "Bearer not-a-token"})
    assert forged.get("/api/v1/referrals").status_code == 401


def test_cookie_posts_need_the_csrf_token(people: dict[str, Any], referral: Referral, session: Session) -> None:
    before = snapshot(session, referral.id)
    response = people["member"].post_form(f"/referrals/{referral.id}/actions/accept", csrf=False)
    assert response.status_code == 403
    assert snapshot(session, referral.id) == before
