"""Listing-change tables: the audit log and the changes held for approval.

`listing_change` is append-only: no code path updates or deletes its rows (an ORM guard below refuses it),
and it has no foreign keys, so removing an organization or a user never rewrites history.
"""

import uuid
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, event
from sqlalchemy.orm import Mapper
from sqlmodel import Field, SQLModel

from core.clock import utcnow
from core.i18n import N_


def ts_column(nullable: bool = False) -> Column:
    return Column(DateTime(timezone=True), nullable=nullable)


def json_column(nullable: bool = True) -> Column:
    return Column(JSON, nullable=nullable)


class ChangeVia(StrEnum):
    direct = "direct"  # an admin, a trusted editor or a network admin saved it
    approval = "approval"  # an untrusted editor's change, approved by an admin
    suggestion = "suggestion"  # a public suggestion, approved by a moderator
    claim = "claim"
    import_ = "import"


VIA_LABELS: Mapping[str, str] = MappingProxyType(
    {ChangeVia.direct: N_("saved directly"), ChangeVia.approval: N_("approved change"),
     ChangeVia.suggestion: N_("public suggestion"), ChangeVia.claim: N_("claim"), ChangeVia.import_: N_("import")}
)  # fmt: skip


class ListingChange(SQLModel, table=True):
    """One change to one row of a listing: who, when, what, and the values before and after."""

    __tablename__ = "listing_change"
    __table_args__ = (Index("ix_listing_change_org_at", "organization_id", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    actor_id: uuid.UUID | None = Field(default=None)
    actor_email: str = Field(default="", max_length=320)
    approved_by_id: uuid.UUID | None = Field(default=None)
    organization_id: uuid.UUID = Field()
    service_id: uuid.UUID | None = Field(default=None, index=True)
    entity: str = Field(max_length=30)  # organization | service | location | schedule | meeting
    entity_id: uuid.UUID = Field()
    action: str = Field(max_length=40)
    via: str = Field(default=ChangeVia.direct, max_length=20)
    change_request_id: uuid.UUID | None = Field(default=None)
    before: dict[str, Any] | None = Field(default=None, sa_column=json_column())
    after: dict[str, Any] | None = Field(default=None, sa_column=json_column())


class AppendOnlyError(RuntimeError):
    pass


@event.listens_for(ListingChange, "before_update")
@event.listens_for(ListingChange, "before_delete")
def _refuse_rewrite(_mapper: Mapper, _connection: Any, _target: ListingChange) -> None:
    raise AppendOnlyError("the listing audit log is append-only")


class RequestStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"


REQUEST_STATUS_LABELS: Mapping[str, str] = MappingProxyType(
    {RequestStatus.pending: N_("Waiting for approval"), RequestStatus.approved: N_("Approved"),
     RequestStatus.rejected: N_("Rejected")}
)  # fmt: skip


class ChangeRequest(SQLModel, table=True):
    """A change held for approval (an untrusted editor's edit), or the decision on a public suggestion."""

    __tablename__ = "change_request"
    __table_args__ = (Index("ix_change_request_org_status", "organization_id", "status"),)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    organization_id: uuid.UUID = Field(foreign_key="organization.id", ondelete="CASCADE")
    service_id: uuid.UUID | None = Field(default=None, foreign_key="service.id", index=True, ondelete="CASCADE")
    target_id: uuid.UUID | None = Field(default=None)  # e.g. the location of a location edit
    op: str = Field(max_length=40)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=json_column(nullable=False))
    before: dict[str, Any] | None = Field(default=None, sa_column=json_column())
    status: str = Field(default=RequestStatus.pending, max_length=20)
    source: str = Field(default="editor", max_length=20)  # editor | suggestion
    suggestion_id: uuid.UUID | None = Field(default=None)
    submitted_by_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    submitted_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    decided_by_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    decided_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    decision_reason: str | None = Field(default=None, max_length=1000)
