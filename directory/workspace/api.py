"""JSON API for organizations' own tools (`Authorization: Bearer <API token>`; a signed-in browser also works).

The same rules as the HTML workspace: members only, untrusted editors' changes are held, invalid input is
a 422 with a message per field, and nothing is written unless everything is valid.
"""

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query

from accounts.deps import CurrentUser
from core.clock import utcnow
from core.deps import DbSession
from directory.edits import audit
from directory.edits.service import (
    my_organizations,
    organization_for,
    organization_services,
    service_for,
    submit_change,
)
from directory.edits.values import SECTIONS, current_values
from directory.listings.freshness import is_stale, reference_date
from directory.listings.models import Service

router = APIRouter(prefix="/api/v1/workspace", tags=["workspace API"])
Section = Literal["details", "status", "capacity", "hours", "meeting", "verify"]


def _listing(session: DbSession, service: Service) -> dict[str, Any]:
    return {
        "id": str(service.id),
        "organization_id": str(service.organization_id),
        "name": service.name,
        "kind": service.kind,
        "status": service.status,
        "capacity": service.capacity,
        "capacity_note": service.capacity_note,
        "reopening_date": audit.json_value(service.reopening_date),
        "assured_date": audit.json_value(service.assured_date),
        "stale": is_stale(service, today=utcnow().date()),
        "verified_on": reference_date(service).isoformat(),
    }


@router.get("/organizations", name="api_workspace_organizations")
def organizations(session: DbSession, user: CurrentUser) -> dict[str, Any]:
    return {
        "organizations": [
            {"id": str(org.id), "name": org.name, "role": role}
            for org, role in my_organizations(session=session, user=user)
        ]
    }


@router.get("/organizations/{organization_id}/services", name="api_workspace_services")
def services(session: DbSession, user: CurrentUser, organization_id: uuid.UUID) -> dict[str, Any]:
    org, _ = organization_for(session=session, user=user, organization_id=organization_id)
    return {"services": [_listing(session, s) for s in organization_services(session=session, organization_id=org.id)]}


@router.get("/services/{service_id}", name="api_workspace_service")
def service(session: DbSession, user: CurrentUser, service_id: uuid.UUID) -> dict[str, Any]:
    row, access = service_for(session=session, user=user, service_id=service_id)
    hours = current_values(session, row, "hours")
    return {**_listing(session, row), "hours": hours, "applies_directly": access.applies_directly}


@router.post("/services/{service_id}/{section}", name="api_workspace_service_save")
def service_save(
    session: DbSession,
    user: CurrentUser,
    service_id: uuid.UUID,
    section: Section,
    body: Annotated[dict[str, Any], Body()],
) -> dict[str, Any]:
    outcome = submit_change(session=session, user=user, op=SECTIONS[section], raw=body, service_id=service_id)
    held = outcome.change_request
    return {"applied": outcome.applied, "change_request_id": str(held.id) if held else None}


@router.get("/organizations/{organization_id}/audit", name="api_workspace_audit")
def audit_log(
    session: DbSession, user: CurrentUser, organization_id: uuid.UUID, page: Annotated[int, Query(ge=1, le=100_000)] = 1
) -> dict[str, Any]:
    rows, total = audit.organization_log(session=session, user=user, organization_id=organization_id, page=page)
    return {
        "total": total,
        "page": page,
        "changes": [
            {
                "at": audit.json_value(r.at),
                "actor": r.actor_email,
                "approved_by_id": audit.json_value(r.approved_by_id),
                "entity": r.entity,
                "entity_id": str(r.entity_id),
                "service_id": audit.json_value(r.service_id),
                "action": r.action,
                "via": r.via,
                "before": r.before,
                "after": r.after,
            }
            for r in rows
        ],
    }
