"""Referral use cases: create and send, and act on a referral through the workflow table.

Keyword-only, typed, raising core.errors; each use case commits once, then sends its e-mails.
`now` is always passed in, so tests and timers drive the clock.
"""

import uuid
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, select

from accounts.models import PeerProfile, User
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.i18n import N_
from core.localtime import from_wall_clock
from core.mail import deliver
from core.settings import Settings
from directory.listings.queries import get_listing
from referrals import access, audit, consent, effects, local, matching
from referrals.codes import TERMINAL, UNSUCCESSFUL_CONTACT, Role, Status
from referrals.db import as_utc, guarded_update
from referrals.models import (
    Referral,
    ReferralCandidate,
    ReferralConsent,
    ReferralContactAttempt,
    ReferralFollowUp,
    ReferralNote,
)
from referrals.schemas import ReferralCreate
from referrals.workflow import (
    Action,
    ActionInput,
    Facts,
    Rule,
    allowed_actions,
    check,
    decide,
    next_business_status,
)

_REASON_ACTIONS = frozenset({Action.decline, Action.cancel, Action.fail, Action.hold, Action.enter_in_error})


# --- create ----------------------------------------------------------------------------------------


def create_referral(
    *, session: Session, actor: User, data: ReferralCreate, now: datetime, settings: Settings
) -> Referral:
    """Create a referral (draft) and, with `data.send`, send it. Everything is checked before anything is
    written: bad consent, an unknown listing or category give a 4xx and leave the database untouched."""
    if not access.is_peer(session, actor):
        raise Forbidden(N_("Only peer support specialists with a peer profile can send referrals."))
    referral = _build(session, actor, data, now)
    consent_row = _build_consent(referral, actor, data, now)
    candidates = _candidates(session, referral) if referral.is_open else []
    if data.send:
        problem = consent.consent_problem(consent_row, referral, now=now)
        if problem:
            raise ValidationFailed(problem, field="consent")
    try:
        session.add(referral)
        session.flush()
        if consent_row is not None:
            session.add(consent_row)
        session.add_all(ReferralCandidate(referral_id=referral.id, organization_id=o) for o in candidates)
        if data.note:
            session.add(
                ReferralNote(
                    referral_id=referral.id, author_id=actor.id, author_role=Role.peer, body=data.note, created_at=now
                )
            )
        audit.append(
            session,
            audit.EventIn(referral.id, now, actor.id, Role.peer, "create", None, Status.draft),
            settings=settings,
        )
        session.commit()
    except (IntegrityError, OperationalError) as exc:
        session.rollback()
        raise Conflict(N_("The referral could not be saved; try again.")) from exc
    if data.send:
        return apply_action(
            session=session, referral_id=referral.id, actor=actor, action=Action.submit, now=now, settings=settings
        )
    return referral


def _build(session: Session, actor: User, data: ReferralCreate, now: datetime) -> Referral:
    recipient, categories = None, list(data.need_categories)
    if data.service_id is not None:
        listing = get_listing(session, data.service_id)
        offered = {t.code for t in listing.categories if t.code}
        if not set(categories) <= offered:
            raise ValidationFailed(N_("Choose needs from this listing's categories."), field="need_categories")
        recipient = None if data.is_open else listing.organization.id
    if data.is_open:
        categories = list(dict.fromkeys([data.open_category or "", *categories]))
    if not categories:
        raise ValidationFailed(N_("Choose at least one thing the person needs."), field="need_categories")
    _check_previous(session, actor, data.previous_referral_id)
    employer = session.get(PeerProfile, actor.id)
    return Referral(
        creator_id=actor.id,
        referring_organization_id=employer.employer_organization_id if employer else None,
        service_id=data.service_id,
        recipient_organization_id=recipient,
        is_open=data.is_open,
        open_category=data.open_category if data.is_open else None,
        open_postal_code=data.open_postal_code if data.is_open else None,
        open_radius_miles=data.open_radius_miles if data.is_open else None,
        previous_referral_id=data.previous_referral_id,
        person_name=data.person_name,
        contact_channel=data.contact_channel,
        contact_detail=data.contact_detail,
        contact_time=data.contact_time,
        language=data.language,
        need_categories=categories,
        need_text=data.need_text,
        urgency=data.urgency,
        created_at=now,
        updated_at=now,
    )


