"""Context builders for the workspace pages: one function per page, and the values each form shows."""

import uuid
from collections.abc import Mapping
from datetime import date, time
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from accounts.invitations import pending_invitations
from accounts.members import list_members
from accounts.models import User
from core.clock import utcnow
from core.errors import Forbidden
from directory.freshness import is_stale, reference_date
from directory.labels import MEETING_TYPES
from directory.listing import ListingDetail, get_listing
from directory.models import (
    Attendance,
    Capacity,
    ConfidentialAddress,
    Meeting,
    Organization,
    Service,
    ServiceKind,
    ServiceStatus,
)
from directory.models_admin import ChangeRequest, RequestStatus, Suggestion, SuggestionStatus
from directory.moderation import my_pending_changes
from directory.sources.service import feed_of
from directory.taxonomy_tree import FELLOWSHIPS, TERMS
from directory.workspace import Access, organization_for, organization_services, service_for
from directory.workspace_forms import WEEKDAYS, WorkspaceForm
from directory.workspace_ops import OPERATIONS, HoursChange, Target, default_timezone
from directory.workspace_places import organization_locations

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


def _form_value(value: Any) -> Any:
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
            {k: list(meeting.types) if k == "types" else _form_value(getattr(meeting, k, None)) for k in fields}
            if meeting
            else {}
        )
    form: type[WorkspaceForm] = OPERATIONS[SECTIONS[section]].form
    return {name: _form_value(getattr(service, name, None)) for name in form.model_fields}


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


def service_page(
    *,
    session: Session,
    user: User,
    service_id: uuid.UUID,
    section: str | None = None,
    raw: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    message: str | None = None,
    location_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """The listing editor; `section` (or `location_id`) with `raw` and `errors` re-shows rejected input."""
    service, access = service_for(session=session, user=user, service_id=service_id)
    detail: ListingDetail = get_listing(session, service.id)
    sections = [s for s in SECTIONS if s != "meeting" or detail.meeting is not None]
    values = {s: current_values(session, service, s) for s in sections}
    if section is not None and raw is not None and location_id is None:
        values[section] = submitted_values(section, raw)
    values["hours"] = with_blank_rows(values["hours"])
    if not values["hours"].get("timezone"):
        values["hours"]["timezone"] = default_timezone(session, service)
    return {
        "service": service,
        "organization": detail.organization,
        "detail": detail,
        "access": access,
        "sections": sections,
        "values": values,
        "errors": {section: dict(errors or {})} if section else {},
        "messages": {section: message} if section and message else {},
        "stale": is_stale(service, today=utcnow().date()),
        "verified_on": reference_date(service),
        "pending": my_pending_changes(session=session, user=user, service_id=service.id),
        "locations": _location_forms(session, detail, location_id, raw, errors),
        "choices": CHOICES,
        "feed": feed_of(session=session, meeting=detail.meeting),
    }


def _location_forms(
    session: Session,
    detail: ListingDetail,
    location_id: uuid.UUID | None,
    raw: Mapping[str, Any] | None,
    errors: Mapping[str, str] | None,
) -> list[dict[str, Any]]:
    forms = []
    for place in detail.places:
        if place.location.id == location_id and raw is not None:
            forms.append(
                {"location": place.location, "values": submitted_values("location", raw), "errors": dict(errors or {})}
            )
            continue
        loc, address = place.location, place.address
        values = {"name": loc.name or "", "transportation": loc.transportation or ""}
        for name in ("address_1", "address_2", "city", "state_province", "postal_code"):
            values[name] = (getattr(address, name) or "") if address else ""
        if loc.is_confidential and (secret := session.get(ConfidentialAddress, loc.id)):
            values["address_1"], values["address_2"] = secret.address_1, secret.address_2 or ""
        forms.append({"location": loc, "values": values, "errors": {}})
    return forms


def organization_page(
    *,
    session: Session,
    user: User,
    organization_id: uuid.UUID,
    raw: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    message: str | None = None,
) -> dict[str, Any]:
    org, access = organization_for(session=session, user=user, organization_id=organization_id)
    today = utcnow().date()
    services = organization_services(session=session, organization_id=org.id)
    form = OPERATIONS["organization.update"].form
    values = dict(raw) if raw is not None else {k: _form_value(getattr(org, k)) for k in form.model_fields}
    return {
        "organization": org,
        "access": access,
        "values": values,
        "errors": dict(errors or {}),
        "message": message,
        "listings": [
            {"service": s, "stale": is_stale(s, today=today), "verified_on": reference_date(s)} for s in services
        ],
        "pending_changes": _count(session, ChangeRequest, org.id, ChangeRequest.status, RequestStatus.pending),
        "new_suggestions": _count(session, Suggestion, org.id, Suggestion.status, SuggestionStatus.new),
    }


def new_service_page(
    *,
    session: Session,
    user: User,
    organization_id: uuid.UUID,
    raw: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    org, access = organization_for(session=session, user=user, organization_id=organization_id)
    sample = session.exec(select(Service).where(Service.organization_id == org.id).limit(1)).first()
    default_zone = default_timezone(session, sample) if sample else "America/New_York"
    values = (
        dict(raw) if raw is not None else {"kind": "service", "timezone": default_zone, "attendance_mode": "in_person"}
    )
    return {
        "organization": org,
        "access": access,
        "values": values,
        "errors": dict(errors or {}),
        "locations": organization_locations(session, org.id),
        "choices": CHOICES,
    }


def _count(session: Session, model: Any, org_id: uuid.UUID, column: Any, value: str) -> int:
    stmt = select(func.count()).select_from(model).where(model.organization_id == org_id, column == value)
    return int(session.exec(stmt).one())


def access_summary(access: Access) -> str:
    if access.is_network_admin:
        return "network admin"
    return f"{access.role}{' (trusted)' if access.trusted and access.role == 'editor' else ''}"


def members_page(*, session: Session, user: User, organization_id: uuid.UUID) -> dict[str, Any]:
    org, access = organization_for(session=session, user=user, organization_id=organization_id)
    if not access.can_manage:
        raise Forbidden("Only the organization's admins manage its members.")
    return {
        "organization": org,
        "access": access,
        "members": list_members(session=session, organization_id=org.id),
        "invitations": pending_invitations(session=session, organization_id=org.id, now=utcnow()),
        "errors": {},
        "values": {"email": "", "role": "editor"},
    }


def import_page_context(*, session: Session, user: User, organization_id: uuid.UUID) -> dict[str, Any]:
    org, access = organization_for(session=session, user=user, organization_id=organization_id)
    if not access.can_manage:
        raise Forbidden("Only the organization's admins make bulk updates.")
    return {"organization": org, "report": None, "errors": {}, "kind": "hsds", "fellowship": "AA"}
