"""The HTML pages: every page and fragment renders, forms work without JavaScript (POST -> 303 -> GET), and
validation errors re-render the form with field messages and write nothing."""

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from core.clock import utcnow
from core.outbox import OutboxEvent
from core.settings import Settings
from directory.listings.models import Service
from referrals.codes import Status
from referrals.models import Referral, ReferralNote
from tests.factories import NOW, PERSON, World, make_referral
from tests.html import parse

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def form_for(world: World, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "target": "listing",
        "person_name": PERSON,
        "contact_channel": "text",
        "contact_detail": "312-555-0101",
        "contact_time": "evenings",
        "language": "es",
        "need_categories": ["food-pantry"],
        "need_text": "groceries",
        "urgency": "routine",
        "consent_given": "1",
        "consent_fields": ["first_name", "contact", "language", "need"],
        "consent_purpose": "Connect with the pantry",
        "consent_method": "written",
        "consent_expires": (NOW + timedelta(days=60)).date().isoformat(),
    }
    data.update(overrides)
    return data


def count(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(Referral)).one())


def test_listing_page_links_to_the_referral_form(people: dict[str, Any], world: World) -> None:
    page = parse(people["peer"].browser.get(f"/services/{world.service_a.id}").text)
    assert page.find("a", data_refer=True).attrs["href"] == f"/services/{world.service_a.id}/refer"


def test_the_form_shows_the_listing_categories_and_the_reminder(people: dict[str, Any], world: World) -> None:
    response = people["peer"].browser.get(f"/services/{world.service_a.id}/refer")
    assert response.status_code == 200 and response.headers["vary"].startswith("HX-Request")
    page = parse(response.text)
    assert {e.attrs["value"] for e in page.find_all("input", name="need_categories")} == {"food-pantry", "free-meals"}
    assert "diagnoses" in page.text_of("p", role="note")
    fragment = people["peer"].browser.get(f"/services/{world.service_a.id}/refer", headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and 'id="referral-form"' in fragment.text


def test_only_peers_get_the_form(people: dict[str, Any], world: World) -> None:
    assert people["member"].browser.get(f"/services/{world.service_a.id}/refer").status_code == 403


def test_sending_from_the_form_redirects_to_the_referral(
    people: dict[str, Any], world: World, session: Session
) -> None:
    response = people["peer"].post_form(f"/services/{world.service_a.id}/refer", form_for(world))
    assert response.status_code == 303
    detail = people["peer"].browser.get(response.headers["location"])
    page = parse(detail.text)
    assert page.text_of(id="referral-status") == "Waiting for an answer"
    assert page.text_of(id="person-name") == PERSON


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"consent_given": ""}, "consent"),
        ({"consent_expires": (utcnow() - timedelta(days=2)).date().isoformat()}, "consent"),  # pages use the real clock
        ({"consent_fields": ["first_name"]}, "consent"),
        ({"person_name": ""}, "person_name"),
        ({"need_categories": ["methadone"]}, "need_categories"),
    ],
    ids=["no-consent", "expired-consent", "fields-not-covered", "no-name", "category-not-offered"],
)
def test_form_errors_rerender_with_messages_and_write_nothing(
    people: dict[str, Any], world: World, session: Session, overrides: dict, field: str
) -> None:
    before = count(session)
    response = people["peer"].post_form(f"/services/{world.service_a.id}/refer", form_for(world, **overrides))
    assert response.status_code == 422
    page = parse(response.text)
    assert page.find("form", id="referral-form")
    assert field in page.text_of("ul", class_="field-errors")
    assert page.find("input", name="person_name").attrs.get("value") == overrides.get("person_name", PERSON)
    assert count(session) == before


