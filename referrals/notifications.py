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
from core.i18n import N_
from core.mail import Mail, absolute, in_both_languages
from core.settings import Settings
from referrals.models import ReferralNotification

# kind -> (e-mail subject, in-app sentence). Neutral on purpose: no names, needs, categories or places.
MESSAGES: dict[str, tuple[str, str]] = {
    "new": (N_("A referral is waiting for a response"), N_("A new referral was sent to your organization.")),
    "open-available": (
        N_("An open referral is available"),
        N_("An open referral your organization could take is waiting."),
    ),
    "reminder": (
        N_("Reminder: a referral is waiting for a response"),
        N_("A referral is still waiting for your answer."),
    ),
    "accepted": (N_("Update on a referral you sent"), N_("A referral you sent was accepted.")),
    "declined": (N_("Update on a referral you sent"), N_("A referral you sent was declined.")),
    "cancelled": (N_("Update on a referral"), N_("A referral was cancelled.")),
    "expired": (N_("Update on a referral"), N_("A referral expired without an answer.")),
    "completed": (N_("Update on a referral you sent"), N_("An outcome was recorded for a referral you sent.")),
    "failed": (N_("Update on a referral you sent"), N_("A referral you sent was closed without a connection.")),
    "consent-revoked": (N_("Update on a referral"), N_("A referral was withdrawn: the person revoked consent.")),
    "entered-in-error": (N_("Update on a referral"), N_("A referral was marked as entered in error.")),
    "followup-due": (N_("A follow-up is due"), N_("A follow-up with someone you referred is due.")),
    "scheduled": (
        N_("Update on a referral you sent"),
        N_("An appointment was scheduled for a referral you sent."),
    ),
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
        paragraphs = [
            MESSAGES[kind][1],
            *([N_("When: %(when)s")] if when else []),
            N_("Sign in to see it:\n%(link)s"),
            N_("This message contains no personal details on purpose."),
        ]
        values = {"link": link, **({"when": when} if when else {})}
        mails.append(in_both_languages(to=user.email, subject=subject, paragraphs=paragraphs, values=values))
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
