"""The directory's pages in the staff menu: the organizations a person manages, moderation and the network
admin's pages. Each link shows only for people the page's own check lets in (accounts.permissions)."""

import uuid

from sqlmodel import Session

from accounts.models import User
from accounts.navigation import MenuItem
from accounts.permissions import is_member, is_peer, may_moderate, organization_ids
from core.i18n import N_
from directory.stewardship import claims, moderation


def _one_organization(session: Session, user: User) -> bool:
    return len(organization_ids(session=session, user=user)) == 1


def _several(session: Session, user: User) -> bool:
    return len(organization_ids(session=session, user=user)) > 1


def _the_organization(session: Session, user: User) -> dict[str, uuid.UUID]:
    return {"organization_id": organization_ids(session=session, user=user)[0]}


def _workspace(session: Session, user: User) -> bool:
    """Network admins find any organization there; someone with no role yet learns how to ask for one."""
    if user.is_network_admin:
        return True
    return not (user.is_supervisor or is_member(session=session, user=user) or is_peer(session=session, user=user))


def _moderator(session: Session, user: User) -> bool:
    return may_moderate(session=session, user=user)


def _held(session: Session, user: User) -> int:
    return moderation.waiting_count(session=session, user=user)


def _network_admin(_session: Session, user: User) -> bool:
    return user.is_network_admin


def _claims(session: Session, _user: User) -> int:
    return claims.waiting_count(session=session)


def _yes(_session: Session, _user: User) -> bool:
    return True


def menu() -> list[MenuItem]:
    return [
        MenuItem(
            "organization",
            N_("My organization"),
            "workspace_organization",
            _one_organization,
            5,
            lands_when=_yes,
            rank=40,
            params=_the_organization,
        ),
        MenuItem("organizations", N_("My organizations"), "workspace", _several, 5, lands_when=_yes, rank=40),
        MenuItem("workspace", N_("Workspace"), "workspace", _workspace, 6, lands_when=_yes, rank=99),
        MenuItem(
            "moderation",
            N_("Moderation"),
            "moderation_queue",
            _moderator,
            30,
            waiting=_held,
            lands_when=_network_admin,
            rank=10,
        ),
        MenuItem("claims", N_("Claims"), "admin_claims", _network_admin, 40, waiting=_claims),
        MenuItem("freshness", N_("Freshness"), "admin_freshness", _network_admin, 45),
        MenuItem("feeds", N_("Meeting feeds"), "admin_feeds", _network_admin, 50),
    ]
