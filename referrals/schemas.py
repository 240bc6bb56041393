"""Input and output shapes of the referral API and forms (pydantic; they also document the OpenAPI)."""

import uuid
from datetime import datetime
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.clock import StoredTime
from core.i18n import N_
from core.inputs import Instant, TextInput
from directory.listings.taxonomy import CATEGORY_CODES
from referrals.codes import ConsentMethod, ConsentScope, ContactChannel, SharedField, Urgency
from referrals.workflow import ActionInput

NO_CLINICAL_DETAILS = N_(
    "Do not record diagnoses, medications or substance-use details: only what the receiving organization "
    "needs to make contact."
)


class _In(TextInput):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ConsentIn(_In):
    """The person's consent, as the peer records it."""

    scope: ConsentScope = ConsentScope.organization
    recipient_organization_id: uuid.UUID | None = Field(
        default=None, description="The organization the person agreed to share with (scope=organization)."
    )
    fields: list[SharedField] = Field(min_length=1, description="What the person agreed to share.")
    purpose: str = Field(min_length=3, max_length=300, description="Why the details are shared.")
    method: ConsentMethod
    expires_at: Instant = Field(description="When the consent ends (ISO 8601, with a time zone).")

    @field_validator("expires_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("give a time zone, e.g. 2030-01-31T23:59:00Z")
        return value


# The document lists the codes `_known` accepts, so clients (and schemathesis) know them.
_CATEGORY_CODE_SCHEMA: dict[str, Any] = {"type": "string", "enum": sorted(CATEGORY_CODES)}


class ReferralCreate(_In):
    """A new referral. With `send` (the default) it is sent at once and needs valid consent."""

    MULTILINE = frozenset({"need_text", "note"})

    service_id: uuid.UUID | None = Field(default=None, description="The listing referred to (directed referral).")
    is_open: bool = Field(default=False, description="Offer to any organization offering the category nearby.")
    open_category: str | None = Field(default=None, max_length=60)
    open_postal_code: str | None = Field(default=None, pattern=r"^\d{5}$")
    open_radius_miles: int | None = Field(default=None, ge=1, le=200)
    person_name: str = Field(min_length=1, max_length=60, description="First name or alias only.")
    contact_channel: ContactChannel
    contact_detail: str | None = Field(default=None, max_length=200, description="Phone number or e-mail.")
    contact_time: str | None = Field(default=None, max_length=100, description="Best time to reach them.")
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}$", description="ISO 639 code, e.g. es.")
    need_categories: list[str] = Field(
        default_factory=list,
        description="Category codes of what is needed.",
        json_schema_extra={"items": _CATEGORY_CODE_SCHEMA},
    )
    need_text: str | None = Field(default=None, max_length=500, description=NO_CLINICAL_DETAILS)
    urgency: Urgency = Urgency.routine
    previous_referral_id: uuid.UUID | None = None
    note: str | None = Field(default=None, max_length=2000, description=NO_CLINICAL_DETAILS)
    consent: ConsentIn | None = None
    send: bool = True

    @field_validator("need_categories")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = [c for c in value if c not in CATEGORY_CODES]
        if unknown:
            raise ValueError(f"unknown category codes {unknown}")
        return list(dict.fromkeys(value))

    @field_validator("contact_detail", "contact_time", "need_text", "note")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None

    @model_validator(mode="after")
    def _target(self) -> Self:
        if self.is_open:
            if not (self.open_category and self.open_postal_code and self.open_radius_miles):
                raise ValueError("an open referral needs open_category, open_postal_code and open_radius_miles")
        elif self.service_id is None:
            raise ValueError("give the service_id of the listing, or make it an open referral")
        return self


class ActionIn(_In):
    """Everything an action may need; each action reads only its own fields (see the workflow table)."""

    MULTILINE = frozenset({"reason_text"})

    version: int | None = Field(default=None, description="The version you saw; a different one gives 409.")
    reason_code: str | None = Field(default=None, max_length=40)
    reason_text: str | None = Field(default=None, max_length=500, description=NO_CLINICAL_DETAILS)
    outcome_code: str | None = Field(default=None, max_length=40)
    channel: ContactChannel | None = None
    result: str | None = Field(default=None, max_length=30)
    appointment_at: Instant | None = Field(
        default=None,
        description="With an offset, that instant; without one, the wall-clock time where the service is "
        "(the listing's time zone), as a person at the receiving organization would type it.",
    )
    handoff_mode: str | None = Field(default=None, max_length=30)
    followup_kind: str | None = Field(default=None, max_length=20)
    organization_id: uuid.UUID | None = Field(default=None, description="Claim: which of your organizations.")

    def to_input(self) -> ActionInput:
        return ActionInput(
            reason_code=self.reason_code or None,
            reason_text=self.reason_text or None,
            outcome_code=self.outcome_code or None,
            channel=self.channel.value if self.channel else None,
            result=self.result or None,
            appointment_at=self.appointment_at,
            handoff_mode=self.handoff_mode or None,
            followup_kind=self.followup_kind or None,
        )


class NoteIn(_In):
    MULTILINE = frozenset({"body"})
    body: str = Field(min_length=1, max_length=2000, description=NO_CLINICAL_DETAILS)


class PersonPublic(BaseModel):
    person_name: str | None
    contact_channel: str
    contact_detail: str | None
    contact_time: str | None
    language: str | None
    need_text: str | None


class ReferralPublic(BaseModel):
    """A referral as the caller may see it: `person` is null unless the caller may see personal content."""

    id: uuid.UUID
    version: int
    status: str
    business_status: str | None
    status_reason_code: str | None
    outcome_code: str | None
    urgency: str
    need_categories: list[str]
    is_open: bool
    open_category: str | None
    service_id: uuid.UUID | None
    recipient_organization_id: uuid.UUID | None
    previous_referral_id: uuid.UUID | None
    created_at: StoredTime
    requested_at: StoredTime | None
    accepted_at: StoredTime | None
    handoff_at: StoredTime | None
    closed_at: StoredTime | None
    your_role: str
    content_visible: bool
    person: PersonPublic | None
    allowed_actions: list[str]


class EventPublic(BaseModel):
    seq: int
    at: StoredTime
    actor_role: str
    action: str
    from_status: str | None
    to_status: str
    business_status: str | None
    reason_code: str | None
    data: dict[str, Any]
    hash: str


class NotificationPublic(BaseModel):
    id: uuid.UUID
    kind: str
    text: str
    referral_id: uuid.UUID | None
    created_at: StoredTime
    read: bool


class AuditVerificationPublic(BaseModel):
    ok: bool
    checked: int
    broken_seq: int | None
    message: str
