"""Referral metrics, computed from the audit events (statuses can change; the events say what happened).

Definitions (per referral sent, i.e. with a `submit` event; entered-in-error referrals are left out):
- acceptance rate: accepted or claimed / sent; time to acceptance: median hours from sending to that;
- connection rate: warm handoff completed or outcome recorded (completed) / sent;
- expiry rate: expired without an answer / sent; completion rate: completed / sent.
Network-wide views suppress every count from 1 to 10 (shown as "<11") and every rate or median whose
base is under 11, so no small group can be singled out.
"""

import csv
import io
import statistics
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from accounts.models import PeerProfile, User
from accounts.permissions import may_view_metrics, organization_ids
from core.errors import Forbidden
from core.i18n import N_
from directory.listings.models import Organization
from referrals.codes import BusinessStatus, Status
from referrals.db import as_utc
from referrals.models import Referral, ReferralEvent

SMALL_COUNT = 11
SUPPRESSED = "<11"


@dataclass(frozen=True)
class Scope:
    organization_id: uuid.UUID | None  # None: the whole network
    label: str
    suppress: bool
    choices: list[tuple[uuid.UUID, str]]
    network_allowed: bool
    team: tuple[uuid.UUID, ...] | None = None  # a supervisor's view: the referrals their peers sent


def scope_for(*, session: Session, user: User, organization_id: uuid.UUID | None) -> Scope:
    """Members see their organization's received referrals; supervisors without an organization the
    referrals their team sent; network admins also the whole network (suppressed). Anyone else is refused
    (`may_view_metrics` is the same rule, for the menu)."""
    if not may_view_metrics(session=session, user=user):
        raise Forbidden(N_("Referral metrics are for organization members, supervisors and network administrators."))
    member_of = organization_ids(session=session, user=user)
    names = (
        dict(session.exec(select(Organization.id, Organization.name).where(col(Organization.id).in_(member_of))).all())
        if member_of
        else {}
    )
    choices = sorted(names.items(), key=lambda item: item[1])
    if organization_id is None and not user.is_network_admin:
        organization_id = choices[0][0] if choices else None
    if organization_id is None:
        if not user.is_network_admin:
            return Scope(None, "My team", False, choices, False, team=_team_of(session, user))
        return Scope(None, "Whole network", True, choices, True)
    if organization_id not in names and not user.is_network_admin:
        raise Forbidden(N_("You are not a member of this organization."))
    org = session.get(Organization, organization_id)
    label = org.name if org else "Unknown organization"
    return Scope(organization_id, label, False, choices, user.is_network_admin)


def _team_of(session: Session, user: User) -> tuple[uuid.UUID, ...]:
    return tuple(session.exec(select(PeerProfile.user_id).where(PeerProfile.supervisor_id == user.id)).all())


def rows_in(session: Session, scope: Scope) -> list["Row"]:
    """The rows a scope covers: the page, the CSV and the JSON API all read them from here."""
    return collect(session, organization_id=scope.organization_id, creators=scope.team)


@dataclass
class Row:
    referral_id: uuid.UUID
    organization: str
    category: str
    month: str
    accepted: bool = False
    hours_to_accept: float | None = None
    connected: bool = False
    expired: bool = False
    completed: bool = False
    outcome: str | None = None
    decline_reason: str | None = None


@dataclass
class Summary:
    sent: int = 0
    accepted: int = 0
    connected: int = 0
    expired: int = 0
    completed: int = 0
    hours: list[float] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    decline_reasons: Counter[str] = field(default_factory=Counter)

    def rate(self, count: int) -> float | None:
        return count / self.sent if self.sent else None

    @property
    def median_hours(self) -> float | None:
        return statistics.median(self.hours) if self.hours else None


def collect(
    session: Session, *, organization_id: uuid.UUID | None = None, creators: tuple[uuid.UUID, ...] | None = None
) -> list[Row]:
    """One row per sent referral in scope (one organization's received referrals, the referrals a team
    of peers sent, or the network)."""
    query = select(Referral.id, Referral.recipient_organization_id, Referral.need_categories, Referral.status)
    if organization_id is not None:
        query = query.where(Referral.recipient_organization_id == organization_id)
    if creators is not None:
        query = query.where(col(Referral.creator_id).in_(creators))
    referrals = {
        rid: (org, cats, status)
        for rid, org, cats, status in session.exec(query).all()
        if status != Status.entered_in_error
    }
    org_ids = list({org for org, _, _ in referrals.values() if org})
    names = (
        dict(session.exec(select(Organization.id, Organization.name).where(col(Organization.id).in_(org_ids))).all())
        if org_ids
        else {}
    )
    events: dict[uuid.UUID, list[ReferralEvent]] = defaultdict(list)
    ids = list(referrals)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for event in session.exec(
            select(ReferralEvent).where(col(ReferralEvent.referral_id).in_(chunk)).order_by(col(ReferralEvent.seq))
        ).all():
            events[event.referral_id].append(event)
    rows = []
    for rid, (org, cats, _status) in referrals.items():
        row = _row(rid, names.get(org, "Open (unclaimed)") if org else "Open (unclaimed)", list(cats), events[rid])
        if row is not None:
            rows.append(row)
    return rows


