"""Small writes beside the workflow: notes on a referral, and marking a listing full after an
"at capacity" decline (written with an outbox row so search picks it up)."""

import uuid
from datetime import datetime

from sqlmodel import Session, col, select

from accounts.models import OrgRole, User
from accounts.permissions import require_org_role
from core.errors import Forbidden, ValidationFailed
from core.i18n import N_
from core.outbox import record_change
from core.settings import Settings
from directory.listings.models import Capacity, Service
from referrals import access, audit
from referrals.codes import Role, Status
from referrals.models import ReferralContactAttempt, ReferralNote

MAX_NOTE = 2000


def add_note(
    *, session: Session, referral_id: uuid.UUID, actor: User, body: str, now: datetime, settings: Settings
) -> ReferralNote:
    """A note shared between the referring peer and the receiving organization."""
    referral, viewer = access.visible_referral(session, referral_id, actor, now=now)
    body = body.strip()
    if not body or len(body) > MAX_NOTE:
        raise ValidationFailed(
            N_("Write a note of at most %(max_note)s characters.", max_note=format(MAX_NOTE, ",")), field="body"
        )
    if not viewer.content_visible or viewer.label not in ("P", "O"):
        raise Forbidden(N_("Only the referring peer and the receiving organization can add notes."))
    if referral.purged_at is not None:
        raise ValidationFailed(N_("This referral's details were purged after the retention period."), field="body")
    role = Role.peer if viewer.label == "P" else Role.organization
    note = ReferralNote(referral_id=referral.id, author_id=actor.id, author_role=role, body=body, created_at=now)
    session.add(note)
    session.flush()
    audit.append(
        session,
        audit.EventIn(
            referral.id,
            now,
            actor.id,
            role,
            "note-added",
            referral.status,
            referral.status,
            referral.business_status,
            data={"note_id": str(note.id)},
        ),
        settings=settings,
    )
    session.commit()
    return note


def notes_for(session: Session, referral_id: uuid.UUID) -> list[ReferralNote]:
    return list(
        session.exec(
            select(ReferralNote).where(ReferralNote.referral_id == referral_id).order_by(col(ReferralNote.created_at))
        ).all()
    )


def contact_attempts_for(session: Session, referral_id: uuid.UUID) -> list[ReferralContactAttempt]:
    return list(
        session.exec(
            select(ReferralContactAttempt)
            .where(ReferralContactAttempt.referral_id == referral_id)
            .order_by(col(ReferralContactAttempt.at))
        ).all()
    )


def mark_listing_full(*, session: Session, referral_id: uuid.UUID, actor: User, now: datetime) -> Service:
    """After declining "at capacity": set the referred listing's capacity to full (organization admins and
    trusted editors; others are asked to use the workspace, where their change is reviewed)."""
    referral, viewer = access.visible_referral(session, referral_id, actor, now=now)
    if viewer.label != "O" or referral.status != Status.rejected or referral.status_reason_code != "at-capacity":
        raise Forbidden(N_("Only the organization that declined this referral as 'at capacity' can do this."))
    service = session.get(Service, referral.service_id) if referral.service_id else None
    if service is None or service.organization_id != referral.recipient_organization_id:
        raise ValidationFailed(N_("This referral is not linked to one of your listings."), field="service_id")
    member = require_org_role(session=session, user=actor, organization_id=service.organization_id)
    if member is not None and not (member.role == OrgRole.admin or member.trusted):
        raise Forbidden(N_("Your edits are reviewed first: update capacity from your organization's workspace."))
    service.capacity, service.capacity_updated_at, service.last_modified = Capacity.full, now, now
    session.add(service)
    record_change(session, [service.id])
    session.commit()
    return service
