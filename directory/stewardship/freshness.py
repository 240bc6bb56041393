"""Freshness upkeep: the editors of stale listings (`directory.listings.freshness`) get a monthly reminder,
and network admins see how much of the directory was verified recently.
"""

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import case, exists, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from accounts.models import Membership, User
from core.clock import utcnow
from core.i18n import N_
from core.logging import get_logger
from core.mail import Mail, absolute, deliver, in_both_languages
from core.settings import Settings
from core.workers import PeriodicWorker
from directory.listings.details import Attribute, TaxonomyTerm
from directory.listings.freshness import LIVE, stale_filter
from directory.listings.models import Organization, Service
from directory.stewardship.models import FreshnessReminder

log = get_logger(__name__)

WINDOWS = (90, 180, 365)
BATCH = 500
MAX_NAMES_PER_MAIL = 50
WORKSPACE_PATH = "/workspace"


@dataclass
class ReminderReport:
    listings: int = 0
    mails: int = 0


def send_freshness_reminders(*, session: Session, settings: Settings, now: datetime) -> ReminderReport:
    """Remind the editors of every stale listing not yet reminded this month. Safe to run any number of times."""
    period = f"{now:%Y-%m}"
    report = ReminderReport()
    due: dict[str, list[str]] = defaultdict(list)
    while batch := _due(session, now.date(), period):
        recipients = _recipients(session, {org for _, _, org in batch})
        for sid, name, org in batch:
            session.add(
                FreshnessReminder(service_id=sid, period=period, recipients=len(recipients.get(org, [])), sent_at=now)
            )
            for address in recipients.get(org, []):
                due[address].append(name)
        session.commit()  # no outbox row: documents carry `verified_on`, search derives "stale" at query time
        report.listings += len(batch)
    report.mails = deliver(settings, [_mail(settings, address, names) for address, names in sorted(due.items())])
    log.info("freshness reminders", listings=report.listings, mails=report.mails, period=period)
    return report


def _due(session: Session, today: date, period: str) -> list[tuple[uuid.UUID, str, uuid.UUID]]:
    reminded = exists().where(
        col(FreshnessReminder.service_id) == col(Service.id), col(FreshnessReminder.period) == period
    )
    stmt = (
        select(Service.id, Service.name, Service.organization_id)
        .where(stale_filter(today), ~reminded)
        .order_by(col(Service.id))
        .limit(BATCH)
    )
    return [(sid, name, org) for sid, name, org in session.exec(stmt).all()]


def _recipients(session: Session, org_ids: set[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    stmt = (
        select(Membership.organization_id, User.email)
        .join(User, col(User.id) == Membership.user_id)
        .where(col(Membership.organization_id).in_(org_ids), col(User.is_active).is_(True))
    )
    found: dict[uuid.UUID, list[str]] = defaultdict(list)
    for org, email in session.exec(stmt).all():
        found[org].append(email)
    return found


def _mail(settings: Settings, address: str, names: list[str]) -> Mail:
    shown = "\n".join(f"- {name}" for name in sorted(names)[:MAX_NAMES_PER_MAIL])
    more = len(names) - MAX_NAMES_PER_MAIL
    if more > 0:
        shown += f"\n- … (+{more})"
    paragraphs = [
        N_(
            "These listings have not been confirmed in the last 180 days, so people searching see them as "
            '"not recently verified":'
        ),
        "%(names)s",
        N_('Please check each one and press "Still correct" (or fix what changed) in your workspace:\n%(link)s'),
    ]
    return in_both_languages(
        to=address,
        subject=N_("Please confirm your listings are still correct"),
        paragraphs=paragraphs,
        values={"names": shown, "link": absolute(settings, WORKSPACE_PATH)},
    )


@dataclass
class Share:
    label: str
    total: int
    verified: dict[int, int] = field(default_factory=dict)

    def percent(self, days: int) -> int:
        return round(100 * self.verified.get(days, 0) / self.total) if self.total else 0


@dataclass
class Dashboard:
    overall: Share
    by_category: list[Share]
    by_organization: list[Share]
    stale: int


def dashboard(*, session: Session, today: date, limit: int = 100) -> Dashboard:
    """Share of live listings verified in the last 90/180/365 days, overall, by category and by organization."""
    counts = [func.count(col(Service.id))] + [
        func.sum(case((col(Service.assured_date) >= today - timedelta(days=d), 1), else_=0)) for d in WINDOWS
    ]
    live = col(Service.status).in_(LIVE)
    overall = session.exec(select(*counts).where(live)).one()
    by_org = session.exec(
        select(Organization.name, *counts)
        .join(Organization, col(Organization.id) == Service.organization_id)
        .where(live)
        .group_by(col(Organization.id), col(Organization.name))
        .order_by(func.count(col(Service.id)).desc())
        .limit(limit)
    ).all()
    by_category = session.exec(
        select(TaxonomyTerm.name, *counts)
        .join(Attribute, col(Attribute.link_id) == Service.id)
        .join(TaxonomyTerm, col(TaxonomyTerm.id) == Attribute.taxonomy_term_id)
        .where(live, Attribute.link_entity == "service")
        .group_by(col(TaxonomyTerm.id), col(TaxonomyTerm.name))
        .order_by(col(TaxonomyTerm.name))
    ).all()
    stale = session.exec(select(func.count()).select_from(Service).where(stale_filter(today))).one()
    return Dashboard(
        _share("All listings", overall),
        [_share(r[0], r[1:]) for r in by_category],
        [_share(r[0], r[1:]) for r in by_org],
        int(stale),
    )


def _share(label: str, row: Any) -> Share:
    total, *verified = row
    return Share(label, int(total or 0), {d: int(v or 0) for d, v in zip(WINDOWS, verified, strict=True)})


class FreshnessWorker(PeriodicWorker):
    """Runs the reminders once a day inside the web process (embedded default)."""

    thread_name = "freshness-reminders"

    def __init__(self, *, engine: Engine, settings: Settings, interval: float = 86_400.0, delay: float = 300.0):
        super().__init__(first_wait=delay)
        self.engine, self.settings, self.interval = engine, settings, interval

    def step(self) -> float:
        try:
            with Session(self.engine, expire_on_commit=False) as session:
                send_freshness_reminders(session=session, settings=self.settings, now=utcnow())
        except Exception:
            log.exception("freshness reminders failed; retrying next time")
        return self.interval


def start_freshness_worker(app: FastAPI) -> FreshnessWorker:
    return FreshnessWorker(engine=app.state.engine, settings=app.state.settings).start()
