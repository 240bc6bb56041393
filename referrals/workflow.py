"""The referral state machine: THE one table of allowed moves, and the pure checks that go with it.

`TRANSITIONS[(status, action)]` says who may act (P = referring peer, O = member of the receiving
organization, SYS = timers and consent revocation, admin = network administrator), the new status
(None: unchanged), the new business status and what the move requires. A pair that is not in the table
is an invalid transition (409); a pair in the table for other roles is forbidden (403). Terminal statuses
(rejected, completed, failed, cancelled, entered-in-error) have no move back to a live status: a new
referral links to the old one through `previous_referral_id` instead.

entered-in-error is restricted to network admins, and to the referral's creator within
`ENTERED_IN_ERROR_WINDOW` (one hour) of creating it, e.g. to retract a referral sent to the wrong place.

No I/O here: the service gathers the facts (`Facts`) and applies the result.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from core.errors import Conflict, Forbidden, InvalidTransition, ValidationFailed
from core.i18n import N_, Message
from referrals import codes
from referrals.codes import BusinessStatus, Role, Status

ENTERED_IN_ERROR_WINDOW: Final = timedelta(hours=1)
MIN_ATTEMPTS_FOR_UNABLE_TO_CONTACT: Final = 2
KEEP: Final = "=keep"  # business_status: leave as it is
FROM_REASON: Final = "=reason"  # business_status: the (hold) reason code


class Action(StrEnum):
    submit = "submit"
    claim = "claim"
    accept = "accept"
    decline = "decline"
    cancel = "cancel"
    expire = "expire"
    view = "view"
    start = "start"
    hold = "hold"
    resume = "resume"
    log_contact = "log-contact"
    schedule = "schedule"
    handoff = "handoff"
    follow_up = "follow-up"
    complete = "complete"
    fail = "fail"
    revoke = "consent-revoked"
    enter_in_error = "enter-in-error"


class Req(StrEnum):
    consent = "consent"  # valid consent covering the recipient and every field filled in
    consent_current = "consent-current"  # not revoked, not expired
    decline_reason = "decline-reason"
    cancel_reason = "cancel-reason"
    fail_reason = "fail-reason"
    hold_reason = "hold-reason"
    error_reason = "error-reason"
    outcome = "outcome"
    attempts_if_unable = "attempts-if-unable-to-contact"
    contact_attempt = "contact-attempt"  # channel and result
    appointment = "appointment"
    handoff_mode = "handoff-mode"
    followup_kind = "followup-kind"
    has_recipient = "has-recipient"
    open_unclaimed = "open-unclaimed"
    creator_window = "creator-window"  # only when acting as P
    unviewed = "unviewed"


@dataclass(frozen=True)
class Rule:
    roles: frozenset[Role]
    to: Status | None
    business_status: str | None = None
    requires: tuple[Req, ...] = ()


_P = frozenset({Role.peer})
_O = frozenset({Role.organization})
_PO = frozenset({Role.peer, Role.organization})
_SYS = frozenset({Role.system})
_EIE = Rule(frozenset({Role.peer, Role.admin}), Status.entered_in_error, KEEP, (Req.error_reason, Req.creator_window))
_REVOKE = Rule(_SYS, Status.cancelled, BusinessStatus.consent_revoked)
_COMPLETE = Rule(_PO, Status.completed, KEEP, (Req.outcome,))
_FAIL = Rule(_PO, Status.failed, KEEP, (Req.fail_reason, Req.attempts_if_unable))
_CANCEL_ACTIVE = Rule(_PO, Status.cancelled, KEEP, (Req.cancel_reason,))
_LOG_CONTACT = Rule(_O, None, BusinessStatus.contact_attempted, (Req.contact_attempt,))
_SCHEDULE = Rule(_PO, Status.in_progress, BusinessStatus.appointment_scheduled, (Req.appointment,))
_HANDOFF = Rule(_PO, Status.in_progress, BusinessStatus.handoff_completed, (Req.handoff_mode,))
_HOLD = Rule(_O, Status.on_hold, FROM_REASON, (Req.hold_reason,))
_FOLLOW_UP = Rule(_P, None, KEEP, (Req.followup_kind,))

S, A = Status, Action
TRANSITIONS: Mapping[tuple[Status, Action], Rule] = MappingProxyType(
    {
        (S.draft, A.submit): Rule(_P, S.requested, None, (Req.consent,)),
        (S.draft, A.cancel): Rule(_P, S.cancelled, None, (Req.cancel_reason,)),
        (S.draft, A.revoke): _REVOKE,
        (S.draft, A.enter_in_error): _EIE,
        (S.requested, A.view): Rule(_O, None, BusinessStatus.viewed, (Req.has_recipient, Req.unviewed)),
        (S.requested, A.accept): Rule(_O, S.accepted, None, (Req.has_recipient, Req.consent_current)),
        (S.requested, A.claim): Rule(_O, S.accepted, None, (Req.open_unclaimed, Req.consent_current)),
        (S.requested, A.decline): Rule(_O, S.rejected, None, (Req.has_recipient, Req.decline_reason)),
        (S.requested, A.cancel): Rule(_P, S.cancelled, None, (Req.cancel_reason,)),
        (S.requested, A.expire): Rule(_SYS, S.cancelled, BusinessStatus.expired_no_response),
        (S.requested, A.revoke): _REVOKE,
        (S.requested, A.enter_in_error): _EIE,
        (S.accepted, A.start): Rule(_O, S.in_progress, KEEP),
        (S.accepted, A.hold): _HOLD,
        (S.accepted, A.log_contact): _LOG_CONTACT,
        (S.accepted, A.schedule): _SCHEDULE,
        (S.accepted, A.handoff): _HANDOFF,
        (S.accepted, A.follow_up): _FOLLOW_UP,
        (S.accepted, A.complete): _COMPLETE,
        (S.accepted, A.fail): _FAIL,
        (S.accepted, A.cancel): _CANCEL_ACTIVE,
        (S.accepted, A.revoke): _REVOKE,
        (S.accepted, A.enter_in_error): _EIE,
        (S.in_progress, A.hold): _HOLD,
        (S.in_progress, A.log_contact): _LOG_CONTACT,
        (S.in_progress, A.schedule): _SCHEDULE,
        (S.in_progress, A.handoff): _HANDOFF,
        (S.in_progress, A.follow_up): _FOLLOW_UP,
        (S.in_progress, A.complete): _COMPLETE,
        (S.in_progress, A.fail): _FAIL,
        (S.in_progress, A.cancel): _CANCEL_ACTIVE,
        (S.in_progress, A.revoke): _REVOKE,
        (S.in_progress, A.enter_in_error): _EIE,
        (S.on_hold, A.resume): Rule(_O, S.in_progress, None),
        (S.on_hold, A.log_contact): _LOG_CONTACT,
        (S.on_hold, A.schedule): _SCHEDULE,
        (S.on_hold, A.handoff): _HANDOFF,
        (S.on_hold, A.follow_up): _FOLLOW_UP,
        (S.on_hold, A.complete): _COMPLETE,
        (S.on_hold, A.fail): _FAIL,
        (S.on_hold, A.cancel): _CANCEL_ACTIVE,
        (S.on_hold, A.revoke): _REVOKE,
        (S.on_hold, A.enter_in_error): _EIE,
        (S.completed, A.follow_up): _FOLLOW_UP,  # a check-in after completion; the status stays completed
        (S.completed, A.enter_in_error): _EIE,
        (S.rejected, A.enter_in_error): _EIE,
        (S.failed, A.enter_in_error): _EIE,
        (S.cancelled, A.enter_in_error): _EIE,
    }
)
del S, A

SYSTEM_ACTIONS: frozenset[Action] = frozenset({Action.expire, Action.revoke})
ROLE_PRIORITY: tuple[Role, ...] = (Role.system, Role.admin, Role.organization, Role.peer)

ACTION_LABELS: Mapping[Action, str] = MappingProxyType(
    {
        Action.submit: N_("Send referral"),
        Action.claim: N_("Claim this referral"),
        Action.accept: N_("Accept"),
        Action.decline: N_("Decline"),
        Action.cancel: N_("Cancel referral"),
        Action.expire: N_("Expire"),
        Action.view: N_("Mark viewed"),
        Action.start: N_("Start working on it"),
        Action.hold: N_("Put on hold"),
        Action.resume: N_("Resume"),
        Action.log_contact: N_("Log a contact attempt"),
        Action.schedule: N_("Appointment scheduled"),
        Action.handoff: N_("Warm handoff completed"),
        Action.follow_up: N_("Follow-up done"),
        Action.complete: N_("Record outcome (completed)"),
        Action.fail: N_("Close as not connected (failed)"),
        Action.revoke: N_("Consent revoked"),
        Action.enter_in_error: N_("Mark as entered in error"),
    }
)


# What the history table says happened: every action, and the events recorded outside the state machine.
EVENT_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "create": N_("Created as a draft"),
        Action.submit: N_("Sent"),
        Action.claim: N_("Claimed"),
        Action.accept: N_("Accepted"),
        Action.decline: N_("Declined"),
        Action.cancel: N_("Cancelled"),
        Action.expire: N_("Expired without an answer"),
        Action.view: N_("Viewed"),
        Action.start: N_("Work started"),
        Action.hold: N_("Put on hold"),
        Action.resume: N_("Resumed"),
        Action.log_contact: N_("Contact attempt logged"),
        Action.schedule: N_("Appointment scheduled"),
        Action.handoff: N_("Warm handoff completed"),
        Action.follow_up: N_("Follow-up done"),
        Action.complete: N_("Outcome recorded"),
        Action.fail: N_("Closed, not connected"),
        Action.revoke: N_("Consent revoked"),
        Action.enter_in_error: N_("Marked as entered in error"),
        "consent-withdrawn": N_("Consent withdrawn"),
        "note-added": N_("Note added"),
        "purge": N_("Personal details removed"),
    }
)


@dataclass(frozen=True)
class ActionInput:
    """What the actor supplies with an action. Free text goes to notes, never into the audit chain."""

    reason_code: str | None = None
    reason_text: str | None = None
    outcome_code: str | None = None
    channel: str | None = None
    result: str | None = None
    appointment_at: datetime | None = None
    handoff_mode: str | None = None
    followup_kind: str | None = None


@dataclass(frozen=True)
class Facts:
    """What the service looked up, so the checks below stay pure."""

    now: datetime
    created_at: datetime
    business_status: str | None
    has_recipient: bool
    is_open: bool
    consent_problem: str | None  # why consent does not cover this referral now, or None
    unsuccessful_attempts: int
    followup_kinds: frozenset[str]
    appointment_at: datetime | None = None  # the scheduled appointment, in the referral's own zone


def rule_for(status: str, action: Action) -> Rule | None:
    return TRANSITIONS.get((Status(status), action))


def decide(*, status: str, action: Action, roles: frozenset[Role]) -> tuple[Rule, Role]:
    """The rule for this move and the role the actor uses; InvalidTransition or Forbidden otherwise."""
    rule = rule_for(status, action)
    if rule is None:
        raise InvalidTransition(
            N_("A referral that is %(status)s cannot take the action '%(action)s'.", status=status, action=action)
        )
    allowed = rule.roles & roles
    if not allowed:
        raise Forbidden(N_("Your role on this referral does not allow '%(action)s'.", action=action))
    return rule, next(r for r in ROLE_PRIORITY if r in allowed)


def allowed_actions(*, status: str, roles: frozenset[Role]) -> list[Action]:
    """Actions a person with these roles could take now (requirements aside), in table order."""
    return [a for (s, a), rule in TRANSITIONS.items() if s == status and rule.roles & roles and a not in SYSTEM_ACTIONS]


def next_business_status(rule: Rule, current: str | None, data: ActionInput) -> str | None:
    if rule.business_status == KEEP:
        return current
    if rule.business_status == FROM_REASON:
        return data.reason_code
    return rule.business_status


def check(rule: Rule, role: Role, facts: Facts, data: ActionInput) -> None:
    """Raise the domain error for the first unmet requirement of `rule`."""
    for req in rule.requires:
        _CHECKS[req](role, facts, data)


def _coded(value: str | None, vocabulary: Mapping[str, str], field: str, what: str) -> None:
    if value not in vocabulary:
        choices = ", ".join(vocabulary)
        raise ValidationFailed(
            N_("Choose %(what)s (%(choices)s).", what=Message(what, {}), choices=choices), field=field
        )


def _consent(_r: Role, facts: Facts, _d: ActionInput) -> None:
    if facts.consent_problem:
        raise ValidationFailed(facts.consent_problem, field="consent")


def _unable_attempts(_r: Role, facts: Facts, data: ActionInput) -> None:
    if data.reason_code == codes.UNABLE_TO_CONTACT and facts.unsuccessful_attempts < MIN_ATTEMPTS_FOR_UNABLE_TO_CONTACT:
        raise ValidationFailed(
            N_(
                "'Unable to contact' needs at least %(needed)s logged contact attempts (logged: %(logged)s).",
                needed=MIN_ATTEMPTS_FOR_UNABLE_TO_CONTACT,
                logged=facts.unsuccessful_attempts,
            ),
            field="reason_code",
        )


def _contact_attempt(_r: Role, _f: Facts, data: ActionInput) -> None:
    _coded(data.channel, {c.value: c.value for c in codes.ContactChannel}, "channel", N_("how you tried to reach them"))
    _coded(data.result, codes.CONTACT_RESULTS, "result", N_("what happened"))


def _appointment(_r: Role, _f: Facts, data: ActionInput) -> None:
    if data.appointment_at is None:
        raise ValidationFailed(N_("Give the appointment date and time."), field="appointment_at")


def _after_appointment(_r: Role, facts: Facts, data: ActionInput) -> None:
    """ "Attended" or "did not attend" describe the past: not before the appointment's time."""
    code = data.outcome_code or data.reason_code
    when = facts.appointment_at
    if code in codes.AFTER_APPOINTMENT and when is not None and when > facts.now:
        field = "outcome_code" if data.outcome_code else "reason_code"
        raise ValidationFailed(
            N_(
                "The appointment is on %(when)s, still ahead: record this once it has happened.",
                when=when.strftime("%Y-%m-%d %H:%M %Z"),
            ),
            field=field,
        )


