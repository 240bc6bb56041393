"""The moderation queue: held changes by untrusted editors and public suggestions, and deciding on them.

Held changes are approved by organization admins and network admins. Someone who cannot see an item gets
"not found" for it (guessed ids reveal nothing); a member who may see but not decide gets "forbidden".
"""

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from accounts.models import User
from accounts.permissions import organization_ids
from core.errors import Forbidden, InvalidTransition, NotFound, ValidationFailed
from core.i18n import N_
from directory.edits import audit
from directory.edits.models import ChangeRequest, ChangeVia, RequestStatus
from directory.edits.operations import Operation, Target
from directory.edits.service import OPERATIONS, Access, access_for, apply_operation, target_for, validate
from directory.listings import zones
from directory.listings.models import Organization, Service
from directory.stewardship.models import ClaimRequest, Suggestion, SuggestionStatus

QUEUE_LIMIT = 200
NOT_FOUND = N_("This item does not exist or is not yours to see.")


@dataclass(frozen=True)
class QueueItem:
    kind: str  # change | suggestion
    id: uuid.UUID
    organization: str
    listing: str | None
    what: str
    at: datetime
    organization_id: uuid.UUID | None = None
    zone: str = zones.DEFAULT_ZONE  # the organization's: `at` is shown in it


def queue(*, session: Session, user: User) -> list[QueueItem]:
    """Pending held changes and new suggestions of the user's organizations (all, for network admins)."""
    changes = (
        select(ChangeRequest, Organization.name, Service.name)
        .join(Organization, col(Organization.id) == ChangeRequest.organization_id)
        .outerjoin(Service, col(Service.id) == ChangeRequest.service_id)
        .where(ChangeRequest.status == RequestStatus.pending)
    )
    suggestions = (
        select(Suggestion, Organization.name, Service.name)
        .join(Organization, col(Organization.id) == Suggestion.organization_id)
        .join(Service, col(Service.id) == Suggestion.service_id)
        .where(Suggestion.status == SuggestionStatus.new)
    )
    if not user.is_network_admin:
        mine = organization_ids(session=session, user=user)
        changes = changes.where(col(ChangeRequest.organization_id).in_(mine))
        suggestions = suggestions.where(col(Suggestion.organization_id).in_(mine))
    items = [
        QueueItem(
            "change", c.id, org, svc, OPERATIONS[c.op].label if c.op in OPERATIONS else c.op, c.submitted_at,
            c.organization_id,
        )
        for c, org, svc in session.exec(changes.order_by(col(ChangeRequest.submitted_at)).limit(QUEUE_LIMIT))
    ]  # fmt: skip
    items += [
        QueueItem("suggestion", s.id, org, svc, s.kind, s.created_at, s.organization_id)
        for s, org, svc in session.exec(suggestions.order_by(col(Suggestion.created_at)).limit(QUEUE_LIMIT))
    ]
    named = zones.organization_zones(session, {i.organization_id for i in items if i.organization_id})
    items = [replace(i, zone=named[i.organization_id]) if i.organization_id in named else i for i in items]
    return sorted(items, key=lambda item: audit.json_value(item.at))


def waiting_count(*, session: Session, user: User) -> int:
    """How many items the user's queue holds (the menu's badge): the same scope as `queue`."""
    changes = select(func.count()).select_from(ChangeRequest).where(ChangeRequest.status == RequestStatus.pending)
    new = select(func.count()).select_from(Suggestion).where(Suggestion.status == SuggestionStatus.new)
    if not user.is_network_admin:
        mine = organization_ids(session=session, user=user)
        changes = changes.where(col(ChangeRequest.organization_id).in_(mine))
        new = new.where(col(Suggestion.organization_id).in_(mine))
    return int(session.exec(changes).one()) + int(session.exec(new).one())


@dataclass
class ChangeView:
    request: ChangeRequest
    operation: Operation
    target: Target
    access: Access
    submitted_by: User | None
    changes: list[audit.FieldChange]
    zone: str = zones.DEFAULT_ZONE  # the organization's: times on the page are shown in it


