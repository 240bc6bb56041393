"""The referral pages in the staff menu: who sees each link (the checks the pages make) and what waits."""

from sqlmodel import Session

from accounts.models import User
from accounts.navigation import MenuItem
from accounts.permissions import is_member, is_peer, may_view_metrics
from core.i18n import N_
from referrals import notifications, queries


def _peer(session: Session, user: User) -> bool:
    return is_peer(session=session, user=user)


def _supervisor_only(session: Session, user: User) -> bool:
    return user.is_supervisor and not is_peer(session=session, user=user)


def _member(session: Session, user: User) -> bool:
    return is_member(session=session, user=user)


def _metrics(session: Session, user: User) -> bool:
    return may_view_metrics(session=session, user=user)


def _notified(session: Session, user: User) -> bool:
    """People the referral workflow writes to: peers, supervisors and organization members."""
    return user.is_supervisor or is_peer(session=session, user=user) or is_member(session=session, user=user)


def _unanswered(session: Session, user: User) -> int:
    return queries.unanswered_count(session=session, user=user)


def _unread(session: Session, user: User) -> int:
    return notifications.unread_count(session, user.id)


def _yes(_session: Session, _user: User) -> bool:
    return True


def menu() -> list[MenuItem]:
    # Landing: an unanswered referral outranks everything but moderation; peers and supervisors then
    # land on their dashboards (the team's referrals are on a supervisor's).
    return [
        MenuItem("my-referrals", N_("My referrals"), "referrals_dashboard", _peer, 10, lands_when=_yes, rank=30),
        MenuItem("team", N_("Team dashboard"), "referrals_dashboard", _supervisor_only, 11, lands_when=_yes, rank=31),
        MenuItem(
            "inbox",
            N_("Referral inbox"),
            "referrals_inbox",
            _member,
            20,
            waiting=_unanswered,
            lands_when=lambda s, u: _unanswered(s, u) > 0,
            rank=20,
        ),
        MenuItem("metrics", N_("Metrics"), "referrals_metrics", _metrics, 60),
        MenuItem("notifications", N_("Notifications"), "referral_notifications", _notified, 70, waiting=_unread),
    ]
