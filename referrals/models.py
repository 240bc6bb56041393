"""Referral tables. No I/O here.

Personal fields (the person's first name or alias, contact details, need text, notes and free-text
reasons) live only in columns that `referrals.service.purge` can null; the audit chain (`referral_event`)
holds codes, ids and times only, so purging never breaks it.
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.clock import utcnow
from referrals.codes import ConsentScope, ContactChannel, Status, Urgency


def _ts(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=nullable))


def _now_ts() -> Any:
    return Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))


def _json_list() -> Any:
    return Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class Referral(SQLModel, table=True):
    """A warm referral (FHIR: a ServiceRequest with its Task). `version` is the optimistic lock."""

    __table_args__ = (Index("ix_referral_status_requested", "status", "requested_at"),)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    version: int = Field(default=1)
    status: str = Field(default=Status.draft, max_length=20, index=True)
    business_status: str | None = Field(default=None, max_length=40)
    status_reason_code: str | None = Field(default=None, max_length=40)
    status_reason_text: str | None = Field(default=None, max_length=500)
    outcome_code: str | None = Field(default=None, max_length=40)
    outcome_text: str | None = Field(default=None, max_length=500)
    creator_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    referring_organization_id: uuid.UUID | None = Field(default=None, foreign_key="organization.id")
    service_id: uuid.UUID | None = Field(default=None, foreign_key="service.id", ondelete="SET NULL")
    recipient_organization_id: uuid.UUID | None = Field(default=None, foreign_key="organization.id", index=True)
    is_open: bool = Field(default=False)
    open_category: str | None = Field(default=None, max_length=60)
    open_postal_code: str | None = Field(default=None, max_length=10)
    open_radius_miles: int | None = Field(default=None, ge=1, le=200)
    previous_referral_id: uuid.UUID | None = Field(default=None, foreign_key="referral.id")
    # The person: the minimum needed to make contact. Nulled by the retention purge.
    person_name: str | None = Field(default=None, max_length=60)
    contact_channel: str = Field(default=ContactChannel.phone, max_length=20)
    contact_detail: str | None = Field(default=None, max_length=200)
    contact_time: str | None = Field(default=None, max_length=100)
    language: str | None = Field(default=None, max_length=20)
    need_categories: list[str] = _json_list()
    need_text: str | None = Field(default=None, max_length=500)
    urgency: str = Field(default=Urgency.routine, max_length=10)
    content_hidden: bool = Field(default=False)  # consent revoked: the recipient sees no personal detail
    created_at: datetime = _now_ts()
    updated_at: datetime = _now_ts()
    requested_at: datetime | None = _ts()
    accepted_at: datetime | None = _ts()
    handoff_at: datetime | None = _ts()
    closed_at: datetime | None = _ts()
    purged_at: datetime | None = _ts()


class ReferralConsent(SQLModel, table=True):
    """What the person agreed to share, with whom, why, how, and until when."""

    __tablename__ = "referral_consent"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    referral_id: uuid.UUID = Field(foreign_key="referral.id", index=True, ondelete="CASCADE")
    scope: str = Field(default=ConsentScope.organization, max_length=20)
    recipient_organization_id: uuid.UUID | None = Field(default=None, foreign_key="organization.id")
    fields: list[str] = _json_list()
    purpose: str = Field(max_length=300)
    method: str = Field(max_length=20)
    given_at: datetime = _now_ts()
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    recorded_by_id: uuid.UUID = Field(foreign_key="user_account.id")
    revoked_at: datetime | None = _ts()
    revoked_by_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")


class ReferralCandidate(SQLModel, table=True):
    """Organizations that may claim an open referral (fixed when it is sent)."""

    __tablename__ = "referral_candidate"
    referral_id: uuid.UUID = Field(foreign_key="referral.id", primary_key=True, ondelete="CASCADE")
    organization_id: uuid.UUID = Field(foreign_key="organization.id", primary_key=True, index=True)


class ReferralEvent(SQLModel, table=True):
    """Append-only audit log of every transition, chained by HMAC in `seq` order (referrals/audit.py).
    Never updated or deleted: migration 0003 adds triggers that refuse both."""

    __tablename__ = "referral_event"
    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(unique=True)
    referral_id: uuid.UUID = Field(index=True)  # no FK: the log outlives anything it describes
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    actor_id: uuid.UUID | None = Field(default=None)
    actor_role: str = Field(max_length=10)
    action: str = Field(max_length=30)
    from_status: str | None = Field(default=None, max_length=20)
    to_status: str = Field(max_length=20)
    business_status: str | None = Field(default=None, max_length=40)
    reason_code: str | None = Field(default=None, max_length=40)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)


class ReferralAuditHead(SQLModel, table=True):
    """One row: the last sequence number and hash. Updating it first serializes appends on every database."""

    __tablename__ = "referral_audit_head"
    id: int = Field(default=1, primary_key=True)
    seq: int = Field(default=0)
    last_hash: str = Field(default="0" * 64, max_length=64)


class ReferralNote(SQLModel, table=True):
    __tablename__ = "referral_note"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    referral_id: uuid.UUID = Field(foreign_key="referral.id", index=True, ondelete="CASCADE")
    author_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    author_role: str = Field(max_length=10)
    kind: str = Field(default="note", max_length=30)  # note | the action whose free-text reason this is
    body: str | None = Field(default=None, max_length=2000)
    created_at: datetime = _now_ts()


class ReferralContactAttempt(SQLModel, table=True):
    __tablename__ = "referral_contact_attempt"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    referral_id: uuid.UUID = Field(foreign_key="referral.id", index=True, ondelete="CASCADE")
    actor_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    channel: str = Field(max_length=20)
    result: str = Field(max_length=30)
    at: datetime = _now_ts()


class ReferralFollowUp(SQLModel, table=True):
    """A check-in the peer owes the person (72 h, 7 d, 30 d after acceptance or handoff)."""

    __tablename__ = "referral_followup"
    __table_args__ = (UniqueConstraint("referral_id", "kind"),)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    referral_id: uuid.UUID = Field(foreign_key="referral.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=20)  # "72h", "168h", "720h"
    due_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))
    done_at: datetime | None = _ts()


class ReferralAccess(SQLModel, table=True):
    """Every read of a referral: who, in which role, when, how, and whether personal content was shown."""

    __tablename__ = "referral_access"
    id: int | None = Field(default=None, primary_key=True)
    referral_id: uuid.UUID = Field(index=True)
    user_id: uuid.UUID | None = Field(default=None, index=True)
    role: str = Field(max_length=12)
    via: str = Field(max_length=10)  # html | api | fhir | list
    content_shown: bool = Field(default=False)
    at: datetime = _now_ts()


class ReferralDisclosure(SQLModel, table=True):
    """What was shared with whom under which consent."""

    __tablename__ = "referral_disclosure"
    id: int | None = Field(default=None, primary_key=True)
    referral_id: uuid.UUID = Field(index=True)
    organization_id: uuid.UUID = Field(index=True)
    consent_id: uuid.UUID
    fields: list[str] = _json_list()
    actor_id: uuid.UUID | None = Field(default=None)
    at: datetime = _now_ts()


class ReferralDispatch(SQLModel, table=True):
    """One row per reminder / timer notification ever sent: the unique key makes sending idempotent."""

    __tablename__ = "referral_dispatch"
    __table_args__ = (UniqueConstraint("referral_id", "kind", "due_at", name="uq_referral_dispatch_key"),)
    id: int | None = Field(default=None, primary_key=True)
    referral_id: uuid.UUID = Field(index=True)
    kind: str = Field(max_length=40)
    due_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    created_at: datetime = _now_ts()


class ReferralNotification(SQLModel, table=True):
    """In-app notification. Carries a kind and a link target only, never personal details."""

    __tablename__ = "referral_notification"
    __table_args__ = (Index("ix_referral_notification_unread", "user_id", "read_at"),)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="user_account.id", ondelete="CASCADE")
    referral_id: uuid.UUID | None = Field(default=None, foreign_key="referral.id", ondelete="CASCADE")
    kind: str = Field(max_length=40)
    created_at: datetime = _now_ts()
    read_at: datetime | None = _ts()
