"""Context builders for the workspace pages: one function per page."""

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from accounts.invitations import pending_invitations
from accounts.members import list_members
from accounts.models import User
from core.clock import utcnow
from core.errors import Forbidden
from core.i18n import N_
from directory.edits.models import ChangeRequest, RequestStatus
from directory.edits.operations import OPERATIONS, default_timezone
from directory.edits.places import organization_locations
from directory.edits.service import Access, organization_for, organization_services, service_for
from directory.edits.values import CHOICES, SECTIONS, current_values, form_value, submitted_values, with_blank_rows
from directory.listings.freshness import is_stale, reference_date
from directory.listings.models import (
    ConfidentialAddress,
    Service,
)
from directory.listings.queries import ListingDetail, get_listing
from directory.sources.service import feed_of
from directory.stewardship.models import Suggestion, SuggestionStatus
from directory.stewardship.moderation import my_pending_changes


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
    adding_location: bool = False,
) -> dict[str, Any]:
    """The listing editor; `section` (or `location_id`, or `adding_location`) with `raw` and `errors`
    re-shows rejected input."""
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
        "locations": _location_forms(session, detail, location_id, None if adding_location else raw, errors),
        "new_location": {
            "values": dict(raw or {}) if adding_location else {},
            "errors": dict(errors or {}) if adding_location else {},
        },
        "choices": CHOICES,
        "feed": feed_of(session=session, meeting=detail.meeting),
        "zone": default_timezone(session, service),  # the listing's: instants on the page are shown in it
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
    values = dict(raw) if raw is not None else {k: form_value(getattr(org, k)) for k in form.model_fields}
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
        raise Forbidden(N_("Only the organization's admins manage its members."))
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
        raise Forbidden(N_("Only the organization's admins make bulk updates."))
    return {"organization": org, "report": None, "errors": {}, "kind": "hsds", "fellowship": "AA"}