def test_inbox_accept_contact_and_outcome_through_forms(
    people: dict[str, Any], world: World, session: Session, settings: Settings
) -> None:
    referral = make_referral(session, world, settings, Status.requested)
    member = people["member"]
    inbox = parse(member.browser.get("/referrals/inbox").text)
    assert inbox.find("tr", data_referral_id=str(referral.id))
    assert member.browser.get("/referrals/inbox", headers={"HX-Request": "true"}).text.lstrip().startswith("<section")
    detail = parse(member.browser.get(f"/referrals/{referral.id}").text)
    version = detail.find("article", id="referral").attrs["data-version"]
    assert member.post_form(f"/referrals/{referral.id}/actions/accept", {"version": version}).status_code == 303
    for result in ("no-answer", "reached"):
        assert (
            member.post_form(
                f"/referrals/{referral.id}/actions/log-contact", {"channel": "phone", "result": result}
            ).status_code
            == 303
        )
    missing = member.post_form(f"/referrals/{referral.id}/actions/complete", {})
    assert missing.status_code == 422 and "outcome" in parse(missing.text).text_of("p", class_="field-error")
    done = member.post_form(f"/referrals/{referral.id}/actions/complete", {"outcome_code": "enrolled"})
    assert done.status_code == 303
    page = parse(member.browser.get(f"/referrals/{referral.id}").text)
    assert page.text_of(id="referral-status") == "Completed"
    assert len(page.find("ul", id="contact-attempts").text.strip().splitlines()) >= 1
    assert "Person enrolled" in page.text_of(id="referral-outcome")
    stale = member.post_form(f"/referrals/{referral.id}/actions/accept", {"version": version})
    assert stale.status_code == 409


def test_detail_fragment_for_htmx(people: dict[str, Any], world: World, session: Session, settings: Settings) -> None:
    referral = make_referral(session, world, settings, Status.requested)
    fragment = people["peer"].browser.get(f"/referrals/{referral.id}", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert parse(fragment.text).find("article", id="referral")


def test_declining_at_capacity_offers_to_mark_the_listing_full(
    people: dict[str, Any], world: World, session: Session, settings: Settings
) -> None:
    referral = make_referral(session, world, settings, Status.requested)
    from accounts.models import Membership

    membership = session.exec(select(Membership).where(Membership.user_id == world.member.id)).one()
    membership.trusted = True
    session.add(membership)
    session.commit()
    member = people["member"]
    assert (
        member.post_form(f"/referrals/{referral.id}/actions/decline", {"reason_code": "at-capacity"}).status_code == 303
    )
    page = parse(member.browser.get(f"/referrals/{referral.id}").text)
    form = page.find("form", action=f"/referrals/{referral.id}/capacity-full")
    assert form
    outbox_before = int(session.exec(select(func.count()).select_from(OutboxEvent)).one())
    assert member.post_form(f"/referrals/{referral.id}/capacity-full").status_code == 303
    session.expire_all()
    assert session.get(Service, world.service_a.id).capacity == "full"  # type: ignore[union-attr]
    assert int(session.exec(select(func.count()).select_from(OutboxEvent)).one()) == outbox_before + 1


def test_notes_and_dashboard(people: dict[str, Any], world: World, session: Session, settings: Settings) -> None:
    referral = make_referral(session, world, settings, Status.accepted)
    peer = people["peer"]
    assert peer.post_form(f"/referrals/{referral.id}/notes", {"body": "Call after 5pm"}).status_code == 303
    assert peer.post_form(f"/referrals/{referral.id}/notes", {"body": ""}).status_code == 422
    assert [n.body for n in session.exec(select(ReferralNote))] == ["Call after 5pm"]
    board = peer.browser.get("/referrals")
    assert board.status_code == 200 and PERSON in board.text
    fragment = peer.browser.get("/referrals", headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and 'id="referral-dashboard"' in fragment.text


def test_notifications_page_badge_and_mark_read(
    people: dict[str, Any], world: World, session: Session, settings: Settings
) -> None:
    make_referral(session, world, settings, Status.requested)
    member = people["member"]
    badge = parse(member.browser.get("/referrals/notifications/badge").text)
    assert badge.find("span", id="notification-badge").attrs["data-unread"] == "1"
    page = member.browser.get("/referrals/notifications")
    assert page.status_code == 200 and "A new referral was sent to your organization." in page.text
    assert PERSON not in page.text
    assert member.post_form("/referrals/notifications/read").status_code == 303
    badge = parse(member.browser.get("/referrals/notifications/badge").text)
    assert badge.find("span", id="notification-badge").attrs["data-unread"] == "0"


def test_peer_revokes_consent_from_the_page(
    people: dict[str, Any], world: World, session: Session, settings: Settings
) -> None:
    referral = make_referral(session, world, settings, Status.accepted)
    assert people["peer"].post_form(f"/referrals/{referral.id}/consent/revoke").status_code == 303
    page = parse(people["member"].browser.get(f"/referrals/{referral.id}").text)
    assert page.text_of(id="referral-status") == "Cancelled"
    assert page.find("p", id="hidden-note") and PERSON not in page.html
