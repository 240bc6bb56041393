"""Consent revocation and the retention purge.

Revoking consent marks the consent revoked on the referral and on every referral linked to it through
`previous_referral_id` (the same person), hides their content from the recipient at once, and has the
system cancel the ones still open (status cancelled, business status consent-revoked).

The purge nulls personal fields (name, contact, need and free-text reasons, notes) of referrals closed
longer than the retention period, keeping statuses, codes and timestamps so metrics stay correct. The
audit chain holds no personal data, so it stays verifiable.
"""

import uuid
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from accounts.models import User
from core.errors import Conflict, Forbidden
from core.i18n import N_
from core.settings import Settings
from referrals import access, audit
from referrals.codes import TERMINAL, Role, Status
from referrals.consent import current_consent
from referrals.db import guarded_update
from referrals.models import Referral, ReferralNote
from referrals.service import apply_action
from referrals.workflow import Action

_RETRIES = 3


def linked_referrals(session: Session, referral: Referral) -> list[Referral]:
    """The referral and every referral of the same creator chained to it by previous_referral_id."""
    found = {referral.id: referral}
    frontier = [referral]
    while frontier:
        current = frontier.pop()
        neighbours = session.exec(
            select(Referral)
            .where(Referral.creator_id == current.creator_id)
            .where(
                (col(Referral.previous_referral_id) == current.id) | (col(Referral.id) == current.previous_referral_id)
            )
        ).all()
        for item in neighbours:
            if item.id not in found:
                found[item.id] = item
                frontier.append(item)
    return list(found.values())


def revoke_consent(
    *, session: Session, referral_id: uuid.UUID, actor: User, now: datetime, settings: Settings
) -> Referral:
    """The person withdrew consent (recorded by the referring peer or a network admin)."""
    referral, viewer = access.visible_referral(session, referral_id, actor, now=now)
    role = Role.peer if Role.peer in viewer.roles else Role.admin if Role.admin in viewer.roles else None
    if role is None:
        raise Forbidden(N_("Only the referring peer or a network administrator can record a withdrawal of consent."))
    consent = current_consent(session, referral.id)
    if consent is None or consent.revoked_at is not None:
        # The referral's state, not the request, is at fault: a conflict, as for any other late action.
        raise Conflict(N_("There is no active consent on this referral."), field="consent")
    chain = linked_referrals(session, referral)
    for item in chain:
        _withdraw(session, item, actor, role, now, settings)
    session.commit()
    for item in chain:
        if item.status not in TERMINAL:
            _cancel_with_retry(session, item.id, now, settings)
    session.refresh(referral)
    return referral


def _withdraw(session: Session, referral: Referral, actor: User, role: Role, now: datetime, settings: Settings) -> None:
    consent = current_consent(session, referral.id)
    if consent is not None and consent.revoked_at is None:
        consent.revoked_at, consent.revoked_by_id = now, actor.id
        session.add(consent)
    guarded_update(session, referral, {"content_hidden": True, "updated_at": now})
    audit.append(
        session,
        audit.EventIn(
            referral.id,
            now,
            actor.id,
            role,
            "consent-withdrawn",
            referral.status,
            referral.status,
            referral.business_status,
        ),
        settings=settings,
    )


def _cancel_with_retry(session: Session, referral_id: uuid.UUID, now: datetime, settings: Settings) -> None:
    for _ in range(_RETRIES):
        try:
            apply_action(
                session=session, referral_id=referral_id, actor=None, action=Action.revoke, now=now, settings=settings
            )
            return
        except Conflict:
            session.rollback()
    raise Conflict(N_("Consent was revoked, but the referral could not be cancelled yet; the timers will retry."))


def purge(*, session: Session, now: datetime, settings: Settings, retention_days: int | None = None) -> int:
    """Null the personal fields of referrals closed more than `retention_days` (default: the setting) ago.

    Returns how many. The audit events are not touched (they hold no personal data): the purge appends one."""
    cutoff = now - timedelta(days=retention_days or settings.referral_retention_days)
    ids = list(
        session.exec(
            select(Referral.id).where(
                col(Referral.closed_at).is_not(None),
                col(Referral.closed_at) <= cutoff,
                col(Referral.purged_at).is_(None),
            )
        ).all()
    )
    if not ids:
        return 0
    session.connection().execute(
        update(Referral)
        .where(col(Referral.id).in_(ids))
        .values(
            person_name=None,
            contact_detail=None,
            contact_time=None,
            need_text=None,
            status_reason_text=None,
            outcome_text=None,
            purged_at=now,
            version=Referral.version + 1,
        )
    )
    session.connection().execute(update(ReferralNote).where(col(ReferralNote.referral_id).in_(ids)).values(body=None))
    statuses = dict(session.exec(select(Referral.id, Referral.status).where(col(Referral.id).in_(ids))).all())
    for referral_id in ids:
        status = statuses.get(referral_id, Status.cancelled)
        audit.append(
            session, audit.EventIn(referral_id, now, None, Role.system, "purge", status, status), settings=settings
        )
    session.commit()
    return len(ids)


def open_referrals_for_cancellation(session: Session) -> list[uuid.UUID]:
    """Referrals whose consent was revoked but that are still open (a cancellation lost a race): timers retry."""
    from referrals.models import ReferralConsent

    rows = session.exec(
        select(Referral.id)
        .join(ReferralConsent, col(ReferralConsent.referral_id) == Referral.id)
        .where(
            col(ReferralConsent.revoked_at).is_not(None),
            col(Referral.status).in_([s.value for s in Status if s not in TERMINAL]),
        )
    ).all()
    return list(dict.fromkeys(rows))
