"""Consent: no consent, no referral; what is disclosed is logged; revocation cancels and hides."""

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import Session, SQLModel, select

from core.errors import DomainError
from core.settings import Settings
from referrals import access
from referrals.audit import audit_key, history, verify_chain
from referrals.codes import Status
from referrals.models import ReferralConsent, ReferralDisclosure, ReferralNotification
from referrals.privacy import revoke_consent
from referrals.service import apply_action, create_referral
from referrals.workflow import Action
from tests.factories import NOW, World, consent_for, make_referral, open_input, referral_input

REFERRAL_TABLES = [t for name, t in SQLModel.metadata.tables.items() if name.startswith("referral")]


def row_counts(session: Session) -> dict[str, int]:
    return {t.name: int(session.exec(select(func.count()).select_from(t)).one()) for t in REFERRAL_TABLES}


BAD_CONSENTS: dict[str, dict[str, Any]] = {
    "missing": {"consent": None},
    "expired": {"consent_overrides": {"expires_at": NOW - timedelta(minutes=1)}},
    "other-recipient": {"consent_overrides": {"recipient_organization_id": "ORG_B"}},
    "no-recipient": {"consent_overrides": {"recipient_organization_id": None}},
    "fields-not-covered": {"consent_overrides": {"fields": ["first_name"]}},
    "open-scope-on-directed": {"consent_overrides": {"scope": "open", "recipient_organization_id": None}},
}


@pytest.mark.parametrize("case", BAD_CONSENTS, ids=list(BAD_CONSENTS))
def test_sending_without_valid_consent_is_422_and_writes_nothing(
    session: Session, settings: Settings, world: World, case: str
) -> None:
    spec = BAD_CONSENTS[case]
    if "consent_overrides" in spec:
        overrides = {k: (world.org_b if v == "ORG_B" else v) for k, v in spec["consent_overrides"].items()}
        data = referral_input(world, consent=consent_for(world, **overrides))
    else:
        data = referral_input(world, consent=None)
    before = row_counts(session)
    with pytest.raises(DomainError) as raised:
        create_referral(session=session, actor=world.peer, data=data, now=NOW, settings=settings)
    assert raised.value.status_code == 422
    assert "consent" in raised.value.errors  # type: ignore[attr-defined]
    assert row_counts(session) == before


def test_open_referral_needs_open_network_consent(session: Session, settings: Settings, world: World) -> None:
    data = open_input(world).model_copy(update={"consent": consent_for(world)})
    before = row_counts(session)
    with pytest.raises(DomainError) as raised:
        create_referral(session=session, actor=world.peer, data=data, now=NOW, settings=settings)
    assert raised.value.status_code == 422
    assert row_counts(session) == before


def test_a_draft_cannot_be_sent_once_its_consent_expired(session: Session, settings: Settings, world: World) -> None:
    draft = make_referral(session, world, settings, Status.draft)
    later = NOW + timedelta(days=91)
    with pytest.raises(DomainError) as raised:
        apply_action(
            session=session, referral_id=draft.id, actor=world.peer, action=Action.submit, now=later, settings=settings
        )
    assert raised.value.status_code == 422
    session.expire_all()
    assert draft.status == Status.draft


def test_sending_records_what_was_disclosed_to_whom(session: Session, settings: Settings, world: World) -> None:
    referral = make_referral(session, world, settings, Status.requested, language=None)
    rows = session.exec(select(ReferralDisclosure).where(ReferralDisclosure.referral_id == referral.id)).all()
    consent = session.exec(select(ReferralConsent).where(ReferralConsent.referral_id == referral.id)).one()
    assert [(d.organization_id, d.consent_id) for d in rows] == [(world.org_a, consent.id)]
    assert rows[0].fields == ["first_name", "contact", "need"]  # what was filled in, nothing else


def test_open_referral_is_a_preview_until_claimed(session: Session, settings: Settings, world: World) -> None:
    referral = make_referral(session, world, settings, Status.requested, is_open=True)
    preview = access.resolve(session, referral, world.member, now=NOW)
    assert preview is not None and preview.label == "candidate" and not preview.content_visible
    assert access.resolve(session, referral, world.member_b, now=NOW) is None  # Brooklyn is not within 10 miles
    assert session.exec(select(ReferralDisclosure).where(ReferralDisclosure.referral_id == referral.id)).all() == []
    claimed = apply_action(
        session=session, referral_id=referral.id, actor=world.member, action=Action.claim, now=NOW, settings=settings
    )
    assert (claimed.status, claimed.recipient_organization_id) == (Status.accepted, world.org_a)
    after = access.resolve(session, claimed, world.member, now=NOW)
    assert after is not None and after.label == "O" and after.content_visible
    disclosed = session.exec(select(ReferralDisclosure).where(ReferralDisclosure.referral_id == referral.id)).all()
    assert [d.organization_id for d in disclosed] == [world.org_a]


def test_revoking_consent_cancels_and_hides_from_the_recipient(
    session: Session, settings: Settings, world: World
) -> None:
    referral = make_referral(session, world, settings, Status.accepted)
    assert access.resolve(session, referral, world.member, now=NOW).content_visible  # type: ignore[union-attr]
    done = revoke_consent(session=session, referral_id=referral.id, actor=world.peer, now=NOW, settings=settings)
    assert (done.status, done.business_status, done.content_hidden) == (Status.cancelled, "consent-revoked", True)
    recipient = access.resolve(session, done, world.member, now=NOW)
    assert recipient is not None and not recipient.content_visible
    assert access.resolve(session, done, world.peer, now=NOW).content_visible  # type: ignore[union-attr]
    kinds = session.exec(select(ReferralNotification.kind).where(ReferralNotification.user_id == world.member.id))
    assert "consent-revoked" in list(kinds)
    actions = [e.action for e in history(session, referral.id)]
    assert actions[-2:] == ["consent-withdrawn", "consent-revoked"]
    assert verify_chain(session, key=audit_key(settings)).ok


def test_revocation_hides_closed_referrals_and_reaches_linked_ones(
    session: Session, settings: Settings, world: World
) -> None:
    first = make_referral(session, world, settings, Status.completed)
    second = create_referral(
        session=session,
        actor=world.peer,
        data=referral_input(world, previous_referral_id=first.id),
        now=NOW,
        settings=settings,
    )
    revoke_consent(session=session, referral_id=first.id, actor=world.peer, now=NOW, settings=settings)
    session.expire_all()
    closed = access.resolve(session, first, world.member, now=NOW)
    assert first.status == Status.completed and closed is not None and not closed.content_visible
    linked = session.get(type(second), second.id)
    assert linked is not None and (linked.status, linked.business_status) == (Status.cancelled, "consent-revoked")


def test_only_the_peer_or_an_admin_records_a_withdrawal(session: Session, settings: Settings, world: World) -> None:
    referral = make_referral(session, world, settings, Status.accepted)
    with pytest.raises(DomainError) as raised:
        revoke_consent(session=session, referral_id=referral.id, actor=world.member, now=NOW, settings=settings)
    assert raised.value.status_code == 403
    with pytest.raises(DomainError) as hidden:
        revoke_consent(session=session, referral_id=referral.id, actor=world.outsider, now=NOW, settings=settings)
    assert hidden.value.status_code == 404
    done = revoke_consent(session=session, referral_id=referral.id, actor=world.admin, now=NOW, settings=settings)
    assert done.status == Status.cancelled
