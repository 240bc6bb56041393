"""Organization workspace use cases: who may do what, and submitting a listing change.

A change by a network admin, an organization admin or a trusted editor is applied at once; a change by an
editor not yet trusted is stored as a ChangeRequest and applied only when an admin approves it, so the
public keeps seeing the last approved version. Every applied change writes, in one transaction, the rows
themselves, one audit row per changed entity and one outbox row per affected listing.
"""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from accounts.models import Membership, OrgRole, User
from accounts.permissions import require_org_role
from core.clock import utcnow
from core.errors import NotFound, ValidationFailed
from core.i18n import N_
from core.outbox import record_change
from directory.edits import audit
from directory.edits.forms import WorkspaceForm, parse
from directory.edits.models import ChangeRequest
from directory.edits.operations import OPERATIONS as _FIELD_OPERATIONS
from directory.edits.operations import Applied, Context, Operation, Target
from directory.edits.places import CreateService, LocationAdd, LocationUpdate
from directory.listings.models import Location, Organization, Service, ServiceAtLocation

OPERATIONS: dict[str, Operation] = {
    **_FIELD_OPERATIONS,
    "location.update": LocationUpdate(),
    "location.add": LocationAdd(),
    "service.create": CreateService(),
}
ORGANIZATION_OPS = frozenset({"organization.update", "service.create"})


@dataclass(frozen=True)
class Access:
    organization_id: uuid.UUID
    is_network_admin: bool
    role: str | None
    trusted: bool

    @property
    def is_admin(self) -> bool:
        return self.is_network_admin or self.role == OrgRole.admin

    @property
    def applies_directly(self) -> bool:
        return self.is_admin or (self.role == OrgRole.editor and self.trusted)

    can_approve = can_audit = can_manage = is_admin

    @property
    def can_decide_suggestions(self) -> bool:
        return self.applies_directly


def access_for(*, session: Session, user: User, organization_id: uuid.UUID) -> Access:
    """Forbidden unless the user is a member of the organization or a network admin."""
    member = require_org_role(session=session, user=user, organization_id=organization_id)
    if member is None:
        return Access(organization_id, True, None, True)
    return Access(organization_id, user.is_network_admin, member.role, member.trusted or member.role == OrgRole.admin)


def organization_for(*, session: Session, user: User, organization_id: uuid.UUID) -> tuple[Organization, Access]:
    org = session.get(Organization, organization_id)
    if org is None:
        raise NotFound(N_("This organization does not exist."))
    return org, access_for(session=session, user=user, organization_id=org.id)


def service_for(*, session: Session, user: User, service_id: uuid.UUID) -> tuple[Service, Access]:
    service = session.get(Service, service_id)
    if service is None:
        raise NotFound(N_("This listing does not exist."))
    return service, access_for(session=session, user=user, organization_id=service.organization_id)


def location_organization(session: Session, location: Location) -> uuid.UUID:
    if location.organization_id is not None:
        return location.organization_id
    stmt = select(Service.organization_id).join(ServiceAtLocation, col(ServiceAtLocation.service_id) == Service.id)
    org_id = session.exec(stmt.where(ServiceAtLocation.location_id == location.id)).first()
    if org_id is None:
        raise NotFound(N_("This location does not exist."))
    return org_id


def target_for(
    *,
    session: Session,
    user: User,
    op: str,
    organization_id: uuid.UUID | None = None,
    service_id: uuid.UUID | None = None,
    location_id: uuid.UUID | None = None,
) -> tuple[Operation, Target, Access]:
    operation = OPERATIONS.get(op)
    if operation is None:
        raise NotFound(N_("No such kind of change."))
    service: Service | None = None
    location: Location | None = None
    if op == "location.update":
        location = session.get(Location, location_id) if location_id else None
        if location is None:
            raise NotFound(N_("This location does not exist."))
        organization_id = location_organization(session, location)
    elif op not in ORGANIZATION_OPS:
        if service_id is None:
            raise NotFound(N_("This listing does not exist."))
        service, _ = service_for(session=session, user=user, service_id=service_id)
        organization_id = service.organization_id
    if organization_id is None:
        raise NotFound(N_("This organization does not exist."))
    org, access = organization_for(session=session, user=user, organization_id=organization_id)
    if service is None and service_id is not None and op == "location.update":
        service = session.get(Service, service_id)
        service = service if service is not None and service.organization_id == org.id else None
    return operation, Target(org, service, location), access


