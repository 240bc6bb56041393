"""Coded vocabularies of the referral workflow, with plain-language labels. Pure data, no I/O.

Status codes are the FHIR R4 Task status codes. Business statuses and reasons are our own short codes;
forms, the JSON API, the FHIR export and metrics all use these and nothing else (free text goes apart).
"""

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType


class Status(StrEnum):
    draft = "draft"
    requested = "requested"
    accepted = "accepted"
    rejected = "rejected"
    in_progress = "in-progress"
    on_hold = "on-hold"
    completed = "completed"
    failed = "failed"
    cancelled = "cancelled"
    entered_in_error = "entered-in-error"


TERMINAL: frozenset[Status] = frozenset(
    {Status.rejected, Status.completed, Status.failed, Status.cancelled, Status.entered_in_error}
)
OPEN_STATUSES: frozenset[Status] = frozenset(Status) - TERMINAL  # still "live" (consent revocation cancels these)
ACTIVE_STATUSES: frozenset[Status] = frozenset({Status.accepted, Status.in_progress, Status.on_hold})


class BusinessStatus(StrEnum):
    viewed = "viewed"
    contact_attempted = "contact-attempted"
    appointment_scheduled = "appointment-scheduled"
    handoff_completed = "handoff-completed"
    waitlisted = "waitlisted"
    person_unavailable = "person-unavailable"
    awaiting_documents = "awaiting-documents"
    expired_no_response = "expired-no-response"
    consent_revoked = "consent-revoked"


class Role(StrEnum):
    """Who acts: the referring peer, a member of the receiving organization, the system, a network admin."""

    peer = "P"
    organization = "O"
    system = "SYS"
    admin = "admin"


class ContactChannel(StrEnum):
    phone = "phone"
    text = "text"
    email = "email"
    in_person = "in-person"


class Urgency(StrEnum):
    """FHIR ServiceRequest.priority codes we use."""

    routine = "routine"
    urgent = "urgent"
    asap = "asap"


class ConsentMethod(StrEnum):
    verbal = "verbal"
    written = "written"
    e_signed = "e-signed"


class SharedField(StrEnum):
    """The pieces of a referral a consent can cover."""

    first_name = "first_name"
    contact = "contact"
    language = "language"
    need = "need"


class ConsentScope(StrEnum):
    organization = "organization"  # one named receiving organization
    open = "open"  # any participating organization offering the category in the area (open referral)


def _labels(pairs: dict[str, str]) -> Mapping[str, str]:
    return MappingProxyType(pairs)


DECLINE_REASONS = _labels(
    {
        "at-capacity": "At capacity / no openings",
        "not-eligible": "Person is not eligible",
        "service-not-offered": "We do not offer this service",
        "language-unavailable": "Cannot serve in the person's language",
        "outside-service-area": "Outside our service area",
        "duplicate": "Duplicate referral",
        "other": "Other",
    }
)
CANCEL_REASONS = _labels(
    {
        "withdrawn-by-referrer": "Withdrawn by the referring peer",
        "person-declined": "The person no longer wants this",
        "need-met-elsewhere": "Need met elsewhere",
        "duplicate": "Duplicate referral",
        "other": "Other",
    }
)
FAIL_REASONS = _labels(
    {
        "unable-to-contact": "Unable to contact the person",
        "person-declined-service": "Person declined the service",
        "no-show": "Person did not attend",
        "not-eligible": "Found not eligible",
        "other": "Other",
    }
)
HOLD_REASONS = _labels(
    {
        "waitlisted": "Waitlisted",
        "person-unavailable": "Person temporarily unavailable",
        "awaiting-documents": "Waiting for documents",
    }
)
OUTCOMES = _labels(
    {
        "service-received": "Person received the service",
        "enrolled": "Person enrolled / admitted",
        "first-appointment-kept": "Person attended the first appointment",
        "connected-elsewhere": "Connected to another service instead",
        "need-resolved": "Need resolved",
        "other": "Other",
    }
)
ERROR_REASONS = _labels(
    {
        "wrong-person": "Wrong person or details",
        "duplicate": "Duplicate entry",
        "test-entry": "Test entry",
        "other": "Other",
    }
)
CONTACT_RESULTS = _labels(
    {
        "reached": "Reached the person",
        "no-answer": "No answer",
        "left-message": "Left a message",
        "wrong-number": "Wrong number or address",
        "declined": "Person declined",
    }
)
HANDOFF_MODES = _labels(
    {
        "three-way-call": "Three-way call",
        "accompanied-visit": "Accompanied visit",
        "introduction": "Introduction (in person or by message)",
    }
)
SYSTEM_REASONS = _labels(
    {
        "expired-no-response": "No answer within the response window",
        "consent-revoked": "The person withdrew consent",
    }
)
# Outcomes and failure reasons that say the appointment already happened (or was missed): refused while
# the scheduled appointment is still ahead.
AFTER_APPOINTMENT = frozenset({"first-appointment-kept", "service-received", "no-show"})
UNABLE_TO_CONTACT = "unable-to-contact"
UNSUCCESSFUL_CONTACT = frozenset({"no-answer", "left-message", "wrong-number"})

ALL_REASONS: Mapping[str, str] = MappingProxyType(
    {**DECLINE_REASONS, **CANCEL_REASONS, **FAIL_REASONS, **HOLD_REASONS, **ERROR_REASONS, **SYSTEM_REASONS}
)
