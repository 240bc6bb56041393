"""What an action does besides changing the status: follow-ups, contact attempts, notes, the disclosure
log and who gets told (in-app now, e-mail after the commit). Called by `service.apply_action` only."""

import uuid
from datetime import datetime, timedelta

from sqlmodel import Session, select

from accounts.models import User
from core.localtime import local_time
from core.mail import Mail
from core.settings import Settings
from referrals import consent, local, notifications
from referrals.codes import Role, Status
from referrals.db import as_utc
from referrals.models import (
    Referral,
    ReferralCandidate,
    ReferralConsent,
    ReferralContactAttempt,
    ReferralDisclosure,
    ReferralFollowUp,
    ReferralNote,
)
from referrals.workflow import Action, ActionInput

_PEER_TOLD = {
    Action.accept: "accepted",
    Action.claim: "accepted",
    Action.decline: "declined",
    Action.complete: "completed",
    Action.fail: "failed",
    Action.expire: "expired",
}


def apply(
    session: Session,
    referral: Referral,
    action: Action,
    data: ActionInput,
    who: tuple[User | None, Role],
    current: ReferralConsent | None,
    now: datetime,
    settings: Settings,
    from_status: str,
) -> list[Mail]:
    """Write the side effects of `action` (in the caller's transaction); return the e-mails to send."""
    actor_id = who[0].id if who[0] else None
    if action in (Action.accept, Action.claim, Action.handoff):
        schedule_followups(session, referral, as_utc(now), settings, replace=action == Action.handoff)
    if action == Action.follow_up:
        mark_followup_done(session, referral.id, data.followup_kind or "", now)
    _records(session, referral, action, data, who, now)
    if action in (Action.submit, Action.claim) and referral.recipient_organization_id and current is not None:
        session.add(ReferralDisclosure(
            referral_id=referral.id, organization_id=referral.recipient_organization_id, consent_id=current.id,
            fields=consent.shared_fields(referral), actor_id=actor_id, at=now,
        ))  # fmt: skip
    if action == Action.schedule and data.appointment_at is not None and referral.creator_id != actor_id:
        when = local_time(data.appointment_at, local.referral_zone(session, referral, settings))
        return notifications.notify(
            session, settings=settings, user_ids=[referral.creator_id], referral_id=referral.id, kind="scheduled",
            now=now, when=when,
        )  # fmt: skip
    return _notify(session, referral, action, actor_id, now, settings, from_status)


def _records(
    session: Session, referral: Referral, action: Action, data: ActionInput, who: tuple[User | None, Role],
    now: datetime,
) -> None:  # fmt: skip
    """The contact-attempt row; free text given with a contact, appointment, handoff or follow-up as a note."""
    actor_id = who[0].id if who[0] else None
    if action == Action.log_contact:
        session.add(ReferralContactAttempt(
            referral_id=referral.id, actor_id=actor_id, channel=data.channel or "", result=data.result or "", at=now,
        ))  # fmt: skip
    if data.reason_text and action in (Action.log_contact, Action.schedule, Action.handoff, Action.follow_up):
        session.add(ReferralNote(
            referral_id=referral.id, author_id=actor_id, author_role=who[1], kind=action, body=data.reason_text,
            created_at=now,
        ))  # fmt: skip


def _notify(
    session: Session,
    referral: Referral,
    action: Action,
    actor_id: uuid.UUID | None,
    now: datetime,
    settings: Settings,
    from_status: str,
) -> list[Mail]:
    org_ids = receiving_orgs(session, referral)
    members = [u for u in notifications.org_member_ids(session, org_ids) if u != actor_id]
    peer = [] if referral.creator_id == actor_id else [referral.creator_id]
    kind: str | None = None
    users: list[uuid.UUID] = []
    if action == Action.submit:
        kind, users = ("open-available" if referral.is_open else "new"), members
    elif action in _PEER_TOLD:
        kind, users = _PEER_TOLD[action], peer + (members if action == Action.expire else [])
    elif action == Action.cancel:
        kind, users = "cancelled", (peer + members if from_status != Status.draft else [])
    elif action in (Action.revoke, Action.enter_in_error) and from_status != Status.draft:
        kind, users = ("consent-revoked" if action == Action.revoke else "entered-in-error"), members
    if kind is None or not users:
        return []
    return notifications.notify(session, settings=settings, user_ids=users, referral_id=referral.id, kind=kind, now=now)


def receiving_orgs(session: Session, referral: Referral) -> list[uuid.UUID]:
    if referral.recipient_organization_id is not None:
        return [referral.recipient_organization_id]
    return list(
        session.exec(
            select(ReferralCandidate.organization_id).where(ReferralCandidate.referral_id == referral.id)
        ).all()
    )


def schedule_followups(
    session: Session, referral: Referral, base: datetime, settings: Settings, *, replace: bool
) -> None:
    existing = {
        f.kind: f
        for f in session.exec(select(ReferralFollowUp).where(ReferralFollowUp.referral_id == referral.id)).all()
    }
    for hours in settings.referral_followup_hours:
        kind, due = f"{hours}h", base + timedelta(hours=hours)
        row = existing.get(kind)
        if row is None:
            session.add(ReferralFollowUp(referral_id=referral.id, kind=kind, due_at=due))
        elif replace and row.done_at is None:
            row.due_at = due
            session.add(row)


def mark_followup_done(session: Session, referral_id: uuid.UUID, kind: str, now: datetime) -> None:
    row = session.exec(
        select(ReferralFollowUp).where(ReferralFollowUp.referral_id == referral_id, ReferralFollowUp.kind == kind)
    ).first()
    if row is not None:
        row.done_at = now
        session.add(row)