def _outcome(role: Role, facts: Facts, data: ActionInput) -> None:
    _coded(data.outcome_code, codes.OUTCOMES, "outcome_code", N_("an outcome"))
    _after_appointment(role, facts, data)


def _fail_reason(role: Role, facts: Facts, data: ActionInput) -> None:
    _coded(data.reason_code, codes.FAIL_REASONS, "reason_code", N_("a reason"))
    _after_appointment(role, facts, data)


def _followup(_r: Role, facts: Facts, data: ActionInput) -> None:
    if data.followup_kind not in facts.followup_kinds:
        raise ValidationFailed(N_("That follow-up is not pending for this referral."), field="followup_kind")


def _has_recipient(_r: Role, facts: Facts, _d: ActionInput) -> None:
    if not facts.has_recipient:
        raise InvalidTransition(N_("This open referral has not been claimed yet; claim it first."))


def _open_unclaimed(_r: Role, facts: Facts, _d: ActionInput) -> None:
    if not facts.is_open:
        raise InvalidTransition(N_("Only open referrals can be claimed."))
    if facts.has_recipient:
        raise Conflict(N_("Another organization already claimed this referral."))


def _creator_window(role: Role, facts: Facts, _d: ActionInput) -> None:
    if role == Role.peer and facts.now - facts.created_at > ENTERED_IN_ERROR_WINDOW:
        raise Forbidden(
            N_(
                "Only a network administrator can mark this as entered in error now "
                "(the creator can do so within one hour of creating it)."
            )
        )


