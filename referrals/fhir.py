"""FHIR R4 export of one referral: a collection Bundle with ServiceRequest + Task (SDOH Clinical Care IG style),
the Consent it was sent under, and the Patient, Practitioner and Organization they reference.

The Task carries the workflow: `status` uses our status codes (they are the FHIR Task codes),
`businessStatus`/`statusReason` our coded sub-states and reasons, `focus` the ServiceRequest, `requester`
the referring peer (Practitioner) and `owner` the receiving Organization. The Patient holds only the
first name or alias, and only when the caller may see personal content.
"""

import uuid
from datetime import datetime
from typing import Any

from accounts.models import User
from directory.listings.models import Organization
from directory.listings.taxonomy import CATEGORY_CODES, term
from referrals import codes
from referrals.access import Viewer
from referrals.codes import Status
from referrals.db import as_utc, opt_utc
from referrals.models import Referral, ReferralConsent

SDOHCC = "http://hl7.org/fhir/us/sdoh-clinicalcare/StructureDefinition"
SYSTEM_CATEGORY = "urn:community-directory:category"
SYSTEM_BUSINESS_STATUS = "urn:community-directory:referral-business-status"
SYSTEM_REASON = "urn:community-directory:referral-reason"
SYSTEM_OUTCOME = "urn:community-directory:referral-outcome"
_SR_STATUS = {
    Status.draft: "draft",
    Status.requested: "active",
    Status.accepted: "active",
    Status.in_progress: "active",
    Status.on_hold: "on-hold",
    Status.completed: "completed",
    Status.rejected: "revoked",
    Status.failed: "revoked",
    Status.cancelled: "revoked",
    Status.entered_in_error: "entered-in-error",
}


def _instant(value: datetime | None) -> str | None:
    return as_utc(value).isoformat().replace("+00:00", "Z") if value else None


def _ref(kind: str, ident: uuid.UUID | None, display: str | None = None) -> dict[str, str] | None:
    if ident is None:
        return None
    ref = {"reference": f"{kind}/{ident}"}
    return ref | {"display": display} if display else ref


def _concept(system: str, code: str | None, display: str | None = None) -> dict[str, Any] | None:
    if not code:
        return None
    coding = {"system": system, "code": code} | ({"display": display} if display else {})
    return {"coding": [coding], "text": display or code}


def _clean(resource: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in resource.items() if v not in (None, [], {})}


def task_id(referral: Referral) -> uuid.UUID:
    return uuid.uuid5(referral.id, "task")


def patient_id(referral: Referral) -> uuid.UUID:
    return uuid.uuid5(referral.id, "patient")


def service_request(
    referral: Referral, viewer: Viewer, consent: ReferralConsent | None, appointment: datetime | None = None
) -> dict[str, Any]:
    """`appointment` is in the referral's own zone: FHIR dateTime keeps its offset (17:30-06:00), as people
    at the receiving organization agreed it."""
    concepts = [
        {"coding": [{"system": SYSTEM_CATEGORY, "code": c, "display": term(c).name}], "text": term(c).name}
        for c in referral.need_categories
        if c in CATEGORY_CODES
    ]
    return _clean(
        {
            "resourceType": "ServiceRequest",
            "id": str(referral.id),
            "meta": {"profile": [f"{SDOHCC}/SDOHCC-ServiceRequest"]},
            "status": _SR_STATUS[Status(referral.status)],
            "intent": "order",
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://hl7.org/fhir/us/core/CodeSystem/us-core-category",
                            "code": "sdoh",
                            "display": "SDOH",
                        }
                    ]
                }
            ],
            "code": concepts[0] if concepts else None,
            "orderDetail": concepts[1:],
            "priority": referral.urgency,
            "subject": _ref("Patient", patient_id(referral)),
            "occurrenceDateTime": appointment.isoformat() if appointment else None,
            "authoredOn": _instant(referral.requested_at or referral.created_at),
            "requester": _ref("Practitioner", referral.creator_id),
            "performer": [_ref("Organization", referral.recipient_organization_id)]
            if referral.recipient_organization_id
            else [],
            "replaces": [_ref("ServiceRequest", referral.previous_referral_id)]
            if referral.previous_referral_id
            else [],
            "supportingInfo": [_ref("Consent", consent.id)] if consent else [],
            "note": [{"text": referral.need_text}] if viewer.content_visible and referral.need_text else [],
        }
    )


