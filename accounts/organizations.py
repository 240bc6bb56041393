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