def _unviewed(_r: Role, facts: Facts, _d: ActionInput) -> None:
    if facts.business_status is not None:
        raise InvalidTransition(N_("This referral was already viewed."))


_CHECKS = MappingProxyType(
    {
        Req.consent: _consent,
        Req.consent_current: _consent,
        Req.decline_reason: lambda _r, _f, d: _coded(
            d.reason_code, codes.DECLINE_REASONS, "reason_code", N_("a reason")
        ),
        Req.cancel_reason: lambda _r, _f, d: _coded(d.reason_code, codes.CANCEL_REASONS, "reason_code", N_("a reason")),
        Req.fail_reason: _fail_reason,
        Req.hold_reason: lambda _r, _f, d: _coded(d.reason_code, codes.HOLD_REASONS, "reason_code", N_("a reason")),
        Req.error_reason: lambda _r, _f, d: _coded(d.reason_code, codes.ERROR_REASONS, "reason_code", N_("a reason")),
        Req.outcome: _outcome,
        Req.attempts_if_unable: _unable_attempts,
        Req.contact_attempt: _contact_attempt,
        Req.appointment: _appointment,
        Req.handoff_mode: lambda _r, _f, d: _coded(d.handoff_mode, codes.HANDOFF_MODES, "handoff_mode", N_("how")),
        Req.followup_kind: _followup,
        Req.has_recipient: _has_recipient,
        Req.open_unclaimed: _open_unclaimed,
        Req.creator_window: _creator_window,
        Req.unviewed: _unviewed,
    }
)
