"""The JSON API with API tokens, its OpenAPI description, and the FHIR R4 export."""

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from core.clock import utcnow
from core.settings import Settings
from referrals.codes import Status
from referrals.fhir import patient_id, task_id
from referrals.models import Referral
from tests.factories import PERSON, World, make_referral

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def body_for(world: World, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "service_id": str(world.service_a.id),
        "person_name": PERSON,
        "contact_channel": "phone",
        "contact_detail": "312-555-0111",
        "need_categories": ["food-pantry"],
        "need_text": "groceries",
        "consent": {
            "scope": "organization",
            "recipient_organization_id": str(world.org_a),
            "fields": ["first_name", "contact", "need"],
            "purpose": "Connect with the pantry",
            "method": "e-signed",
            "expires_at": (utcnow() + timedelta(days=30)).isoformat(),
        },
    }
    body.update(overrides)
    return body


def count(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(Referral)).one())


def test_full_flow_over_the_api(people: dict[str, Any], world: World) -> None:
    peer, member = people["peer"].api, people["member"].api
    created = peer.post("/api/v1/referrals", json=body_for(world))
    assert created.status_code == 201, created.text
    rid = created.json()["id"]
    assert created.json()["status"] == "requested" and created.json()["your_role"] == "P"
    inbox = member.get("/api/v1/referrals", params={"scope": "inbox"}).json()
    assert [r["id"] for r in inbox] == [rid]
    assert "accept" in inbox[0]["allowed_actions"]
    accepted = member.post(f"/api/v1/referrals/{rid}/actions/accept", json={"version": inbox[0]["version"]})
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    again = member.post(f"/api/v1/referrals/{rid}/actions/accept", json={})
    assert again.status_code == 409 and again.json()["error"] == "Conflict"
    assert (
        member.post(
            f"/api/v1/referrals/{rid}/actions/log-contact", json={"channel": "phone", "result": "reached"}
        ).status_code
        == 200
    )
    assert (
        member.post(f"/api/v1/referrals/{rid}/actions/handoff", json={"handoff_mode": "three-way-call"}).status_code
        == 200
    )
    incomplete = member.post(f"/api/v1/referrals/{rid}/actions/complete", json={})
    assert incomplete.status_code == 422 and "outcome_code" in incomplete.json()["errors"]
    done = member.post(f"/api/v1/referrals/{rid}/actions/complete", json={"outcome_code": "service-received"})
    assert done.json()["status"] == "completed" and done.json()["outcome_code"] == "service-received"
    events = peer.get(f"/api/v1/referrals/{rid}/events").json()
    assert [e["action"] for e in events] == ["create", "submit", "accept", "log-contact", "handoff", "complete"]
    assert all(len(e["hash"]) == 64 for e in events)
    note = member.post(f"/api/v1/referrals/{rid}/notes", json={"body": "Met at the pantry"})
    assert note.status_code == 201 and note.json()["author_role"] == "O"


def test_bad_consent_over_the_api_is_422_and_writes_nothing(
    people: dict[str, Any], world: World, session: Session
) -> None:
    before = count(session)
    other_org = body_for(world)
    other_org["consent"]["recipient_organization_id"] = str(world.org_b)
    expired = body_for(world)
    expired["consent"]["expires_at"] = (utcnow() - timedelta(hours=1)).isoformat()
    for body in (body_for(world, consent=None), other_org, expired):
        response = people["peer"].api.post("/api/v1/referrals", json=body)
        assert response.status_code == 422 and "consent" in response.json()["errors"], response.text
    malformed = people["peer"].api.post("/api/v1/referrals", json=body_for(world, contact_channel="carrier-pigeon"))
    assert malformed.status_code == 422
    assert count(session) == before


def test_invalid_transition_and_forbidden_role_are_json(
    people: dict[str, Any], world: World, session: Session, settings: Settings
) -> None:
    referral = make_referral(session, world, settings, Status.completed)
    reopen = people["member"].api.post(f"/api/v1/referrals/{referral.id}/actions/accept", json={})
    assert reopen.status_code == 409 and "completed" in reopen.json()["detail"]
    requested = make_referral(session, world, settings, Status.requested)
    by_peer = people["peer"].api.post(f"/api/v1/referrals/{requested.id}/actions/accept", json={})
    assert by_peer.status_code == 403
    unknown_action = people["member"].api.post(f"/api/v1/referrals/{requested.id}/actions/reopen", json={})
    assert unknown_action.status_code == 422


def test_open_referral_preview_and_claim_over_the_api(
    people: dict[str, Any], world: World, session: Session, settings: Settings
) -> None:
    referral = make_referral(session, world, settings, Status.requested, is_open=True)
    offered = people["member"].api.get("/api/v1/referrals", params={"scope": "inbox"}).json()
    assert [(r["id"], r["person"], r["allowed_actions"]) for r in offered] == [(str(referral.id), None, ["claim"])]
    claimed = people["member"].api.post(f"/api/v1/referrals/{referral.id}/actions/claim", json={})
    assert claimed.status_code == 200
    assert claimed.json()["person"]["person_name"] == PERSON
    assert claimed.json()["recipient_organization_id"] == str(world.org_a)