def _check_previous(session: Session, actor: User, previous_id: uuid.UUID | None) -> None:
    if previous_id is None:
        return
    previous = session.get(Referral, previous_id)
    if previous is None or previous.creator_id != actor.id:
        raise ValidationFailed(N_("The earlier referral was not found among yours."), field="previous_referral_id")
    if previous.status not in TERMINAL:
        raise ValidationFailed(N_("Only a closed referral can be followed by a new one."), field="previous_referral_id")


def _build_consent(referral: Referral, actor: User, data: ReferralCreate, now: datetime) -> ReferralConsent | None:
    if data.consent is None:
        return None
    given = data.consent
    return ReferralConsent(
        referral_id=referral.id,
        scope=given.scope,
        recipient_organization_id=given.recipient_organization_id,
        fields=[f.value for f in given.fields],
        purpose=given.purpose,
        method=given.method,
        given_at=now,
        expires_at=as_utc(given.expires_at),
        recorded_by_id=actor.id,
    )


def _candidates(session: Session, referral: Referral) -> list[uuid.UUID]:
    return matching.candidate_organizations(
        session,
        category=referral.open_category or "",
        postal_code=referral.open_postal_code or "",
        radius_miles=referral.open_radius_miles or 0,
    )


# --- act -------------------------------------------------------------------------------------------


def apply_action(
    *,
    session: Session,
    referral_id: uuid.UUID,
    actor: User | None,
    action: Action,
    data: ActionInput | None = None,
    now: datetime,
    settings: Settings,
    expected_version: int | None = None,
    organization_id: uuid.UUID | None = None,
) -> Referral:
    """Apply one workflow action. `actor=None` is the system (timers, consent revocation).

    404 when the actor may not see the referral, 409 for a move the table does not have or a lost race,
    403 for a role the table does not allow, 422 for a missing reason / outcome / consent."""
    data = data or ActionInput()
    referral = session.get(Referral, referral_id)
    viewer = _viewer(session, referral, actor, now)
    if referral is None or viewer is None:
        raise NotFound(access.NOT_FOUND_MESSAGE)
    if expected_version is not None and expected_version != referral.version:
        raise Conflict(N_("This referral changed since you opened it. Reload it and try again."))
    rule, role = decide(status=referral.status, action=action, roles=viewer.roles)
    claim_org = _claim_org(viewer, organization_id) if action == Action.claim else None
    current = consent.current_consent(session, referral.id)
    where = local.referral_zone(session, referral, settings)
    if data.appointment_at is not None:  # a time typed without a zone is the referral's local time
        data = replace(data, appointment_at=from_wall_clock(data.appointment_at, where))
    check(rule, role, _facts(session, referral, current, now, claim_org, where), data)
    from_status = referral.status
    try:
        guarded_update(
            session, referral, _values(referral, rule, action, data, now, claim_org), unclaimed=action == Action.claim
        )
        mails = effects.apply(session, referral, action, data, (actor, role), current, now, settings, from_status)
        audit.append(
            session, _event(referral, action, data, (actor, role), from_status, now, claim_org), settings=settings
        )
        session.commit()
    except (IntegrityError, OperationalError) as exc:
        session.rollback()
        raise Conflict(N_("Someone else changed this referral at the same moment. Reload it and try again.")) from exc
    deliver(settings, mails)
    return referral


def _viewer(session: Session, referral: Referral | None, actor: User | None, now: datetime) -> access.Viewer | None:
    if referral is None:
        return None
    return access.SYSTEM if actor is None else access.resolve(session, referral, actor, now=now)


def _claim_org(viewer: access.Viewer, organization_id: uuid.UUID | None) -> uuid.UUID | None:
    if organization_id is not None and organization_id not in viewer.candidate_orgs:
        raise Forbidden(N_("That organization was not offered this referral."))
    return organization_id or (viewer.candidate_orgs[0] if viewer.candidate_orgs else None)


