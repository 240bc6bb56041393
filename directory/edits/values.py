"""What each listing-edit form shows: the sections, the choices, the stored values and the user's own input.

Shared by the workspace screens and the moderation screens (which show a held change or a suggestion in
the same forms).
"""

from collections.abc import Mapping
from datetime import date, time
from typing import Any

from sqlmodel import Session, select

from directory.edits.forms import WEEKDAYS, WorkspaceForm
from directory.edits.operations import OPERATIONS, HoursChange, Target
from directory.listings.meeting_types import TYPES as MEETING_TYPES
from directory.listings.models import Attendance, Capacity, Meeting, Organization, Service, ServiceKind, ServiceStatus
from directory.listings.taxonomy import FELLOWSHIPS, TERMS

SECTIONS: dict[str, str] = {
    "details": "service.details",
    "status": "service.status",
    "capacity": "service.capacity",
    "hours": "service.hours",
    "meeting": "meeting.update",
    "verify": "service.verify",
}
BLANK_HOUR_ROWS = 2
CHOICES: dict[str, Any] = {
    "statuses": [s.value for s in ServiceStatus],
    "capacities": [c.value for c in Capacity],
    "weekdays": WEEKDAYS,
    "attendance_modes": [a.value for a in Attendance],
    "fellowships": FELLOWSHIPS,
    "meeting_types": MEETING_TYPES,
    "kinds": [k.value for k in ServiceKind],
    "categories": [(t.code, t.name, t.parent) for t in TERMS],
}


def form_value(value: Any) -> Any:
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "value"):
        return value.value
    return "" if value is None else value


def current_values(session: Session, service: Service, section: str) -> dict[str, Any]:
    """What a section's form shows before any input: the listing as stored."""
    if section == "hours":
        hours = HoursChange().current(session, _target(session, service)) or {}
        rows = [
            {**r, "opens_at": (r["opens_at"] or "")[:5], "closes_at": (r["closes_at"] or "")[:5]}
            for r in hours.get("hours", [])
        ]
        return {"timezone": hours.get("timezone"), "rows": rows}
    if section == "meeting":
        meeting = session.exec(select(Meeting).where(Meeting.service_id == service.id)).first()
        fields = OPERATIONS["meeting.update"].form.model_fields
        return (
            {k: list(meeting.types) if k == "types" else form_value(getattr(meeting, k, None)) for k in fields}
            if meeting
            else {}
        )
    form: type[WorkspaceForm] = OPERATIONS[SECTIONS[section]].form
    return {name: form_value(getattr(service, name, None)) for name in form.model_fields}


def submitted_values(section: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The user's own input, shown again next to the messages when it did not validate."""
    if section == "hours":
        return {
            "timezone": raw.get("timezone"),
            "rows": [{k: (v or ([] if k == "days" else "")) for k, v in r.items()} for r in raw.get("rows", [])],
        }
    return {k: ("" if v is None else v) for k, v in raw.items()}


def with_blank_rows(values: dict[str, Any]) -> dict[str, Any]:
    rows = [r for r in values.get("rows", []) if any(r.get(k) for k in ("days", "opens_at", "closes_at"))]
    blank = {"days": [], "opens_at": "", "closes_at": "", "description": ""}
    return {**values, "rows": rows + [dict(blank) for _ in range(BLANK_HOUR_ROWS)]}


def _target(session: Session, service: Service) -> Target:
    org = session.get(Organization, service.organization_id)
    assert org is not None
    return Target(org, service)
