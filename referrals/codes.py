"""Coded vocabularies of the referral workflow, with plain-language labels. Pure data, no I/O.

Status codes are the FHIR R4 Task status codes. Business statuses and reasons are our own short codes;
forms, the JSON API, the FHIR export and metrics all use these and nothing else (free text goes apart).
Labels are English message ids marked with `N_`; pages translate them in the reader's language, so a code
is never shown as it is stored.
"""

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from core.i18n import N_


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
        "at-capacity": N_("At capacity / no openings"),
        "not-eligible": N_("Person is not eligible"),
        "service-not-offered": N_("We do not offer this service"),
        "language-unavailable": N_("Cannot serve in the person's language"),
        "outside-service-area": N_("Outside our service area"),
        "duplicate": N_("Duplicate referral"),
        "other": N_("Other"),
    }
)
CANCEL_REASONS = _labels(
    {
        "withdrawn-by-referrer": N_("Withdrawn by the referring peer"),
        "person-declined": N_("The person no longer wants this"),
        "need-met-elsewhere": N_("Need met elsewhere"),
        "duplicate": N_("Duplicate referral"),
        "other": N_("Other"),
    }
)
FAIL_REASONS = _labels(
    {
        "unable-to-contact": N_("Unable to contact the person"),
        "person-declined-service": N_("Person declined the service"),
        "no-show": N_("Person did not attend"),
        "not-eligible": N_("Found not eligible"),
        "other": N_("Other"),
    }
)
HOLD_REASONS = _labels(
    {
        "waitlisted": N_("Waitlisted"),
        "person-unavailable": N_("Person temporarily unavailable"),
        "awaiting-documents": N_("Waiting for documents"),
    }
)
OUTCOMES = _labels(
    {
        "service-received": N_("Person received the service"),
        "enrolled": N_("Person enrolled / admitted"),
        "first-appointment-kept": N_("Person attended the first appointment"),
        "connected-elsewhere": N_("Connected to another service instead"),
        "need-resolved": N_("Need resolved"),
        "other": N_("Other"),
    }
)
ERROR_REASONS = _labels(
    {
        "wrong-person": N_("Wrong person or details"),
        "duplicate": N_("Duplicate entry"),
        "test-entry": N_("Test entry"),
        "other": N_("Other"),
    }
)
CONTACT_RESULTS = _labels(
    {
        "reached": N_("Reached the person"),
        "no-answer": N_("No answer"),
        "left-message": N_("Left a message"),
        "wrong-number": N_("Wrong number or address"),
        "declined": N_("Person declined"),
    }
)
HANDOFF_MODES = _labels(
    {
        "three-way-call": N_("Three-way call"),
        "accompanied-visit": N_("Accompanied visit"),
        "introduction": N_("Introduction (in person or by message)"),
    }
)
SYSTEM_REASONS = _labels(
    {
        "expired-no-response": N_("No answer within the response window"),
        "consent-revoked": N_("The person withdrew consent"),
    }
)
STATUS_LABELS = _labels(
    {
        Status.draft: N_("Draft"),
        Status.requested: N_("Waiting for an answer"),
        Status.accepted: N_("Accepted"),
        Status.rejected: N_("Declined"),
        Status.in_progress: N_("In progress"),
        Status.on_hold: N_("On hold"),
        Status.completed: N_("Completed"),
        Status.failed: N_("Closed, not connected"),
        Status.cancelled: N_("Cancelled"),
        Status.entered_in_error: N_("Entered in error"),
    }
)
BUSINESS_STATUS_LABELS = _labels(
    {
        BusinessStatus.viewed: N_("Viewed"),
        BusinessStatus.contact_attempted: N_("Contact attempted"),
        BusinessStatus.appointment_scheduled: N_("Appointment scheduled"),
        BusinessStatus.handoff_completed: N_("Warm handoff completed"),
        BusinessStatus.waitlisted: N_("Waitlisted"),
        BusinessStatus.person_unavailable: N_("Person temporarily unavailable"),
        BusinessStatus.awaiting_documents: N_("Waiting for documents"),
        BusinessStatus.expired_no_response: N_("Expired without an answer"),
        BusinessStatus.consent_revoked: N_("Consent withdrawn"),
    }
)
ROLE_LABELS = _labels(
    {
        Role.peer: N_("Referring peer"),
        Role.organization: N_("Receiving organization"),
        Role.system: N_("System"),
        Role.admin: N_("Network admin"),
    }
)
CHANNEL_LABELS = _labels(
    {
        ContactChannel.phone: N_("Phone call"),
        ContactChannel.text: N_("Text message"),
        ContactChannel.email: N_("E-mail"),
        ContactChannel.in_person: N_("In person"),
    }
)
URGENCY_LABELS = _labels(
    {Urgency.routine: N_("Routine"), Urgency.urgent: N_("Urgent"), Urgency.asap: N_("As soon as possible")}
)
CONSENT_METHOD_LABELS = _labels(
    {
        ConsentMethod.verbal: N_("Verbal"),
        ConsentMethod.written: N_("Written"),
        ConsentMethod.e_signed: N_("Signed electronically"),
    }
)
FOLLOWUP_LABELS = _labels({"72h": N_("After 3 days"), "168h": N_("After 1 week"), "720h": N_("After 30 days")})
# Outcomes and failure reasons that say the appointment already happened (or was missed): refused while
# the scheduled appointment is still ahead.
AFTER_APPOINTMENT = frozenset({"first-appointment-kept", "service-received", "no-show"})
UNABLE_TO_CONTACT = "unable-to-contact"
UNSUCCESSFUL_CONTACT = frozenset({"no-answer", "left-message", "wrong-number"})

ALL_REASONS: Mapping[str, str] = MappingProxyType(
    {**DECLINE_REASONS, **CANCEL_REASONS, **FAIL_REASONS, **HOLD_REASONS, **ERROR_REASONS, **SYSTEM_REASONS}
)
