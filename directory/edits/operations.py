"""The listing edits a workspace user can make, each as an operation: its form, a snapshot, a preview, an apply.

Operations only stage rows; `directory.edits.service` decides whether a change is applied now or held for
approval, writes the audit rows and the outbox rows, and commits. Snapshots are what the audit log stores
and what the before/after views compare.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, ClassVar

from sqlmodel import Session, select

from accounts.models import User
from core.i18n import N_
from directory.edits.audit import json_value, snapshot
from directory.edits.forms import (
    WEEKDAYS,
    CapacityForm,
    HoursForm,
    MeetingForm,
    OrganizationForm,
    ServiceDetailsForm,
    StatusForm,
    VerifyForm,
    WorkspaceForm,
)
from directory.listings import zones
from directory.listings.meeting_types import TYPES
from directory.listings.models import (
    Location,
    Meeting,
    Organization,
    Schedule,
    Service,
    ServiceAtLocation,
    ServiceStatus,
)


@dataclass
class Target:
    organization: Organization
    service: Service | None = None
    location: Location | None = None


@dataclass
class Context:
    author: User | None
    now: datetime


@dataclass
class Change:
    entity: str
    entity_id: uuid.UUID
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass
class Applied:
    changes: list[Change] = field(default_factory=list)
    service_ids: set[uuid.UUID] = field(default_factory=set)
    created_id: uuid.UUID | None = None


class Operation:
    name: ClassVar[str]
    label: ClassVar[str]
    entity: ClassVar[str]
    form: ClassVar[type[WorkspaceForm]]

    def current(self, session: Session, target: Target) -> dict[str, Any] | None:
        raise NotImplementedError

    def proposed(self, session: Session, target: Target, data: WorkspaceForm) -> dict[str, Any]:
        raise NotImplementedError

    def check(self, session: Session, target: Target, data: WorkspaceForm) -> dict[str, str]:
        """Rules that need the database (e.g. an in-person meeting needs a location)."""
        return {}

    def apply(self, session: Session, target: Target, data: WorkspaceForm, ctx: Context) -> Applied:
        raise NotImplementedError


class FieldsOperation(Operation):
    """Sets some columns of one row."""

    fields: ClassVar[tuple[str, ...]]

    def row(self, session: Session, target: Target) -> Any:
        return target.service

    def values(self, data: WorkspaceForm, ctx: Context | None) -> dict[str, Any]:
        return {name: getattr(data, name) for name in self.fields}

    def current(self, session: Session, target: Target) -> dict[str, Any] | None:
        row = self.row(session, target)
        return snapshot(row, self.fields) if row is not None else None

    def proposed(self, session: Session, target: Target, data: WorkspaceForm) -> dict[str, Any]:
        return {**(self.current(session, target) or {}), **json_value(self.values(data, None))}

    def affected(self, session: Session, target: Target) -> set[uuid.UUID]:
        return {target.service.id} if target.service else set()

    def apply(self, session: Session, target: Target, data: WorkspaceForm, ctx: Context) -> Applied:
        row = self.row(session, target)
        before = snapshot(row, self.fields)
        for name, value in self.values(data, ctx).items():
            setattr(row, name, value.value if isinstance(value, Enum) else value)
        if hasattr(row, "last_modified"):
            row.last_modified = ctx.now
        session.add(row)
        after = snapshot(row, self.fields)
        return Applied([Change(self.entity, row.id, before, after)], self.affected(session, target))


class OrganizationUpdate(FieldsOperation):
    name, label, entity, form = "organization.update", N_("Organization details"), "organization", OrganizationForm
    fields = ("name", "alternate_name", "description", "email", "website")

    def row(self, session: Session, target: Target) -> Any:
        return target.organization

    def affected(self, session: Session, target: Target) -> set[uuid.UUID]:
        # The organization's name is part of every one of its listings in search.
        stmt = select(Service.id).where(Service.organization_id == target.organization.id)
        return set(session.exec(stmt).all())


class ServiceDetails(FieldsOperation):
    name, label, entity, form = "service.details", N_("Listing details"), "service", ServiceDetailsForm
    fields = (
        "name",
        "alternate_name",
        "description",
        "url",
        "email",
        "eligibility_description",
        "application_process",
        "fees_description",
        "alert",
    )


class ServiceStatusChange(FieldsOperation):
    name, label, entity, form = "service.status", N_("Status"), "service", StatusForm
    fields = ("status", "reopening_date")

    def values(self, data: WorkspaceForm, ctx: Context | None) -> dict[str, Any]:
        assert isinstance(data, StatusForm)
        closed = data.status == ServiceStatus.temporarily_closed
        return {"status": data.status.value, "reopening_date": data.reopening_date if closed else None}


class CapacityChange(FieldsOperation):
    name, label, entity, form = "service.capacity", N_("Capacity"), "service", CapacityForm
    fields = ("capacity", "capacity_note", "capacity_updated_at")

    def values(self, data: WorkspaceForm, ctx: Context | None) -> dict[str, Any]:
        assert isinstance(data, CapacityForm)
        return {
            "capacity": data.capacity.value,
            "capacity_note": data.capacity_note,
            "capacity_updated_at": ctx.now if ctx else "(when approved)",
        }


class Verify(FieldsOperation):
    name, label, entity, form = "service.verify", N_("Still correct (verification)"), "service", VerifyForm
    fields = ("assured_date", "assurer_email", "verified_by_id")

    def values(self, data: WorkspaceForm, ctx: Context | None) -> dict[str, Any]:
        if ctx is None:
            return {"assured_date": "(when approved)", "assurer_email": "(the editor)", "verified_by_id": None}
        author = ctx.author
        return {
            "assured_date": ctx.now.date(),
            "assurer_email": author.email if author else None,
            "verified_by_id": author.id if author else None,
        }


class MeetingUpdate(FieldsOperation):
    name, label, entity, form = "meeting.update", N_("Meeting details"), "meeting", MeetingForm
    fields = (
        "fellowship",
        "types",
        "attendance_mode",
        "conference_url",
        "conference_url_notes",
        "conference_phone",
        "conference_phone_notes",
        "group_notes",
        "location_notes",
    )

    def row(self, session: Session, target: Target) -> Any:
        return _meeting(session, target)

    def values(self, data: WorkspaceForm, ctx: Context | None) -> dict[str, Any]:
        assert isinstance(data, MeetingForm)
        return {**super().values(data, ctx), "types": list(dict.fromkeys([*data.types, *data.kept_types]))}

    def check(self, session: Session, target: Target, data: WorkspaceForm) -> dict[str, str]:
        assert isinstance(data, MeetingForm) and target.service is not None
        meeting = _meeting(session, target)
        if meeting is None:
            return {"form": N_("This listing is not a meeting.")}
        # A code outside the registry is kept only when the meeting already has it (from its feed).
        unknown = [c for c in data.kept_types if c not in meeting.types or c in TYPES]
        if unknown:
            return {"types": f"Unknown meeting types: {', '.join(unknown)}."}
        needs_place = data.attendance_mode.value in ("in_person", "hybrid")
        if needs_place and not location_ids(session, target.service.id):
            return {"attendance_mode": N_("An in-person or hybrid meeting needs a location; add one first.")}
        return {}

    def apply(self, session: Session, target: Target, data: WorkspaceForm, ctx: Context) -> Applied:
        applied = super().apply(session, target, data, ctx)
        if target.service is not None:
            target.service.last_modified = ctx.now
            session.add(target.service)
        return applied


class HoursChange(Operation):
    name, label, entity, form = "service.hours", N_("Hours"), "schedule", HoursForm

    def current(self, session: Session, target: Target) -> dict[str, Any] | None:
        assert target.service is not None
        rows = _weekly(session, target.service.id)
        zone = rows[0].timezone if rows else default_timezone(session, target.service)
        return {"timezone": zone, "hours": [_schedule_json(r) for r in rows]}

    def proposed(self, session: Session, target: Target, data: WorkspaceForm) -> dict[str, Any]:
        assert isinstance(data, HoursForm)
        hours = [
            json_value(
                {
                    "days": _ordered(r.days),
                    "opens_at": r.opens_at,
                    "closes_at": r.closes_at,
                    "description": r.description,
                }
            )
            for r in data.filled_rows
        ]
        return {"timezone": data.timezone, "hours": sorted(hours, key=_hours_key)}

    def apply(self, session: Session, target: Target, data: WorkspaceForm, ctx: Context) -> Applied:
        assert isinstance(data, HoursForm) and target.service is not None
        service = target.service
        before = self.current(session, target)
        for old in _weekly(session, service.id):
            session.delete(old)
        for row in data.filled_rows:
            session.add(
                Schedule(
                    service_id=service.id,
                    timezone=data.timezone,
                    freq="WEEKLY",
                    interval=1,
                    byday=",".join(_ordered(row.days)),
                    opens_at=row.opens_at,
                    closes_at=row.closes_at,
                    description=row.description,
                )
            )
        service.last_modified = ctx.now
        session.add(service)
        session.flush()
        after = self.current(session, target)
        return Applied([Change(self.entity, service.id, before, after)], {service.id})


def default_timezone(session: Session, service: Service) -> str:
    found = zones.service_zone(session, service.id) or zones.organization_zone(session, service.organization_id)
    return found or zones.DEFAULT_ZONE


def _weekly(session: Session, service_id: uuid.UUID) -> list[Schedule]:
    stmt = select(Schedule).where(Schedule.service_id == service_id, Schedule.freq == "WEEKLY")
    return sorted(session.exec(stmt).all(), key=lambda s: _hours_key(_schedule_json(s)))


def _schedule_json(row: Schedule) -> dict[str, Any]:
    return json_value(
        {
            "days": _ordered([d for d in row.byday.split(",") if d]),
            "opens_at": row.opens_at,
            "closes_at": row.closes_at,
            "description": row.description,
        }
    )


def _ordered(days: Sequence[str]) -> list[str]:
    order: dict[str, int] = {d: i for i, d in enumerate(WEEKDAYS)}
    return sorted(dict.fromkeys(days), key=lambda d: order.get(d, 99))


def _hours_key(row: dict[str, Any]) -> tuple[int, str]:
    days = row.get("days") or []
    first = WEEKDAYS.index(days[0]) if days and days[0] in WEEKDAYS else 99
    return first, str(row.get("opens_at") or "")


def _meeting(session: Session, target: Target) -> Meeting | None:
    if target.service is None:
        return None
    return session.exec(select(Meeting).where(Meeting.service_id == target.service.id)).first()


def location_ids(session: Session, service_id: uuid.UUID) -> list[uuid.UUID]:
    return list(
        session.exec(select(ServiceAtLocation.location_id).where(ServiceAtLocation.service_id == service_id)).all()
    )


OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        OrganizationUpdate(),
        ServiceDetails(),
        ServiceStatusChange(),
        CapacityChange(),
        Verify(),
        MeetingUpdate(),
        HoursChange(),
    )
}
