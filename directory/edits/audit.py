"""The listing audit log: append a row per changed entity, read it back for admins. Never updated or deleted.

Snapshots are JSON-safe dicts of the fields a person edits. A confidential street address is written as
a placeholder, so the log can be shown or exported without revealing where a shelter is.
"""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import Enum
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from accounts.models import User
from accounts.permissions import require_org_role
from directory.edits.models import ChangeVia, ListingChange

CONFIDENTIAL = "[confidential]"
PAGE_SIZE = 50
ADMINS = frozenset({"admin"})


def json_value(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    return value


def snapshot(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: json_value(getattr(obj, name)) for name in fields}


@dataclass(frozen=True)
class Actor:
    """Who a change is attributed to: the author, and who approved it when it was held or suggested."""

    user_id: uuid.UUID | None
    email: str
    approved_by_id: uuid.UUID | None = None
    via: ChangeVia = ChangeVia.direct
    change_request_id: uuid.UUID | None = None

    @classmethod
    def of(cls, user: User | None, **kw: Any) -> "Actor":
        return cls(user_id=user.id if user else None, email=user.email if user else "public suggestion", **kw)


def record(
    session: Session,
    *,
    actor: Actor,
    organization_id: uuid.UUID,
    service_id: uuid.UUID | None,
    entity: str,
    entity_id: uuid.UUID,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    now: datetime,
) -> ListingChange | None:
    """Stage one audit row (the caller commits with the change itself). Nothing is written when nothing changed."""
    if before is not None and after is not None and before == after:
        return None
    row = ListingChange(
        at=now,
        actor_id=actor.user_id,
        actor_email=actor.email,
        approved_by_id=actor.approved_by_id,
        organization_id=organization_id,
        service_id=service_id,
        entity=entity,
        entity_id=entity_id,
        action=action,
        via=actor.via.value,
        change_request_id=actor.change_request_id,
        before=before,
        after=after,
    )
    session.add(row)
    return row


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: Any
    after: Any


def field_changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[FieldChange]:
    """Field-by-field differences, for the before/after views."""
    old, new = before or {}, after or {}
    return [FieldChange(k, old.get(k), new.get(k)) for k in dict.fromkeys([*old, *new]) if old.get(k) != new.get(k)]


def organization_log(
    *, session: Session, user: User, organization_id: uuid.UUID, service_id: uuid.UUID | None = None, page: int = 1
) -> tuple[list[ListingChange], int]:
    """The organization's audit trail (newest first); only its admins and network admins may read it."""
    require_org_role(session=session, user=user, organization_id=organization_id, roles=ADMINS)
    stmt = select(ListingChange).where(ListingChange.organization_id == organization_id)
    count = select(func.count()).select_from(ListingChange).where(ListingChange.organization_id == organization_id)
    if service_id is not None:
        stmt = stmt.where(ListingChange.service_id == service_id)
        count = count.where(ListingChange.service_id == service_id)
    stmt = stmt.order_by(col(ListingChange.at).desc(), col(ListingChange.id).desc())
    rows = session.exec(stmt.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    return list(rows), int(session.exec(count).one())
