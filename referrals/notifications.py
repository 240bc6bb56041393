"""In-app notifications and e-mail. Neither ever carries personal details: a neutral sentence and a link.

Services call `notify` inside their transaction (in-app rows commit with the change) and hand the
returned mails to `deliver` (`core.mail`) after the commit, so a rolled-back change never sends mail.
"""

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from accounts.models import Membership, User
from core.mail import Mail, absolute
from core.settings import Settings
from referrals.models import ReferralNotification

# kind -> (e-mail subject, in-app sentence). Neutral on purpose: no names, needs, categories or places.
MESSAGES: dict[str, tuple[str, str]] = {
    "new": ("A referral is waiting for a response", "A new referral was sent to your organization."),
    "open-available": ("An open referral is available", "An open referral your organization could take is waiting."),
    "reminder": ("Reminder: a referral is waiting for a response", "A referral is still waiting for your answer."),
    "accepted": ("Update on a referral you sent", "A referral you sent was accepted."),
    "declined": ("Update on a referral you sent", "A referral you sent was declined."),
    "cancelled": ("Update on a referral", "A referral was cancelled."),
    "expired": ("Update on a referral", "A referral expired without an answer."),
    "completed": ("Update on a referral you sent", "An outcome was recorded for a referral you sent."),
    "failed": ("Update on a referral you sent", "A referral you sent was closed without a connection."),
    "consent-revoked": ("Update on a referral", "A referral was withdrawn: the person revoked consent."),
    "entered-in-error": ("Update on a referral", "A referral was marked as entered in error."),
    "followup-due": ("A follow-up is due", "A follow-up with someone you referred is due."),
    "scheduled": ("Update on a referral you sent", "An appointment was scheduled for a referral you sent."),
}


def org_member_ids(session: Session, organization_ids: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    ids = list(dict.fromkeys(organization_ids))
    if not ids:
        return []
    rows = session.exec(
        select(Membership.user_id)
        .join(User, col(User.id) == Membership.user_id)
        .where(col(Membership.organization_id).in_(ids), col(User.is_active).is_(True))
    ).all()
    return list(dict.fromkeys(rows))


def notify(
    session: Session,
    *,
    settings: Settings,
    user_ids: Iterable[uuid.UUID],
    referral_id: uuid.UUID | None,
    kind: str,
    now: datetime,
    when: str | None = None,
) -> list[Mail]:
    """Add in-app notifications; return the e-mails to send once the caller has committed. `when` is a
    time the message is about (an appointment, already in local time with its zone): a time is no
    personal detail, and saves the reader a sign-in."""
    subject, _ = MESSAGES[kind]
    link = absolute(settings, f"/referrals/{referral_id}") if referral_id else settings.base_url
    mails: list[Mail] = []
    for user_id in dict.fromkeys(user_ids):
        user = session.get(User, user_id)
        if user is None or not user.is_active:
            continue
        session.add(ReferralNotification(user_id=user_id, referral_id=referral_id, kind=kind, created_at=now))
        body = (
            f"{MESSAGES[kind][1]}\n\n" + (f"When: {when}\n\n" if when else "") + f"Sign in to see it:\n{link}\n\n"
            "This message contains no personal details on purpose."
        )
        mails.append(Mail(to=user.email, subject=subject, body=body))
    return mails


def text_for(kind: str) -> str:
    return MESSAGES.get(kind, ("", "A referral was updated."))[1]


def unread_count(session: Session, user_id: uuid.UUID) -> int:
    return int(
        session.exec(
            select(func.count())
            .select_from(ReferralNotification)
            .where(ReferralNotification.user_id == user_id, col(ReferralNotification.read_at).is_(None))
        ).one()
    )


def recent(session: Session, user_id: uuid.UUID, *, limit: int = 50) -> list[ReferralNotification]:
    return list(
        session.exec(
            select(ReferralNotification)
            .where(ReferralNotification.user_id == user_id)
            .order_by(col(ReferralNotification.created_at).desc())
            .limit(limit)
        ).all()
    )


def mark_all_read(*, session: Session, user_id: uuid.UUID, now: datetime) -> int:
    result = session.connection().execute(
        update(ReferralNotification)
        .where(col(ReferralNotification.user_id) == user_id, col(ReferralNotification.read_at).is_(None))
        .values(read_at=now)
    )
    session.commit()
    return int(result.rowcount)
