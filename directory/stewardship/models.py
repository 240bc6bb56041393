"""Stewardship tables: public suggestions, claims of existing listings and freshness reminders."""

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.clock import utcnow
from core.i18n import N_
from directory.edits.models import RequestStatus, json_column, ts_column


class SuggestionKind(StrEnum):
    wrong_hours = "wrong_hours"
    closed = "closed"
    moved = "moved"
    no_longer_meets = "no_longer_meets"
    other = "other"


class SuggestionStatus(StrEnum):
    new = "new"
    approved = "approved"
    rejected = "rejected"


SUGGESTION_KIND_LABELS: Mapping[str, str] = MappingProxyType(
    {
        SuggestionKind.wrong_hours: N_("The hours or meeting times are wrong"),
        SuggestionKind.closed: N_("It is closed"),
        SuggestionKind.moved: N_("It moved"),
        SuggestionKind.no_longer_meets: N_("It no longer meets / no longer offers this"),
        SuggestionKind.other: N_("Something else"),
    }
)
SUGGESTION_STATUS_LABELS: Mapping[str, str] = MappingProxyType(
    {SuggestionStatus.new: N_("Waiting for a decision"), SuggestionStatus.approved: N_("Approved"),
     SuggestionStatus.rejected: N_("Rejected")}
)  # fmt: skip


class Suggestion(SQLModel, table=True):
    """A public "suggest an edit / report a problem". The reporter keeps only an anonymous status link."""

    __table_args__ = (Index("ix_suggestion_org_status", "organization_id", "status"),)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    kind: str = Field(max_length=30)
    text: str = Field(default="", max_length=2000)
    contact: str | None = Field(default=None, max_length=320)
    service_id: uuid.UUID = Field(foreign_key="service.id", index=True, ondelete="CASCADE")
    organization_id: uuid.UUID = Field(foreign_key="organization.id", ondelete="CASCADE")
    proposed: dict[str, Any] = Field(default_factory=dict, sa_column=json_column(nullable=False))
    status: str = Field(default=SuggestionStatus.new, max_length=20)
    status_token_hash: str = Field(max_length=128, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    decided_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    decided_by_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    decision_reason: str | None = Field(default=None, max_length=1000)
    change_request_id: uuid.UUID | None = Field(default=None)
    # When the organization's moderators were told of it (stewardship/digest.py): each is told once.
    notified_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))


class ClaimRequest(SQLModel, table=True):
    """Someone asks to manage an existing listing's organization; a network admin decides.

    Signed-in people claim as their account (`user_id`). A person without an account leaves a name, an
    e-mail address (proved by a link sent to it: `email_verified_at`) and maybe a phone number for a
    call-back; only proved requests reach the admins, and approving one links or invites the account."""

    __tablename__ = "claim_request"
    __table_args__ = (UniqueConstraint("verify_token_hash", name="uq_claim_request_verify_token"),)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    organization_id: uuid.UUID = Field(foreign_key="organization.id", index=True, ondelete="CASCADE")
    service_id: uuid.UUID | None = Field(default=None, foreign_key="service.id", ondelete="SET NULL")
    user_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id", index=True, ondelete="CASCADE")
    email: str | None = Field(default=None, max_length=320)
    display_name: str = Field(default="", max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    verify_token_hash: str | None = Field(default=None, max_length=128)
    email_verified_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    callback_note: str | None = Field(default=None, max_length=1000)
    message: str = Field(default="", max_length=2000)
    status: str = Field(default=RequestStatus.pending, max_length=20, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    decided_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    decided_by_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    decision_reason: str | None = Field(default=None, max_length=1000)


class FreshnessReminder(SQLModel, table=True):
    """At most one reminder per stale listing per period (a calendar month), so the job is idempotent."""

    __tablename__ = "freshness_reminder"
    __table_args__ = (UniqueConstraint("service_id", "period"),)
    id: int | None = Field(default=None, primary_key=True)
    service_id: uuid.UUID = Field(foreign_key="service.id", index=True, ondelete="CASCADE")
    period: str = Field(max_length=7)  # "2026-05"
    stale_since: date | None = Field(default=None)
    recipients: int = Field(default=0)
    sent_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