def validate(session: Session, operation: Operation, target: Target, raw: Mapping[str, Any]) -> WorkspaceForm:
    """Parse the input and check the rules that need the database; raise before anything is written."""
    data = parse(operation.form, raw)
    if errors := operation.check(session, target, data):
        raise ValidationFailed(N_("Please correct the highlighted fields."), errors=errors)
    return data


def apply_operation(
    session: Session,
    operation: Operation,
    target: Target,
    data: WorkspaceForm,
    *,
    actor: audit.Actor,
    author: User | None,
    now: datetime,
) -> Applied:
    """Stage the change, its audit rows and its outbox rows (the caller commits once)."""
    applied = operation.apply(session, target, data, Context(author=author, now=now))
    service_id = applied.created_id or (target.service.id if target.service else None)
    for change in applied.changes:
        audit.record(
            session,
            actor=actor,
            organization_id=target.organization.id,
            service_id=service_id,
            entity=change.entity,
            entity_id=change.entity_id,
            action=operation.name,
            before=change.before,
            after=change.after,
            now=now,
        )
    record_change(session, sorted(applied.service_ids))
    return applied


@dataclass(frozen=True)
class Outcome:
    applied: bool
    change_request: ChangeRequest | None = None
    created_id: uuid.UUID | None = None


def submit_change(
    *,
    session: Session,
    user: User,
    op: str,
    raw: Mapping[str, Any],
    organization_id: uuid.UUID | None = None,
    service_id: uuid.UUID | None = None,
    location_id: uuid.UUID | None = None,
) -> Outcome:
    """Apply the change now, or hold it for approval when the user is an untrusted editor."""
    operation, target, access = target_for(
        session=session,
        user=user,
        op=op,
        organization_id=organization_id,
        service_id=service_id,
        location_id=location_id,
    )
    data = validate(session, operation, target, raw)
    now = utcnow()
    try:
        if access.applies_directly:
            applied = apply_operation(
                session, operation, target, data, actor=audit.Actor.of(user), author=user, now=now
            )
            session.commit()
            return Outcome(applied=True, created_id=applied.created_id)
        held = _hold(session, operation, target, data, user, now)
        session.commit()
        return Outcome(applied=False, change_request=held)
    except Exception:
        session.rollback()
        raise


def _hold(
    session: Session, operation: Operation, target: Target, data: WorkspaceForm, user: User, now: datetime
) -> ChangeRequest:
    """Stage the change as a request for approval; the listing itself stays as it is."""
    held = ChangeRequest(
        organization_id=target.organization.id,
        service_id=target.service.id if target.service else None,
        target_id=target.location.id if target.location else None,
        op=operation.name,
        payload=data.model_dump(mode="json"),
        before=operation.current(session, target),
        submitted_by_id=user.id,
        submitted_at=now,
    )
    session.add(held)
    return held


def my_organizations(*, session: Session, user: User) -> list[tuple[Organization, str]]:
    stmt = (
        select(Organization, Membership.role)
        .join(Membership, col(Membership.organization_id) == Organization.id)
        .where(Membership.user_id == user.id)
        .order_by(col(Organization.name))
    )
    return [(org, role) for org, role in session.exec(stmt).all()]


def find_organizations(*, session: Session, user: User, query: str, limit: int = 50) -> list[Organization]:
    """Network admins look up any organization by name (others only ever see their own)."""
    text = query.strip()
    if not user.is_network_admin or not text:
        return []
    stmt = select(Organization).where(col(Organization.name).ilike(f"%{text}%")).order_by(col(Organization.name))
    return list(session.exec(stmt.limit(limit)).all())


def organization_services(*, session: Session, organization_id: uuid.UUID) -> list[Service]:
    stmt = select(Service).where(Service.organization_id == organization_id).order_by(col(Service.name))
    return list(session.exec(stmt).all())
