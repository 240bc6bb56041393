"""Public suggestions ("suggest an edit / report a problem"): no account, rate-limited, moderated.

The reporter gets an anonymous status link; only its hash is stored. On approval the suggestion becomes a
change to the listing (closed -> temporarily closed, wrong hours -> the proposed hours, moved -> the new
address, no longer meets -> inactive), applied with an audit row and an outbox row like any other edit.
"""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from sqlmodel import Session, col, select

from accounts import throttle
from accounts.models import User
from accounts.tokens import new_token, token_hash
from core.errors import Forbidden, NotFound, ValidationFailed
from core.i18n import N_
from core.inputs import Day, TextInput
from directory.edits import audit
from directory.edits.forms import ZIP, HoursForm, parse
from directory.edits.models import ChangeRequest, ChangeVia, RequestStatus
from directory.edits.operations import Operation, Target, default_timezone
from directory.edits.service import Access, access_for, apply_operation, target_for, validate
from directory.listings import zones
from directory.listings.models import Service, ServiceAtLocation, ServiceStatus
from directory.stewardship.models import Suggestion, SuggestionKind
from directory.stewardship.moderation import NOT_FOUND, clean_reason, decide, may_see, still_pending

LIMITED = N_("Thank you — we have received several reports from your connection recently. Please try again later.")