def _facts(
    session: Session,
    referral: Referral,
    current: ReferralConsent | None,
    now: datetime,
    claim_org: uuid.UUID | None,
    where: ZoneInfo,
) -> Facts:
    attempts = session.exec(
        select(ReferralContactAttempt.result).where(ReferralContactAttempt.referral_id == referral.id)
    ).all()
    pending = session.exec(
        select(ReferralFollowUp.kind).where(
            ReferralFollowUp.referral_id == referral.id, col(ReferralFollowUp.done_at).is_(None)
        )
    ).all()
    return Facts(
        now=now,
        created_at=as_utc(referral.created_at),
        business_status=referral.business_status,
        has_recipient=referral.recipient_organization_id is not None,
        is_open=referral.is_open,
        consent_problem=consent.consent_problem(current, referral, now=now, recipient_id=claim_org),
        unsuccessful_attempts=sum(1 for r in attempts if r in UNSUCCESSFUL_CONTACT),
        followup_kinds=frozenset(pending),
        appointment_at=local.local_appointment(session, referral, where),
    )


def _values(
    referral: Referral, rule: Rule, action: Action, data: ActionInput, now: datetime, claim_org: uuid.UUID | None
) -> dict[str, object]:
    status = rule.to or Status(referral.status)
    values: dict[str, object] = {
        "status": status,
        "updated_at": now,
        "business_status": next_business_status(rule, referral.business_status, data),
    }
    if status in TERMINAL and referral.closed_at is None:
        values["closed_at"] = now
    if action in _REASON_ACTIONS:
        values |= {"status_reason_code": data.reason_code, "status_reason_text": data.reason_text}
    elif action in (Action.expire, Action.revoke):
        values |= {"status_reason_code": values["business_status"], "status_reason_text": None}
    if action == Action.complete:
        values |= {"outcome_code": data.outcome_code, "outcome_text": data.reason_text}
    if action in (Action.accept, Action.claim):
        values["accepted_at"] = now
    if action == Action.claim:
        values["recipient_organization_id"] = claim_org
    if action == Action.submit:
        values["requested_at"] = now
    if action == Action.handoff:
        values["handoff_at"] = now
    if action in (Action.revoke, Action.enter_in_error):
        values["content_hidden"] = True
    return values


def _event(
    referral: Referral,
    action: Action,
    data: ActionInput,
    who: tuple[User | None, Role],
    from_status: str,
    now: datetime,
    claim_org: uuid.UUID | None,
) -> audit.EventIn:
    actor_id = who[0].id if who[0] else None
    return audit.EventIn(
        referral.id, now, actor_id, who[1], action, from_status, referral.status, referral.business_status,
        _event_reason(action, data), _event_data(action, data, claim_org),
    )  # fmt: skip


def _event_reason(action: Action, data: ActionInput) -> str | None:
    if action == Action.complete:
        return data.outcome_code
    return data.reason_code if action in _REASON_ACTIONS else None


def _event_data(action: Action, data: ActionInput, claim_org: uuid.UUID | None) -> dict[str, object]:
    """Codes only: free text never enters the chain (so the retention purge cannot break it)."""
    if action == Action.log_contact:
        return {"channel": data.channel, "result": data.result}
    if action == Action.schedule and data.appointment_at is not None:
        return {"appointment_at": as_utc(data.appointment_at).isoformat()}
    if action == Action.handoff:
        return {"mode": data.handoff_mode}
    if action == Action.follow_up:
        return {"kind": data.followup_kind}
    if action == Action.claim:
        return {"organization_id": str(claim_org)}
    return {}


def allowed_for(referral: Referral, viewer: access.Viewer) -> list[Action]:
    """The actions to offer this viewer now (an open, unclaimed referral can only be claimed)."""
    actions = allowed_actions(status=referral.status, roles=viewer.roles)
    if referral.is_open and referral.recipient_organization_id is None:
        return [a for a in actions if a not in (Action.accept, Action.decline, Action.view)]
    return [a for a in actions if a != Action.claim and a != Action.view]