def _row(rid: uuid.UUID, org_name: str, categories: list[str], events: list[ReferralEvent]) -> Row | None:
    sent_at: datetime | None = None
    row: Row | None = None
    for event in events:
        if event.action == "submit":
            sent_at = as_utc(event.at)
            row = Row(rid, org_name, (categories or ["uncategorized"])[0], sent_at.strftime("%Y-%m"))
        elif row is not None and sent_at is not None:
            _apply(row, event, sent_at)
    return row


def _apply(row: Row, event: ReferralEvent, sent_at: datetime) -> None:
    if event.action in ("accept", "claim") and not row.accepted:
        row.accepted = True
        row.hours_to_accept = (as_utc(event.at) - sent_at).total_seconds() / 3600
    elif event.action == "handoff" or event.business_status == BusinessStatus.handoff_completed:
        row.connected = True
    elif event.action == "expire":
        row.expired = True
    elif event.action == "decline":
        row.decline_reason = event.reason_code
    if event.action == "complete":
        row.completed = row.connected = True
        row.outcome = event.reason_code


def summarize(rows: Iterable[Row]) -> Summary:
    total = Summary()
    for row in rows:
        total.sent += 1
        total.accepted += row.accepted
        total.connected += row.connected
        total.expired += row.expired
        total.completed += row.completed
        if row.hours_to_accept is not None:
            total.hours.append(row.hours_to_accept)
        if row.outcome:
            total.outcomes[row.outcome] += 1
        if row.decline_reason:
            total.decline_reasons[row.decline_reason] += 1
    return total


GROUPINGS: dict[str, Callable[[Row], str]] = {
    "organization": lambda r: r.organization,
    "category": lambda r: r.category,
    "month": lambda r: r.month,
}


def breakdown(rows: list[Row], by: str) -> list[tuple[str, Summary]]:
    groups: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        groups[GROUPINGS[by](row)].append(row)
    return [(key, summarize(items)) for key, items in sorted(groups.items())]


# --- presentation: suppression applied in one place, used by the page, the charts and the CSV ------------


def count_cell(value: int, suppress: bool) -> str:
    return SUPPRESSED if suppress and 0 < value < SMALL_COUNT else str(value)


def rate_cell(summary: Summary, value: int, suppress: bool) -> str:
    rate = summary.rate(value)
    if rate is None or (suppress and summary.sent < SMALL_COUNT):
        return "—" if rate is None else "suppressed"
    return f"{rate:.0%}"


def median_cell(summary: Summary, suppress: bool) -> str:
    median = summary.median_hours
    if median is None:
        return "—"
    if suppress and len(summary.hours) < SMALL_COUNT:
        return "suppressed"
    return f"{median:.1f} h"


COLUMNS = ("sent", "accepted", "connected", "expired", "completed")
RATE_COLUMNS = (
    ("acceptance", "accepted"),
    ("connection", "connected"),
    ("expiry", "expired"),
    ("completion", "completed"),
)


def table_row(label: str, summary: Summary, suppress: bool) -> dict[str, str]:
    cells = {"group": label} | {c: count_cell(getattr(summary, c), suppress) for c in COLUMNS}
    cells |= {f"{name}_rate": rate_cell(summary, getattr(summary, attr), suppress) for name, attr in RATE_COLUMNS}
    cells["median_time_to_acceptance"] = median_cell(summary, suppress)
    return cells


def counter_rows(counter: Counter[str], labels: dict[str, str], suppress: bool) -> list[tuple[str, str, str]]:
    return [(code, labels.get(code, code), count_cell(n, suppress)) for code, n in counter.most_common()]


def to_csv(rows: list[Row], *, suppress: bool) -> str:
    out = io.StringIO()
    header = [
        "grouping",
        "group",
        *COLUMNS,
        *(f"{n}_rate" for n, _ in RATE_COLUMNS),
        "median_time_to_acceptance",
        "count",
    ]
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    total = summarize(rows)
    writer.writerow({"grouping": "all"} | table_row("all", total, suppress))
    for by in GROUPINGS:
        for label, summary in breakdown(rows, by):
            writer.writerow({"grouping": by} | table_row(label, summary, suppress))
    for grouping, counter in (("outcome", total.outcomes), ("decline_reason", total.decline_reasons)):
        for code, n in counter.most_common():
            writer.writerow({"grouping": grouping, "group": code, "count": count_cell(n, suppress)})
    return out.getvalue()
