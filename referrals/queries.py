"""Read side: the peer dashboard, the organization inbox, one referral as its viewer may see it.

Every function that shows personal content of a referral writes an access-log row for it.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from accounts.models import PeerProfile, User
from accounts.permissions import organization_ids
from core.errors import Conflict, InvalidTransition
from core.settings import Settings
from directory.listings.models import Organization, Service
from referrals import access, audit, local
from referrals.codes import ACTIVE_STATUSES, BusinessStatus, Status
from referrals.consent import current_consent
from referrals.db import as_utc
from referrals.models import Referral, ReferralCandidate, ReferralConsent, ReferralEvent, ReferralFollowUp
from referrals.schemas import PersonPublic, ReferralPublic
from referrals.service import allowed_for, apply_action
from referrals.timers import add_business_days
from referrals.workflow import Action


@dataclass
class Item:
    """One line in a list: `person_name` is None when this viewer may not see it."""

    referral: Referral
    organization: str
    service: str
    person_name: str | None
    overdue: bool = False
    due_at: datetime | None = None
    followup_kind: str | None = None
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))  # the referral's own zone (referrals/local.py)
    appointment_at: datetime | None = None


def public(referral: Referral, viewer: access.Viewer) -> ReferralPublic:
    person = None
    if viewer.content_visible:
        person = PersonPublic(
            person_name=referral.person_name,
            contact_channel=referral.contact_channel,
            contact_detail=referral.contact_detail,
            contact_time=referral.contact_time,
            language=referral.language,
            need_text=referral.need_text,
        )
    return ReferralPublic(
        **referral.model_dump(
            include=set(ReferralPublic.model_fields) - {"person", "your_role", "content_visible", "allowed_actions"}
        ),
        your_role=viewer.label,
        content_visible=viewer.content_visible,
        person=person,
        allowed_actions=[a.value for a in allowed_for(referral, viewer)],
    )


def _names(session: Session, referrals: list[Referral]) -> tuple[dict[uuid.UUID, str], dict[uuid.UUID, str]]:
    org_ids = {r.recipient_organization_id for r in referrals if r.recipient_organization_id}
    service_ids = {r.service_id for r in referrals if r.service_id}
    orgs = (
        dict(session.exec(select(Organization.id, Organization.name).where(col(Organization.id).in_(org_ids))).all())
        if org_ids
        else {}
    )
    services = (
        dict(session.exec(select(Service.id, Service.name).where(col(Service.id).in_(service_ids))).all())
        if service_ids
        else {}
    )
    return orgs, services


def organization_names(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    wanted = set(ids)
    if not wanted:
        return {}
    return dict(session.exec(select(Organization.id, Organization.name).where(col(Organization.id).in_(wanted))).all())


def _items(session: Session, referrals: list[Referral], show_names: bool, overdue_at: "OverdueRule") -> list[Item]:
    orgs, services = _names(session, referrals)
    zones = local.referral_zones(session, referrals, overdue_at.settings)
    appointments = local.appointments(session, [r.id for r in referrals])
    return [
        Item(
            r,
            orgs.get(r.recipient_organization_id, "Open referral") if r.recipient_organization_id else "Open referral",
            services.get(r.service_id, "") if r.service_id else "",
            r.person_name if show_names and not r.purged_at else None,
            overdue_at.is_overdue(r),
            zone=zones[r.id],
            appointment_at=appointments.get(r.id),
        )
        for r in referrals
    ]


@dataclass(frozen=True)
class OverdueRule:
    """A sent referral is overdue once the last reminder's business day has passed without an answer."""

    now: datetime
    settings: Settings

    def due(self, referral: Referral) -> datetime | None:
        if referral.status != Status.requested or referral.requested_at is None:
            return None
        days = max(self.settings.referral_reminder_business_days, default=1)
        return add_business_days(referral.requested_at, days, self.settings.referral_timezone)

    def is_overdue(self, referral: Referral) -> bool:
        due = self.due(referral)
        return due is not None and due <= self.now


@dataclass
class Dashboard:
    by_status: dict[str, list[Item]]
    followups_due: list[Item]
    overdue: list[Item]
    team: list[Item] = field(default_factory=list)
    is_supervisor: bool = False