def change_request_for(*, session: Session, user: User, change_id: uuid.UUID) -> ChangeView:
    """A held change with its before/after (current values against the proposal)."""
    row = session.get(ChangeRequest, change_id)
    if row is None or not may_see(session, user, row.organization_id):
        raise NotFound(NOT_FOUND)
    operation, target, access = _target_of(session, user, row)
    data = operation.form.model_validate(row.payload)
    current = operation.current(session, target) if row.status == RequestStatus.pending else row.before
    proposed = operation.proposed(session, target, data)
    author = session.get(User, row.submitted_by_id) if row.submitted_by_id else None
    zone = zones.organization_zone(session, row.organization_id) or zones.DEFAULT_ZONE
    return ChangeView(row, operation, target, access, author, audit.field_changes(current, proposed), zone)


def approve_change(*, session: Session, user: User, change_id: uuid.UUID, now: datetime) -> ChangeRequest:
    view = change_request_for(session=session, user=user, change_id=change_id)
    row = view.request
    if not view.access.can_approve:
        raise Forbidden(N_("Only the organization's admins and network admins approve changes."))
    still_pending(row)
    data = validate(session, view.operation, view.target, row.payload)
    actor = audit.Actor(
        user_id=row.submitted_by_id,
        email=view.submitted_by.email if view.submitted_by else "",
        approved_by_id=user.id,
        via=ChangeVia.approval,
        change_request_id=row.id,
    )
    try:
        apply_operation(session, view.operation, view.target, data, actor=actor, author=view.submitted_by, now=now)
        decide(row, user, RequestStatus.approved, now, None)
        session.add(row)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return row


def reject_change(*, session: Session, user: User, change_id: uuid.UUID, reason: str, now: datetime) -> ChangeRequest:
    view = change_request_for(session=session, user=user, change_id=change_id)
    if not view.access.can_approve:
        raise Forbidden(N_("Only the organization's admins and network admins reject changes."))
    still_pending(view.request)
    decide(view.request, user, RequestStatus.rejected, now, clean_reason(reason, required=False))
    session.add(view.request)
    session.commit()
    return view.request


def my_pending_changes(*, session: Session, user: User, service_id: uuid.UUID) -> list[ChangeRequest]:
    stmt = select(ChangeRequest).where(
        ChangeRequest.service_id == service_id, ChangeRequest.status == RequestStatus.pending
    )
    if not user.is_network_admin:
        stmt = stmt.where(col(ChangeRequest.organization_id).in_(organization_ids(session=session, user=user)))
    return list(session.exec(stmt.order_by(col(ChangeRequest.submitted_at))).all())


def _target_of(session: Session, user: User, row: ChangeRequest) -> tuple[Operation, Target, Access]:
    return target_for(
        session=session,
        user=user,
        op=row.op,
        organization_id=row.organization_id,
        service_id=row.service_id,
        location_id=row.target_id,
    )


def may_see(session: Session, user: User, organization_id: uuid.UUID) -> bool:
    try:
        access_for(session=session, user=user, organization_id=organization_id)
    except Forbidden:
        return False
    return True


def still_pending(row: ChangeRequest | Suggestion | ClaimRequest) -> None:
    if row.status not in (RequestStatus.pending, SuggestionStatus.new):
        raise InvalidTransition(N_("This was already %(status)s.", status=row.status))


def decide(row: Any, user: User, status: str, now: datetime, reason: str | None) -> None:
    row.status, row.decided_by_id, row.decided_at, row.decision_reason = status, user.id, now, reason


def clean_reason(reason: str, *, required: bool) -> str | None:
    text = " ".join(reason.split())
    if required and not text:
        raise ValidationFailed(N_("Say why, in a sentence (the reporter sees it)."), field="reason")
    if len(text) > 1000:
        raise ValidationFailed(N_("At most 1000 characters."), field="reason")
    return text or None
