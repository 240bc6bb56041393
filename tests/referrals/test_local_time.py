"""Referral times as people read them: in the zone of the listing (Chicago for `service_a`), with the zone
shown. An appointment typed as 17:30 reads back as 17:30 CST on every page, in the e-mail and in the FHIR
export; a chosen consent day stays that day; "attended" is refused before the appointment."""

import json
from typing import Any

import pytest
from sqlmodel import Session, select

from core.settings import Settings
from referrals.codes import Status
from referrals.models import ReferralEvent
from tests.factories import CONTACT, NEED, PERSON, World, make_referral
from tests.html import parse
from tests.referrals.conftest import mail_texts, snapshot

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

TYPED = "2031-01-14T17:30"  # a Tuesday in January: Central Standard Time, UTC-6
READ = "2031-01-14 17:30 CST"


def _schedule(people: dict[str, Any], referral_id: Any, when: str) -> int:
    response = people["member"].post_form(f"/referrals/{referral_id}/actions/schedule", {"appointment_at": when})
    return response.status_code


def test_an_appointment_typed_in_chicago_reads_back_in_chicago_time_everywhere(
    people: dict[str, Any], world: World, session: Session, settings: Settings
) -> None:
    referral = make_referral(session, world, settings, Status.accepted)
    form = parse(people["member"].browser.get(f"/referrals/{referral.id}").text)
    label = form.text_of("label", for_="schedule-when")
    assert "America/Chicago" in label and "UTC" not in label

    assert _schedule(people, referral.id, TYPED) == 303

    stored = session.exec(
        select(ReferralEvent.data).where(ReferralEvent.referral_id == referral.id, ReferralEvent.action == "schedule")
    ).one()
    assert stored["appointment_at"] == "2031-01-14T23:30:00+00:00"  # 17:30 in Chicago, stored as the instant
    for who in ("member", "peer"):
        page = parse(people[who].browser.get(f"/referrals/{referral.id}").text)
        assert page.text_of(id="referral-appointment") == READ
    inbox = parse(people["member"].browser.get("/referrals/inbox").text)
    assert READ in inbox.find("tr", data_referral_id=str(referral.id)).text
    dashboard = parse(people["peer"].browser.get("/referrals").text)
    assert READ in dashboard.find("tr", data_referral_id=str(referral.id)).text

    told = [m for m in mail_texts(settings) if "appointment was scheduled" in m]
    assert len(told) == 1 and f"When: {READ}" in told[0]
    assert not any(secret in told[0] for secret in (PERSON, NEED, CONTACT))

    bundle = json.loads(people["peer"].api.get(f"/api/v1/referrals/{referral.id}/fhir").text)
    request = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "ServiceRequest")
    assert request["occurrenceDateTime"] == "2031-01-14T17:30:00-06:00"


@pytest.mark.parametrize(
    ("action", "field", "code"),
    [("complete", "outcome_code", "first-appointment-kept"), ("complete", "outcome_code", "service-received"),
     ("fail", "reason_code", "no-show")],
)  # fmt: skip
def test_an_outcome_about_the_appointment_is_refused_before_it(
    people: dict[str, Any], world: World, session: Session, settings: Settings, action: str, field: str, code: str
) -> None:
    referral = make_referral(session, world, settings, Status.accepted)
    assert _schedule(people, referral.id, TYPED) == 303
    before = snapshot(session, referral.id)
    refused = people["member"].post_form(f"/referrals/{referral.id}/actions/{action}", {field: code})
    assert refused.status_code == 422
    assert READ in parse(refused.text).text_of("p", class_="field-error")
    assert snapshot(session, referral.id) == before
    api = people["member"].api.post(f"/api/v1/referrals/{referral.id}/actions/{action}", json={field: code})
    assert api.status_code == 422 and READ in api.json()["detail"]


def test_an_outcome_about_a_past_appointment_is_recorded(
    people: dict[str, Any], world: World, session: Session, settings: Settings
) -> None:
    referral = make_referral(session, world, settings, Status.accepted)
    assert _schedule(people, referral.id, "2026-01-13T09:00") == 303
    done = people["member"].post_form(
        f"/referrals/{referral.id}/actions/complete", {"outcome_code": "first-appointment-kept"}
    )
    assert done.status_code == 303
    page = parse(people["member"].browser.get(f"/referrals/{referral.id}").text)
    assert page.text_of(id="referral-status") == "Completed"
    assert page.text_of(id="referral-appointment") == "2026-01-13 09:00 CST"


@pytest.mark.parametrize("listing", ["service_a", "service_b"])  # Chicago and New York
def test_a_chosen_consent_day_reads_back_as_that_day(
    people: dict[str, Any], world: World, session: Session, listing: str
) -> None:
    service = getattr(world, listing)
    form = {
        "target": "listing",
        "person_name": PERSON,
        "contact_channel": "phone",
        "contact_detail": CONTACT,
        "consent_given": "1",
        "consent_fields": ["first_name", "contact"],
        "consent_purpose": "Connect",
        "consent_method": "verbal",
        "consent_expires": "2027-03-06",
    }
    category = "food-pantry" if listing == "service_a" else "food-bank"
    created = people["peer"].post_form(f"/services/{service.id}/refer", form | {"need_categories": [category]})
    assert created.status_code == 303, created.text
    page = parse(people["peer"].browser.get(created.headers["location"]).text)
    consent = page.find("section", aria_labelledby="consent-title")
    assert "Valid until 2027-03-06" in " ".join(consent.text.split())


def test_list_times_carry_the_zone(people: dict[str, Any], world: World, session: Session, settings: Settings) -> None:
    referral = make_referral(session, world, settings, Status.requested)  # sent 2030-03-04 15:00 UTC
    inbox = parse(people["member"].browser.get("/referrals/inbox").text)
    assert "2030-03-04 09:00 CST" in inbox.find("tr", data_referral_id=str(referral.id)).text
    history = parse(people["member"].browser.get(f"/referrals/{referral.id}").text).find("table", id="history")
    assert "2030-03-04 09:00 CST" in history.text and "UTC" not in history.text


@pytest.mark.parametrize(
    ("given", "stored"),
    [("2031-01-14T17:30:00", "2031-01-14T23:30:00+00:00"), ("2031-01-14T17:30:00Z", "2031-01-14T17:30:00+00:00")],
    ids=["wall-clock-is-local", "offset-is-kept"],
)
def test_the_api_reads_a_time_without_offset_as_the_listings_local_time(
    people: dict[str, Any], world: World, session: Session, settings: Settings, given: str, stored: str
) -> None:
    referral = make_referral(session, world, settings, Status.accepted)
    response = people["member"].api.post(
        f"/api/v1/referrals/{referral.id}/actions/schedule", json={"appointment_at": given}
    )
    assert response.status_code == 200, response.text
    data = session.exec(
        select(ReferralEvent.data).where(ReferralEvent.referral_id == referral.id, ReferralEvent.action == "schedule")
    ).one()
    assert data["appointment_at"] == stored