def dashboard(*, session: Session, user: User, now: datetime, settings: Settings) -> Dashboard:
    rule = OverdueRule(now, settings)
    mine = list(
        session.exec(
            select(Referral).where(Referral.creator_id == user.id).order_by(col(Referral.created_at).desc())
        ).all()
    )
    items = _items(session, mine, True, rule)
    by_status: dict[str, list[Item]] = {s.value: [] for s in Status}
    for item in items:
        by_status[item.referral.status].append(item)
    viewer = access.Viewer(user.id, frozenset(), "P", True)
    access.log_access(
        session, referral_ids=[r.id for r in mine], viewer=viewer, via="list", now=now, content_shown=True
    )
    team = _team(session, user, rule) if user.is_supervisor else []
    session.commit()
    return Dashboard(
        by_status={k: v for k, v in by_status.items() if v},
        followups_due=_followups_due(session, user, now, settings),
        overdue=[i for i in items if i.overdue],
        team=team,
        is_supervisor=user.is_supervisor,
    )


def _team(session: Session, user: User, rule: OverdueRule) -> list[Item]:
    """A supervisor's view of their team's referrals: statuses and dates, never the person's details."""
    team_ids = session.exec(select(PeerProfile.user_id).where(PeerProfile.supervisor_id == user.id)).all()
    if not team_ids:
        return []
    rows = list(
        session.exec(
            select(Referral)
            .where(col(Referral.creator_id).in_(team_ids), Referral.status != Status.draft)
            .order_by(col(Referral.created_at).desc())
            .limit(200)
        ).all()
    )
    return _items(session, rows, False, rule)


def _followups_due(session: Session, user: User, now: datetime, settings: Settings) -> list[Item]:
    zone = ZoneInfo(settings.referral_timezone)
    end_of_today = datetime.combine(now.astimezone(zone).date() + timedelta(days=1), time(0), tzinfo=zone)
    rows = session.exec(
        select(ReferralFollowUp, Referral)
        .join(Referral, col(Referral.id) == ReferralFollowUp.referral_id)
        .where(
            Referral.creator_id == user.id,
            col(ReferralFollowUp.done_at).is_(None),
            col(ReferralFollowUp.due_at) < end_of_today,
            col(Referral.status).in_([*ACTIVE_STATUSES, Status.completed]),
        )
        .order_by(col(ReferralFollowUp.due_at))
    ).all()
    items = _items(session, [r for _, r in rows], True, OverdueRule(now, settings))
    for item, (followup, _) in zip(items, rows, strict=True):
        item.due_at, item.followup_kind = as_utc(followup.due_at), followup.kind
        item.overdue = item.due_at < now
    return items


@dataclass
class Inbox:
    new: list[Item]
    waiting: list[Item]
    overdue: list[Item]
    active: list[Item]
    offers: list[Item]
    closed: list[Item]
    organizations: list[Organization]


def inbox(*, session: Session, user: User, now: datetime, settings: Settings) -> Inbox:
    org_ids = organization_ids(session=session, user=user)
    orgs = list(session.exec(select(Organization).where(col(Organization.id).in_(org_ids))).all()) if org_ids else []
    received = (
        list(
            session.exec(
                select(Referral)
                .where(col(Referral.recipient_organization_id).in_(org_ids), Referral.status != Status.draft)
                .order_by(col(Referral.requested_at).desc())
                .limit(500)
            ).all()
        )
        if org_ids
        else []
    )
    visible = {r.id for r in received if _recipient_sees(session, r, now)}
    rule = OverdueRule(now, settings)
    items = _items(session, received, True, rule)
    for item in items:
        item.person_name = item.person_name if item.referral.id in visible else None
    viewer = access.Viewer(user.id, frozenset(), "O", True)
    access.log_access(session, referral_ids=sorted(visible), viewer=viewer, via="list", now=now, content_shown=True)
    offers = _items(session, _offers(session, org_ids), False, rule)
    session.commit()
    requested = [i for i in items if i.referral.status == Status.requested]
    return Inbox(
        new=[i for i in requested if not i.overdue and i.referral.business_status != BusinessStatus.viewed],
        waiting=[i for i in requested if not i.overdue and i.referral.business_status == BusinessStatus.viewed],
        overdue=[i for i in requested if i.overdue],
        active=[i for i in items if i.referral.status in ACTIVE_STATUSES],
        offers=offers,
        closed=[i for i in items if i.referral.status not in (*ACTIVE_STATUSES, Status.requested)][:50],
        organizations=orgs,
    )


