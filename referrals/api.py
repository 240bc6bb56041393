"""JSON API for referrals: `Authorization: Bearer <API token>` (or the session cookie with CSRF).

Every action of the workflow is `POST /api/v1/referrals/{id}/actions/{action}`; the body fields each
action needs are listed on `ActionIn`. Errors are JSON `{"error", "detail", "errors"}` with 401, 403,
404 (also for referrals you may not see), 409 (invalid transition or lost race) or 422.
"""

import json
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel

from accounts.deps import CurrentUser, NetworkAdmin
from accounts.models import User
from core.clock import StoredTime, utcnow
from core.deps import AppSettings, DbSession
from directory.listings.models import Organization
from referrals import access, audit, fhir, local, metrics, notifications, privacy, queries, records, service
from referrals.consent import current_consent
from referrals.schemas import (
    ActionIn,
    AuditVerificationPublic,
    EventPublic,
    NoteIn,
    NotificationPublic,
    ReferralCreate,
    ReferralPublic,
)
from referrals.workflow import Action


def _no_store(response: Response) -> None:
    response.headers["Cache-Control"] = "no-store"  # personal details: never cached


router = APIRouter(prefix="/api/v1/referrals", tags=["referrals"], dependencies=[Depends(_no_store)])
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in"},
    403: {"description": "Your role does not allow this"},
    404: {"description": "No such referral, or not yours to see"},
    409: {"description": "Invalid transition, or someone else changed it first"},
    422: {"description": "Missing or invalid input (reason, outcome, consent...)"},
}


class NotePublic(BaseModel):
    id: uuid.UUID
    created_at: StoredTime
    author_role: str


class MetricsPublic(BaseModel):
    scope: str
    organization_id: uuid.UUID | None
    suppressed_small_counts: bool
    total: dict[str, str]
    by_organization: list[dict[str, str]]
    by_category: list[dict[str, str]]
    by_month: list[dict[str, str]]
    outcomes: dict[str, str]
    decline_reasons: dict[str, str]


class CapacityPublic(BaseModel):
    service_id: uuid.UUID
    capacity: str


def _public(session: DbSession, referral_id: uuid.UUID, user: User) -> ReferralPublic:
    referral, viewer = access.visible_referral(session, referral_id, user, now=utcnow())
    return queries.public(referral, viewer)


@router.get("", response_model=list[ReferralPublic], responses=ERRORS)
def list_referrals(
    session: DbSession, user: CurrentUser, scope: Annotated[Literal["mine", "inbox"], Query()] = "mine"
) -> list[ReferralPublic]:
    """`mine`: referrals you sent. `inbox`: sent to your organizations, plus open referrals offered to them."""
    return queries.list_for_api(session=session, user=user, now=utcnow(), scope=scope)


@router.post("", response_model=ReferralPublic, status_code=201, responses=ERRORS)
def create(body: ReferralCreate, session: DbSession, settings: AppSettings, user: CurrentUser) -> ReferralPublic:
    """Create a referral (peers only). With `send` (default) it needs consent covering the recipient and data."""
    referral = service.create_referral(session=session, actor=user, data=body, now=utcnow(), settings=settings)
    return _public(session, referral.id, user)


@router.get("/metrics", response_model=MetricsPublic, responses=ERRORS)
def metrics_json(
    session: DbSession, user: CurrentUser, organization_id: Annotated[uuid.UUID | None, Query()] = None
) -> MetricsPublic:
    scope = metrics.scope_for(session=session, user=user, organization_id=organization_id)
    rows = metrics.rows_in(session, scope)
    total = metrics.summarize(rows)

    def group(by: str) -> list[dict[str, str]]:
        return [metrics.table_row(k, s, scope.suppress) for k, s in metrics.breakdown(rows, by)]

    return MetricsPublic(
        scope=scope.label,
        organization_id=scope.organization_id,
        suppressed_small_counts=scope.suppress,
        total=metrics.table_row("all", total, scope.suppress),
        by_organization=group("organization"),
        by_category=group("category"),
        by_month=group("month"),
        outcomes={k: metrics.count_cell(n, scope.suppress) for k, n in total.outcomes.items()},
        decline_reasons={k: metrics.count_cell(n, scope.suppress) for k, n in total.decline_reasons.items()},
    )


@router.get("/notifications", response_model=list[NotificationPublic], responses=ERRORS)
def list_notifications(session: DbSession, user: CurrentUser) -> list[NotificationPublic]:
    return [
        NotificationPublic(
            id=n.id,
            kind=n.kind,
            text=notifications.text_for(n.kind),
            referral_id=n.referral_id,
            created_at=n.created_at,
            read=n.read_at is not None,
        )
        for n in notifications.recent(session, user.id)
    ]


