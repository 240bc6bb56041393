"""Moderators hear of new public suggestions: one digest e-mail per moderator listing the suggestions that
arrived since the last one, by listing name and kind. Never the reporter's text or contact: those are
personal details and stay behind the sign-in.

Each suggestion is told once (`Suggestion.notified_at`, set in the transaction that builds the digest,
mailed after the commit), so the job is safe to run any number of times, by any number of workers.
Who is told: the people who may decide on it (organization admins and trusted editors); for an
organization without any, the network admins.
"""

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from fastapi import FastAPI
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, or_, select

from accounts.models import Membership, OrgRole, User
from core.clock import utcnow
from core.i18n import N_, gettext
from core.logging import get_logger
from core.mail import Mail, absolute, deliver, in_both_languages
from core.settings import Settings
from core.workers import PeriodicWorker
from directory.listings.models import Organization, Service
from directory.stewardship.models import SUGGESTION_KIND_LABELS, Suggestion, SuggestionStatus

log = get_logger(__name__)
BATCH = 500
MODERATION_PATH = "/workspace/moderation"


@dataclass(frozen=True)
class Waiting:
    organization: str
    listing: str
    kind: str


def send_suggestion_digest(*, session: Session, settings: Settings, now: datetime) -> int:
    """Tell moderators of the suggestions not yet told; returns the e-mails sent."""
    rows = session.exec(
        select(Suggestion, Organization.name, Service.name)
        .join(Organization, col(Organization.id) == Suggestion.organization_id)
        .join(Service, col(Service.id) == Suggestion.service_id)
        .where(Suggestion.status == SuggestionStatus.new, col(Suggestion.notified_at).is_(None))
        .order_by(col(Suggestion.created_at))
        .limit(BATCH)
    ).all()
    if not rows:
        return 0
    moderators = _moderators(session, {s.organization_id for s, _, _ in rows})
    due: dict[str, list[Waiting]] = defaultdict(list)
    for suggestion, org_name, listing in rows:
        for address in moderators.get(suggestion.organization_id, []):
            due[address].append(Waiting(org_name, listing, suggestion.kind))
        suggestion.notified_at = now
        session.add(suggestion)
    session.commit()
    sent = deliver(settings, [_mail(settings, address, items) for address, items in sorted(due.items())])
    log.info("suggestion digest", suggestions=len(rows), mails=sent)
    return sent


def _moderators(session: Session, org_ids: set[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    found: dict[uuid.UUID, list[str]] = defaultdict(list)
    stmt = (
        select(Membership.organization_id, User.email)
        .join(User, col(User.id) == Membership.user_id)
        .where(
            col(Membership.organization_id).in_(org_ids),
            col(User.is_active).is_(True),
            or_(col(Membership.role) == OrgRole.admin, col(Membership.trusted).is_(True)),
        )
        .order_by(col(User.email))
    )
    for org_id, email in session.exec(stmt).all():
        found[org_id].append(email)
    if org_ids - set(found):
        admins = list(
            session.exec(
                select(User.email).where(col(User.is_network_admin).is_(True), col(User.is_active).is_(True))
            ).all()
        )
        for org_id in org_ids - set(found):
            found[org_id] = admins
    return found


def _mail(settings: Settings, address: str, items: list[Waiting]) -> Mail:
    def lines(lang: str) -> str:
        return "\n".join(
            f"- {w.listing} ({w.organization}): {gettext(lang, SUGGESTION_KIND_LABELS.get(w.kind, w.kind))}"
            for w in items
        )

    paragraphs = [
        N_("Suggestions from the public waiting for a decision: %(count)s"),
        "%(lines)s",
        N_("Review them in the moderation queue:\n%(link)s"),
        N_("This message contains no personal details on purpose: what the reporter wrote is behind the sign-in."),
    ]
    return in_both_languages(
        to=address,
        subject=N_("New suggestions are waiting for review"),
        paragraphs=paragraphs,
        values={"count": len(items), "lines": lines, "link": absolute(settings, MODERATION_PATH)},
    )


class SuggestionDigestWorker(PeriodicWorker):
    """Sends the digest every `interval` seconds inside the web process (embedded default)."""

    thread_name = "suggestion-digest"

    def __init__(self, *, engine: Engine, settings: Settings, interval: float = 3_600.0, delay: float = 120.0):
        super().__init__(first_wait=delay)
        self.engine, self.settings, self.interval = engine, settings, interval

    def step(self) -> float:
        try:
            with Session(self.engine, expire_on_commit=False) as session:
                send_suggestion_digest(session=session, settings=self.settings, now=utcnow())
        except Exception:
            log.exception("suggestion digest failed; retrying next time")
        return self.interval


def start_suggestion_digest_worker(app: FastAPI) -> SuggestionDigestWorker:
    return SuggestionDigestWorker(engine=app.state.engine, settings=app.state.settings).start()