def unanswered_count(*, session: Session, user: User) -> int:
    """Referrals waiting for an answer from the user's organizations (sent to them, or offered to them and
    still unclaimed): the inbox's badge in the menu. Counts only; reads no personal detail."""
    org_ids = organization_ids(session=session, user=user)
    if not org_ids:
        return 0
    sent = (
        select(func.count())
        .select_from(Referral)
        .where(col(Referral.recipient_organization_id).in_(org_ids), Referral.status == Status.requested)
    )
    return int(session.exec(sent).one()) + len(_offers(session, org_ids))


def _recipient_sees(session: Session, referral: Referral, now: datetime) -> bool:
    return (
        not referral.content_hidden and referral.purged_at is None and access.recipient_may_see(session, referral, now)
    )


def _offers(session: Session, org_ids: list[uuid.UUID]) -> list[Referral]:
    if not org_ids:
        return []
    offered = select(ReferralCandidate.referral_id).where(col(ReferralCandidate.organization_id).in_(org_ids))
    return list(
        session.exec(
            select(Referral)  # IN (subquery), not JOIN + DISTINCT: PostgreSQL cannot compare JSON columns
            .where(
                col(Referral.id).in_(offered),
                Referral.status == Status.requested,
                col(Referral.recipient_organization_id).is_(None),
            )
            .order_by(col(Referral.requested_at))
        ).all()
    )


@dataclass
class Detail:
    referral: Referral
    viewer: access.Viewer
    actions: list[Action]
    consent: ReferralConsent | None
    organization: str
    service: str
    events: list[ReferralEvent] = field(default_factory=list)
    followups: list[ReferralFollowUp] = field(default_factory=list)


def open_referral(
    *, session: Session, referral_id: uuid.UUID, user: User, now: datetime, settings: Settings, via: str = "html"
) -> tuple[Referral, access.Viewer]:
    """Load a referral for reading: 404 unless visible, log the access, mark it viewed on the recipient's
    first look (a workflow action like any other; losing that race to an accept is harmless)."""
    referral, viewer = access.visible_referral(session, referral_id, user, now=now)
    if viewer.label == "O" and referral.status == Status.requested and referral.business_status is None:
        try:
            referral = apply_action(
                session=session, referral_id=referral.id, actor=user, action=Action.view, now=now, settings=settings
            )
        except (Conflict, InvalidTransition):
            session.rollback()
            referral, viewer = access.visible_referral(session, referral_id, user, now=now)
    access.log_access(
        session, referral_ids=[referral.id], viewer=viewer, via=via, now=now, content_shown=viewer.content_visible
    )
    session.commit()
    return referral, viewer


def detail(*, session: Session, referral: Referral, viewer: access.Viewer) -> Detail:
    orgs, services = _names(session, [referral])
    followups = (
        list(
            session.exec(
                select(ReferralFollowUp)
                .where(ReferralFollowUp.referral_id == referral.id)
                .order_by(col(ReferralFollowUp.due_at))
            ).all()
        )
        if viewer.label == "P"
        else []
    )
    return Detail(
        referral=referral,
        viewer=viewer,
        actions=allowed_for(referral, viewer),
        consent=current_consent(session, referral.id) if viewer.label in ("P", "O") else None,
        organization=orgs.get(referral.recipient_organization_id, "Open referral")
        if referral.recipient_organization_id
        else "Open referral",
        service=services.get(referral.service_id, "") if referral.service_id else "",
        events=audit.history(session, referral.id),
        followups=followups,
    )


def list_for_api(*, session: Session, user: User, now: datetime, scope: str) -> list[ReferralPublic]:
    """`mine` (sent by the caller) or `inbox` (received by the caller's organizations, plus open offers)."""
    if scope == "mine":
        rows = list(
            session.exec(
                select(Referral)
                .where(Referral.creator_id == user.id)
                .order_by(col(Referral.created_at).desc())
                .limit(500)
            ).all()
        )
    else:
        org_ids = organization_ids(session=session, user=user)
        rows = list(
            session.exec(
                select(Referral)
                .where(col(Referral.recipient_organization_id).in_(org_ids), Referral.status != Status.draft)
                .limit(500)
            ).all()
        )
        rows += _offers(session, org_ids)
    result = []
    for referral in rows:
        viewer = access.resolve(session, referral, user, now=now)
        if viewer is not None:
            result.append(public(referral, viewer))
            access.log_access(
                session,
                referral_ids=[referral.id],
                viewer=viewer,
                via="api",
                now=now,
                content_shown=viewer.content_visible,
            )
    session.commit()
    return result