def test_openapi_describes_the_referral_api(app: Any) -> None:
    from fastapi.testclient import TestClient

    spec = TestClient(app).get("/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/api/v1/referrals",
        "/api/v1/referrals/{referral_id}",
        "/api/v1/referrals/{referral_id}/actions/{action}",
        "/api/v1/referrals/{referral_id}/fhir",
        "/api/v1/referrals/{referral_id}/events",
        "/api/v1/referrals/{referral_id}/consent/revoke",
        "/api/v1/referrals/metrics",
        "/api/v1/referrals/notifications",
    ):
        assert path in paths, path
    schemas = spec["components"]["schemas"]
    assert {"ReferralCreate", "ConsentIn", "ActionIn", "ReferralPublic", "EventPublic"} <= set(schemas)
    actions = next(
        p
        for p in paths["/api/v1/referrals/{referral_id}/actions/{action}"]["post"]["parameters"]
        if p["name"] == "action"
    )
    enum = (
        schemas[actions["schema"]["$ref"].split("/")[-1]]["enum"]
        if "$ref" in actions["schema"]
        else actions["schema"]["enum"]
    )
    assert {"accept", "decline", "claim", "complete", "fail", "log-contact", "handoff"} <= set(enum)
    assert not any(p.startswith("/referrals") for p in paths)  # HTML pages stay out of the API description


def test_fhir_bundle_has_service_request_and_task(
    people: dict[str, Any], world: World, session: Session, settings: Settings
) -> None:
    referral = make_referral(session, world, settings, Status.in_progress)
    response = people["member"].api.get(f"/api/v1/referrals/{referral.id}/fhir")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/fhir+json")
    bundle = response.json()
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    resources = {e["resource"]["resourceType"]: e["resource"] for e in bundle["entry"]}
    assert {"ServiceRequest", "Task", "Patient", "Practitioner", "Organization", "Consent"} <= set(resources)
    for entry in bundle["entry"]:
        assert entry["fullUrl"].endswith(f"/{entry['resource']['resourceType']}/{entry['resource']['id']}")
    sr, task = resources["ServiceRequest"], resources["Task"]
    assert sr["id"] == str(referral.id) and sr["status"] == "active" and sr["intent"] == "order"
    assert sr["code"]["coding"][0]["code"] == "food-pantry" and sr["priority"] == "urgent"
    assert sr["category"][0]["coding"][0]["code"] == "sdoh"
    assert task["id"] == str(task_id(referral)) and task["status"] == "in-progress" and task["intent"] == "order"
    assert task["focus"] == {"reference": f"ServiceRequest/{referral.id}"}
    assert task["owner"] == {"reference": f"Organization/{world.org_a}"}
    assert task["requester"] == {"reference": f"Practitioner/{world.peer.id}"}
    assert task["for"] == {"reference": f"Patient/{patient_id(referral)}"}
    assert task["code"]["coding"][0]["code"] == "fulfill"
    assert resources["Patient"]["name"] == [{"given": [PERSON]}]
    assert resources["Consent"]["status"] == "active"


def test_fhir_task_carries_business_status_reason_and_outcome(
    people: dict[str, Any], world: World, session: Session, settings: Settings
) -> None:
    declined = make_referral(session, world, settings, Status.rejected)
    task = next(
        e["resource"]
        for e in people["peer"].api.get(f"/api/v1/referrals/{declined.id}/fhir").json()["entry"]
        if e["resource"]["resourceType"] == "Task"
    )
    assert task["status"] == "rejected" and task["statusReason"]["coding"][0]["code"] == "not-eligible"
    done = make_referral(session, world, settings, Status.completed)
    resources = people["peer"].api.get(f"/api/v1/referrals/{done.id}/fhir").json()["entry"]
    task = next(e["resource"] for e in resources if e["resource"]["resourceType"] == "Task")
    assert task["output"][0]["valueCodeableConcept"]["coding"][0]["code"] == "service-received"
    sr = next(e["resource"] for e in resources if e["resource"]["resourceType"] == "ServiceRequest")
    assert sr["status"] == "completed"


def test_audit_verification_is_for_network_admins(
    people: dict[str, Any], world: World, session: Session, settings: Settings
) -> None:
    make_referral(session, world, settings, Status.completed)
    assert people["peer"].api.get("/api/v1/referrals/audit/verify").status_code == 403
    report = people["admin"].api.get("/api/v1/referrals/audit/verify").json()
    assert report["ok"] is True and report["checked"] == 4


def test_notifications_json(people: dict[str, Any], world: World, session: Session, settings: Settings) -> None:
    make_referral(session, world, settings, Status.requested)
    items = people["member"].api.get("/api/v1/referrals/notifications").json()
    assert [(n["kind"], n["read"]) for n in items] == [("new", False)]
    assert people["member"].api.post("/api/v1/referrals/notifications/read").status_code == 204
    assert people["member"].api.get("/api/v1/referrals/notifications").json()[0]["read"] is True
    assert str(uuid.UUID(items[0]["referral_id"]))


@pytest.mark.parametrize("status", [Status.requested, Status.in_progress, Status.rejected, Status.completed])
def test_fhir_bundle_is_valid_fhir_r4(
    people: dict[str, Any], world: World, session: Session, settings: Settings, status: Status
) -> None:
    """An independent FHIR implementation (fhir.resources, R4B models: R4's Bundle, Task, ServiceRequest,
    Consent, Patient, Practitioner and Organization) accepts every resource of the export."""
    from fhir.resources.R4B.bundle import Bundle

    referral = make_referral(session, world, settings, status)
    body = people["member"].api.get(f"/api/v1/referrals/{referral.id}/fhir").json()
    bundle = Bundle.model_validate(body)
    kinds = {entry.resource.get_resource_type() for entry in bundle.entry or [] if entry.resource is not None}
    assert {"ServiceRequest", "Task", "Patient", "Practitioner", "Organization", "Consent"} <= kinds