class SuggestionIn(TextInput):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)
    MULTILINE = frozenset({"text"})
    kind: SuggestionKind
    text: str = Field(default="", max_length=2000)
    contact: str | None = Field(default=None, max_length=320)
    reopening_date: Day | None = None
    address_1: str | None = Field(default=None, max_length=300)
    city: str | None = Field(default=None, max_length=100)
    state_province: str | None = Field(default=None, max_length=100)
    postal_code: str | None = Field(default=None, pattern=ZIP)

    @field_validator("*", mode="before")
    @classmethod
    def _blank(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name == "text":
            return "" if value is None else value
        return None if isinstance(value, str) and not value.strip() else value


def _parse(raw: Mapping[str, Any], hours_raw: Mapping[str, Any] | None) -> tuple[SuggestionIn, HoursForm | None]:
    try:
        data = SuggestionIn.model_validate(dict(raw))
    except ValidationError as exc:
        errors = {"-".join(map(str, e["loc"])): _friendly(e["type"], str(e["msg"])) for e in exc.errors()}
        raise ValidationFailed(N_("Please correct the highlighted fields."), errors=errors) from None
    hours = None
    if data.kind == SuggestionKind.wrong_hours and hours_raw is not None:
        hours = parse(HoursForm, hours_raw)
        hours = hours if hours.filled_rows else None
    _require_detail(data, hours)
    return data, hours


def _friendly(kind: str, message: str) -> str:
    return {
        "enum": N_("Choose what is wrong."),
        "missing": N_("Choose what is wrong."),
        "string_pattern_mismatch": N_("Give a 5-digit ZIP code."),
        "string_too_long": N_("That is too long."),
        "date_from_datetime_parsing": N_("Give a date like 2026-03-31."),
    }.get(kind, message)


def _require_detail(data: SuggestionIn, hours: HoursForm | None) -> None:
    if data.kind == SuggestionKind.other and not data.text:
        raise ValidationFailed(N_("Tell us what is wrong."), field="text")
    if data.kind == SuggestionKind.wrong_hours and hours is None and not data.text:
        raise ValidationFailed(N_("Give the right hours, or describe them."), field="text")
    has_address = bool(data.address_1 and data.city and data.postal_code)
    if data.kind == SuggestionKind.moved and not has_address and not data.text:
        raise ValidationFailed(N_("Give the new address (street, city and ZIP), or describe it."), field="address_1")


def _proposed(data: SuggestionIn, hours: HoursForm | None) -> dict[str, Any]:
    proposed: dict[str, Any] = {}
    if data.kind == SuggestionKind.closed and data.reopening_date:
        proposed["reopening_date"] = data.reopening_date.isoformat()
    if hours is not None:
        proposed["hours"] = hours.model_dump(mode="json")
    if data.kind == SuggestionKind.moved and data.address_1 and data.city and data.postal_code:
        proposed["address"] = {
            "address_1": data.address_1,
            "city": data.city,
            "state_province": data.state_province or "",
            "postal_code": data.postal_code,
        }
    return proposed


def create_suggestion(
    *,
    session: Session,
    secret: str,
    client_ip: str,
    service_id: uuid.UUID,
    raw: Mapping[str, Any],
    hours_raw: Mapping[str, Any] | None,
    now: datetime,
) -> tuple[Suggestion, str]:
    """Store a suggestion; returns it with the raw status token (only its hash is kept)."""
    service = session.get(Service, service_id)
    if service is None:
        raise NotFound(N_("This listing does not exist or was removed."))
    keys = [throttle.key_for(secret, "suggest-ip", client_ip)]
    throttle.check(session=session, keys=keys, limit=throttle.SUGGESTION_LIMIT, now=now, message=LIMITED)
    data, hours = _parse(raw, hours_raw)
    raw_token = new_token()
    row = Suggestion(
        kind=data.kind.value,
        text=data.text,
        contact=data.contact,
        service_id=service.id,
        organization_id=service.organization_id,
        proposed=_proposed(data, hours),
        status_token_hash=token_hash(raw_token),
        created_at=now,
    )
    session.add(row)
    throttle.record(session=session, keys=keys, limit=throttle.SUGGESTION_LIMIT, now=now)
    session.commit()
    return row, raw_token


def status_for(*, session: Session, raw_token: str) -> tuple[Suggestion, Service | None]:
    row = session.exec(select(Suggestion).where(Suggestion.status_token_hash == token_hash(raw_token))).first()
    if row is None:
        raise NotFound(N_("This status link is not valid."))
    return row, session.get(Service, row.service_id)


@dataclass
class SuggestionView:
    suggestion: Suggestion
    service: Service
    access: Access
    op: str | None
    operation: Operation | None
    target: Target | None
    default_raw: dict[str, Any]
    changes: list[audit.FieldChange]
    zone: str = zones.DEFAULT_ZONE  # the organization's: times on the page are shown in it


def suggestion_for(
    *, session: Session, user: User, suggestion_id: uuid.UUID, raw: Mapping[str, Any] | None = None
) -> SuggestionView:
    """A suggestion with the change it would make (the moderator may edit it) and the before/after."""
    row = session.get(Suggestion, suggestion_id)
    if row is None or not may_see(session, user, row.organization_id):
        raise NotFound(NOT_FOUND)
    service = session.get(Service, row.service_id)
    if service is None:
        raise NotFound(NOT_FOUND)
    access = access_for(session=session, user=user, organization_id=row.organization_id)
    op, location_id, default_raw = proposal(session, row, service)
    zone = zones.organization_zone(session, row.organization_id) or zones.DEFAULT_ZONE
    if op is None:
        return SuggestionView(row, service, access, None, None, None, {}, [], zone)
    operation, target, _ = target_for(session=session, user=user, op=op, service_id=service.id, location_id=location_id)
    changes: list[audit.FieldChange] = []
    try:
        data = validate(session, operation, target, raw if raw is not None else default_raw)
        changes = audit.field_changes(operation.current(session, target), operation.proposed(session, target, data))
    except ValidationFailed:
        changes = []
    return SuggestionView(row, service, access, op, operation, target, default_raw, changes, zone)


def proposal(session: Session, row: Suggestion, service: Service) -> tuple[str | None, uuid.UUID | None, dict]:
    """The change a suggestion proposes: (operation, location id, form values)."""
    kind, proposed = row.kind, row.proposed or {}
    if kind == SuggestionKind.closed:
        return (
            "service.status",
            None,
            {"status": ServiceStatus.temporarily_closed.value, "reopening_date": proposed.get("reopening_date")},
        )
    if kind == SuggestionKind.no_longer_meets:
        return "service.status", None, {"status": ServiceStatus.inactive.value}
    if kind == SuggestionKind.wrong_hours:
        hours = proposed.get("hours") or {"timezone": default_timezone(session, service), "rows": []}
        return "service.hours", None, hours
    if kind == SuggestionKind.moved:
        stmt = select(ServiceAtLocation.location_id).where(ServiceAtLocation.service_id == service.id)
        location_id = session.exec(stmt.order_by(col(ServiceAtLocation.id))).first()
        if location_id is None:
            return None, None, {}
        return "location.update", location_id, dict(proposed.get("address") or {})
    return None, None, {}


def approve_suggestion(
    *, session: Session, user: User, suggestion_id: uuid.UUID, raw: Mapping[str, Any] | None, now: datetime
) -> Suggestion:
    """Apply the (possibly edited) proposal, or for kinds without one simply mark the report handled."""
    view = suggestion_for(session=session, user=user, suggestion_id=suggestion_id, raw=raw)
    _maydecide(view.access)
    row = view.suggestion
    still_pending(row)
    try:
        if view.operation is not None and view.target is not None:
            data = validate(session, view.operation, view.target, raw if raw is not None else view.default_raw)
            request = _decision_record(session, view, data.model_dump(mode="json"), user, now)
            actor = audit.Actor(
                user_id=None,
                email="public suggestion",
                approved_by_id=user.id,
                via=ChangeVia.suggestion,
                change_request_id=request.id,
            )
            apply_operation(session, view.operation, view.target, data, actor=actor, author=None, now=now)
            row.change_request_id = request.id
        decide(row, user, "approved", now, None)
        session.add(row)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return row


def reject_suggestion(
    *, session: Session, user: User, suggestion_id: uuid.UUID, reason: str, now: datetime
) -> Suggestion:
    view = suggestion_for(session=session, user=user, suggestion_id=suggestion_id)
    _maydecide(view.access)
    still_pending(view.suggestion)
    decide(view.suggestion, user, "rejected", now, clean_reason(reason, required=True))
    session.add(view.suggestion)
    session.commit()
    return view.suggestion


def _maydecide(access: Access) -> None:
    if not access.can_decide_suggestions:
        raise Forbidden(N_("Only the organization's admins, trusted editors and network admins decide on suggestions."))


def _decision_record(
    session: Session, view: SuggestionView, payload: dict[str, Any], user: User, now: datetime
) -> ChangeRequest:
    assert view.operation is not None and view.target is not None
    request = ChangeRequest(
        organization_id=view.suggestion.organization_id,
        service_id=view.service.id,
        target_id=view.target.location.id if view.target.location else None,
        op=view.operation.name,
        payload=payload,
        before=view.operation.current(session, view.target),
        status=RequestStatus.approved,
        source="suggestion",
        suggestion_id=view.suggestion.id,
        submitted_at=view.suggestion.created_at,
        decided_by_id=user.id,
        decided_at=now,
    )
    session.add(request)
    session.flush()
    return request
