"""Retention purge, and e-mails that never carry personal details."""

from datetime import timedelta
from email import message_from_string, policy

from sqlmodel import Session, select

from core.i18n import gettext
from core.settings import Settings
from referrals import metrics
from referrals.audit import audit_key, verify_chain
from referrals.codes import Status
from referrals.models import Referral, ReferralNote, ReferralNotification
from referrals.notifications import MESSAGES
from referrals.privacy import purge, revoke_consent
from referrals.records import add_note
from referrals.service import apply_action
from referrals.timers import run_timers
from referrals.workflow import Action, ActionInput
from tests.factories import CONTACT, NEED, NOW, PERSON, World, make_referral
from tests.referrals.conftest import mail_texts

NOTE = "Prefers the side entrance; ask for Marisol"


def test_purge_nulls_personal_fields_after_retention_and_keeps_the_rest(
    session: Session, settings: Settings, world: World
) -> None:
    old = make_referral(session, world, settings, Status.completed)
    add_note(session=session, referral_id=old.id, actor=world.peer, body=NOTE, now=NOW, settings=settings)
    recent = make_referral(session, world, settings, Status.rejected, now=NOW + timedelta(days=5))
    live = make_referral(session, world, settings, Status.accepted)
    rows_before = metrics.collect(session)
    assert purge(session=session, now=NOW + timedelta(days=180) - timedelta(minutes=1), settings=settings) == 0
    assert purge(session=session, now=NOW + timedelta(days=181), settings=settings) == 1
    session.expire_all()
    gone = session.get(Referral, old.id)
    assert gone is not None and gone.purged_at is not None
    assert (gone.person_name, gone.contact_detail, gone.contact_time, gone.need_text) == (None, None, None, None)
    assert (gone.status, gone.outcome_code, gone.need_categories) == (
        Status.completed,
        "service-received",
        ["food-pantry"],
    )
    assert gone.requested_at is not None and gone.accepted_at is not None and gone.closed_at is not None
    assert [n.body for n in session.exec(select(ReferralNote).where(ReferralNote.referral_id == old.id))] == [None]
    for kept in (recent.id, live.id):
        assert session.get(Referral, kept).person_name == PERSON  # type: ignore[union-attr]
    assert metrics.summarize(metrics.collect(session)) == metrics.summarize(rows_before)
    assert verify_chain(session, key=audit_key(settings)).ok
    assert (
        purge(session=session, now=NOW + timedelta(days=400), settings=settings) == 1
    )  # the rejected one; the live one never


def test_no_email_carries_personal_details(session: Session, settings: Settings, world: World) -> None:
    referral = make_referral(session, world, settings, Status.requested)
    add_note(session=session, referral_id=referral.id, actor=world.peer, body=NOTE, now=NOW, settings=settings)
    run_timers(session=session, settings=settings, now=NOW + timedelta(days=2))  # org reminders
    apply_action(
        session=session, referral_id=referral.id, actor=world.member, action=Action.accept, now=NOW, settings=settings
    )
    run_timers(session=session, settings=settings, now=NOW + timedelta(days=8))  # peer follow-ups
    revoke_consent(session=session, referral_id=referral.id, actor=world.peer, now=NOW, settings=settings)
    other = make_referral(session, world, settings, Status.accepted)
    apply_action(
        session=session,
        referral_id=other.id,
        actor=world.member,
        action=Action.complete,
        data=ActionInput(outcome_code="enrolled", reason_text=f"{PERSON} enrolled"),
        now=NOW,
        settings=settings,
    )
    mails = mail_texts(settings)
    assert len(mails) >= 8
    secrets = [
        PERSON,
        CONTACT,
        NEED,
        "weekday mornings",
        NOTE,
        "Food pantry",
        "food-pantry",
        world.service_a.name,
        "Spanish",
    ]
    for mail in mails:
        for secret in secrets:
            assert secret.lower() not in mail.lower(), (secret, mail)
        assert "/referrals/" in mail  # only a link to sign in and look
    # Each subject is one of the neutral ones, in English then Spanish.
    subjects = {" ".join(str(message_from_string(m, policy=policy.default)["Subject"]).split()) for m in mails}
    assert subjects <= {f"{subject} / {gettext('es', subject)}" for subject, _ in MESSAGES.values()}


def test_in_app_notifications_are_neutral_too(session: Session, settings: Settings, world: World) -> None:
    make_referral(session, world, settings, Status.completed)
    kinds = set(session.exec(select(ReferralNotification.kind)).all())
    assert kinds == {"new", "accepted", "completed"}
    for kind in kinds:
        assert PERSON not in MESSAGES[kind][1]