def task(referral: Referral) -> dict[str, Any]:
    reason = referral.status_reason_code
    outcome = _concept(SYSTEM_OUTCOME, referral.outcome_code, codes.OUTCOMES.get(referral.outcome_code or ""))
    return _clean(
        {
            "resourceType": "Task",
            "id": str(task_id(referral)),
            "meta": {"profile": [f"{SDOHCC}/SDOHCC-TaskForReferralManagement"]},
            "status": referral.status,
            "businessStatus": _concept(SYSTEM_BUSINESS_STATUS, referral.business_status),
            "statusReason": _concept(SYSTEM_REASON, reason, codes.ALL_REASONS.get(reason or "")),
            "intent": "order",
            "priority": referral.urgency,
            "code": {
                "coding": [
                    {
                        "system": "http://hl7.org/fhir/CodeSystem/task-code",
                        "code": "fulfill",
                        "display": "Fulfill the focal request",
                    }
                ]
            },
            "focus": _ref("ServiceRequest", referral.id),
            "for": _ref("Patient", patient_id(referral)),
            "authoredOn": _instant(referral.requested_at or referral.created_at),
            "lastModified": _instant(referral.updated_at),
            "requester": _ref("Practitioner", referral.creator_id),
            "owner": _ref("Organization", referral.recipient_organization_id),
            "executionPeriod": _clean({"start": _instant(referral.accepted_at), "end": _instant(referral.closed_at)}),
            "output": [{"type": {"text": "outcome"}, "valueCodeableConcept": outcome}] if outcome else [],
        }
    )


def consent_resource(referral: Referral, consent: ReferralConsent) -> dict[str, Any]:
    status = "inactive" if consent.revoked_at else "active"
    recipient = _ref("Organization", consent.recipient_organization_id)
    role = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP"}]}
    actor = [{"role": role, "reference": recipient}] if recipient else []
    return _clean(
        {
            "resourceType": "Consent",
            "id": str(consent.id),
            "status": status,
            "scope": {
                "coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]
            },
            "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0", "display": "Patient Consent"}]}],
            "patient": _ref("Patient", patient_id(referral)),
            "dateTime": _instant(consent.given_at),
            "performer": [_ref("Patient", patient_id(referral))],
            "sourceAttachment": {"title": f"{consent.method} consent recorded by the referring peer"},
            "policy": [{"uri": "urn:community-directory:consent-scope:" + consent.scope}],
            "provision": _clean(
                {
                    "type": "permit",
                    "period": {"end": _instant(consent.expires_at)},
                    "actor": actor,
                    "purpose": [{"display": consent.purpose}],
                    "data": [],
                }
            ),
        }
    )


def bundle(
    *,
    referral: Referral,
    viewer: Viewer,
    consent: ReferralConsent | None,
    creator: User | None,
    recipient: Organization | None,
    base_url: str,
    now: datetime,
    appointment: datetime | None = None,
) -> dict[str, Any]:
    patient = _clean(
        {
            "resourceType": "Patient",
            "id": str(patient_id(referral)),
            "name": [{"given": [referral.person_name]}] if viewer.content_visible and referral.person_name else [],
        }
    )
    resources = [service_request(referral, viewer, consent, appointment), task(referral), patient]
    if creator is not None:
        resources.append(
            {
                "resourceType": "Practitioner",
                "id": str(creator.id),
                "name": [{"text": creator.display_name or "Peer support specialist"}],
            }
        )
    if recipient is not None:
        resources.append({"resourceType": "Organization", "id": str(recipient.id), "name": recipient.name})
    if consent is not None:
        resources.append(consent_resource(referral, consent))
    root = base_url.rstrip("/") + "/fhir"
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid5(referral.id, f"bundle:{referral.version}")),
        "type": "collection",
        "timestamp": _instant(now),
        "meta": {"lastUpdated": _instant(opt_utc(referral.updated_at))},
        "entry": [{"fullUrl": f"{root}/{r['resourceType']}/{r['id']}", "resource": r} for r in resources],
    }