@router.post("/notifications/read", status_code=204, responses=ERRORS)
def read_notifications(session: DbSession, user: CurrentUser) -> Response:
    notifications.mark_all_read(session=session, user_id=user.id, now=utcnow())
    return Response(status_code=204)


@router.get("/audit/verify", response_model=AuditVerificationPublic, responses=ERRORS)
def verify_audit(session: DbSession, settings: AppSettings, _admin: NetworkAdmin) -> AuditVerificationPublic:
    """Network admins: recompute the audit hash chain and report the first broken link."""
    result = audit.verify_chain(session, key=audit.audit_key(settings))
    return AuditVerificationPublic(
        ok=result.ok, checked=result.checked, broken_seq=result.broken_seq, message=result.describe()
    )


@router.get("/{referral_id}", response_model=ReferralPublic, responses=ERRORS)
def get_referral(
    referral_id: uuid.UUID, session: DbSession, settings: AppSettings, user: CurrentUser
) -> ReferralPublic:
    referral, viewer = queries.open_referral(
        session=session, referral_id=referral_id, user=user, now=utcnow(), settings=settings, via="api"
    )
    return queries.public(referral, viewer)


@router.post("/{referral_id}/actions/{action}", response_model=ReferralPublic, responses=ERRORS)
def act(
    referral_id: uuid.UUID, action: Action, body: ActionIn, session: DbSession, settings: AppSettings, user: CurrentUser
) -> ReferralPublic:
    """Apply a workflow action (see the transition table in referrals/workflow.py)."""
    service.apply_action(
        session=session,
        referral_id=referral_id,
        actor=user,
        action=action,
        data=body.to_input(),
        now=utcnow(),
        settings=settings,
        expected_version=body.version,
        organization_id=body.organization_id,
    )
    return _public(session, referral_id, user)


@router.post("/{referral_id}/notes", response_model=NotePublic, status_code=201, responses=ERRORS)
def add_note(
    referral_id: uuid.UUID, body: NoteIn, session: DbSession, settings: AppSettings, user: CurrentUser
) -> NotePublic:
    note = records.add_note(
        session=session, referral_id=referral_id, actor=user, body=body.body, now=utcnow(), settings=settings
    )
    return NotePublic(id=note.id, created_at=note.created_at, author_role=note.author_role)


@router.get("/{referral_id}/events", response_model=list[EventPublic], responses=ERRORS)
def events(referral_id: uuid.UUID, session: DbSession, user: CurrentUser) -> list[EventPublic]:
    referral, viewer = access.visible_referral(session, referral_id, user, now=utcnow())
    access.log_access(session, referral_ids=[referral.id], viewer=viewer, via="api", now=utcnow(), content_shown=False)
    session.commit()
    return [EventPublic.model_validate(e, from_attributes=True) for e in audit.history(session, referral.id)]


@router.post("/{referral_id}/consent/revoke", response_model=ReferralPublic, responses=ERRORS)
def revoke_consent(
    referral_id: uuid.UUID, session: DbSession, settings: AppSettings, user: CurrentUser
) -> ReferralPublic:
    """The person withdrew consent: open referrals are cancelled, content hidden from the recipient."""
    privacy.revoke_consent(session=session, referral_id=referral_id, actor=user, now=utcnow(), settings=settings)
    return _public(session, referral_id, user)


@router.post("/{referral_id}/capacity-full", response_model=CapacityPublic, responses=ERRORS)
def capacity_full(referral_id: uuid.UUID, session: DbSession, user: CurrentUser) -> CapacityPublic:
    """After declining as at-capacity: mark the referred listing full (search is updated via the outbox)."""
    listing = records.mark_listing_full(session=session, referral_id=referral_id, actor=user, now=utcnow())
    return CapacityPublic(service_id=listing.id, capacity=listing.capacity)


@router.get(
    "/{referral_id}/fhir",
    responses=ERRORS | {200: {"content": {"application/fhir+json": {}}, "description": "A FHIR R4 Bundle"}},
)
def fhir_bundle(referral_id: uuid.UUID, session: DbSession, settings: AppSettings, user: CurrentUser) -> Response:
    """FHIR R4 Bundle (collection) with ServiceRequest, Task, Consent, Patient, Practitioner, Organization."""
    now = utcnow()
    referral, viewer = queries.open_referral(
        session=session, referral_id=referral_id, user=user, now=now, settings=settings, via="fhir"
    )
    recipient = (
        session.get(Organization, referral.recipient_organization_id) if referral.recipient_organization_id else None
    )
    body = fhir.bundle(
        referral=referral,
        viewer=viewer,
        consent=current_consent(session, referral.id),
        creator=session.get(User, referral.creator_id),
        recipient=recipient,
        base_url=settings.base_url,
        now=now,
        appointment=local.local_appointment(session, referral, settings),
    )
    return Response(json.dumps(body), media_type="application/fhir+json", headers={"Cache-Control": "no-store"})
