"""The organizations that memberships, invitations and peer profiles point at, read by id.

The `organization` table belongs to the directory, which builds on accounts; so accounts reads the two
columns it needs through a lightweight table description instead of importing the directory's models.
"""

import uuid
from dataclasses import dataclass

from sqlalchemy import String, Uuid, column, select, table
from sqlmodel import Session

_organization = table("organization", column("id", Uuid()), column("name", String()))


@dataclass(frozen=True)
class OrganizationRef:
    id: uuid.UUID
    name: str


def find_organization(session: Session, organization_id: uuid.UUID) -> OrganizationRef | None:
    row = session.execute(
        select(_organization.c.id, _organization.c.name).where(_organization.c.id == organization_id)
    ).first()
    return OrganizationRef(row[0], row[1]) if row is not None else None


def search_organizations(session: Session, query: str, *, limit: int = 10) -> list[OrganizationRef]:
    """Organizations whose name contains `query` (case-insensitive), for pickers that search by name.
    LIKE's own wildcards in the query are taken literally."""
    text = " ".join(query.split())[:100]
    if len(text) < 2:
        return []
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = session.execute(
        select(_organization.c.id, _organization.c.name)
        .where(_organization.c.name.ilike(pattern, escape="\\"))
        .order_by(_organization.c.name)
        .limit(limit)
    ).all()
    return [OrganizationRef(r[0], r[1]) for r in rows]
