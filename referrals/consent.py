"""Consent: does the person's consent cover sending this referral, to this recipient, with this data, now?"""

import uuid
from datetime import datetime

from sqlmodel import Session, col, select

from core.i18n import N_
from referrals.codes import ConsentScope, SharedField
from referrals.db import as_utc
from referrals.models import Referral, ReferralConsent


def shared_fields(referral: Referral) -> list[str]:
    """The fields this referral would share: every piece of personal data that is filled in."""
    present = {
        SharedField.first_name: bool(referral.person_name),
        SharedField.contact: bool(referral.contact_detail or referral.contact_time),
        SharedField.language: bool(referral.language),
        SharedField.need: bool(referral.need_text),
    }
    return [name.value for name, filled in present.items() if filled]


def current_consent(session: Session, referral_id: uuid.UUID) -> ReferralConsent | None:
    return session.exec(
        select(ReferralConsent)
        .where(ReferralConsent.referral_id == referral_id)
        .order_by(col(ReferralConsent.given_at).desc())
    ).first()


def consent_problem(
    consent: ReferralConsent | None,
    referral: Referral,
    *,
    now: datetime,
    recipient_id: uuid.UUID | None = None,
) -> str | None:
    """Why `consent` does not allow sharing `referral` with its recipient now; None when it does.

    `recipient_id` overrides the referral's recipient (an organization claiming an open referral)."""
    if consent is None:
        return N_("Record the person's consent before sending the referral.")
    if consent.revoked_at is not None:
        return N_("The person withdrew their consent.")
    if as_utc(consent.expires_at) <= now:
        return N_("The person's consent has expired; record it again.")
    recipient = recipient_id or referral.recipient_organization_id
    if consent.scope == ConsentScope.open:
        if not referral.is_open:
            return N_("Open-network consent only covers open referrals; name the receiving organization.")
    elif referral.is_open:
        return N_("An open referral needs consent to share with any participating organization in the area.")
    elif recipient is None or consent.recipient_organization_id != recipient:
        return N_("The consent does not cover the receiving organization.")
    missing = [f for f in shared_fields(referral) if f not in consent.fields]
    if missing:
        return N_(
            "The consent does not cover these details: %(fields)s. Remove them or record consent.",
            fields=", ".join(missing),
        )
    return None


def is_valid(consent: ReferralConsent | None, referral: Referral, *, now: datetime) -> bool:
    return consent_problem(consent, referral, now=now) is None
