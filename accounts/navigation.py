"""The staff menu and where each person lands after signing in.

Each domain declares its menu items (`menu()` in its `__init__.py`, collected by the app factory into
`app.state.menu_items`): a page, the question that decides who may open it (a predicate from
`accounts.permissions`, the one the endpoint asks too, so no one sees a link that answers 403), an
optional count of what waits there (the badge) and, for pages where work arrives, when that page is the
right place to land after signing in. Only this module turns the declarations into links.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from jinja2 import Environment
from sqlmodel import Session

from accounts.deps import CurrentUser
from accounts.models import User
from core.deps import DbSession
from core.i18n import N_, path_with

Check = Callable[[Session, User], bool]
Params = Callable[[Session, User], dict[str, uuid.UUID]]


@dataclass(frozen=True)
class MenuItem:
    key: str  # stable id, used by tests and styles (data-menu)
    label: str  # English msgid, translated when rendered
    route: str
    may_open: Check
    order: int  # position in the menu (domains declare theirs apart; this puts them in one order)
    waiting: Callable[[Session, User], int] | None = None  # the badge: how many things wait there
    lands_when: Check | None = None  # after sign-in, land here when this holds (lower `rank` first)
    rank: int = 100
    params: Params | None = None  # path parameters (e.g. the one organization a person manages)


@dataclass(frozen=True)
class MenuLink:
    key: str
    label: str
    route: str
    params: dict[str, uuid.UUID]
    waiting: int | None


def menu_for(*, session: Session, user: User, items: list[MenuItem]) -> list[MenuLink]:
    """The links this person may open, in menu order, with what waits behind each."""
    links = []
    for item in sorted(items, key=lambda i: i.order):
        if not item.may_open(session, user):
            continue
        params = item.params(session, user) if item.params else {}
        waiting = item.waiting(session, user) if item.waiting else None
        links.append(MenuLink(item.key, item.label, item.route, params, waiting))
    return links


def landing_for(*, session: Session, user: User, items: list[MenuItem]) -> tuple[str, dict[str, uuid.UUID]]:
    """The route (and its parameters) where this person's work is; the account page when nothing else fits."""
    for item in sorted((i for i in items if i.lands_when is not None), key=lambda i: i.rank):
        assert item.lands_when is not None
        if item.may_open(session, user) and item.lands_when(session, user):
            return item.route, item.params(session, user) if item.params else {}
    return "account", {}


def _items(request: Request) -> list[MenuItem]:
    return list(getattr(request.app.state, "menu_items", []))


def staff_menu(request: Request) -> list[MenuLink]:
    """For templates: the signed-in person's menu (empty for anyone else). Read-only, its own session."""
    auth = getattr(request.state, "auth", None)
    user = getattr(auth, "user", None)
    if user is None:
        return []
    with Session(request.app.state.engine) as session:
        return menu_for(session=session, user=user, items=_items(request))


def install(env: Environment) -> None:
    env.globals["staff_menu"] = staff_menu


def always(_session: Session, _user: User) -> bool:
    return True


def _network_admin(_session: Session, user: User) -> bool:
    return user.is_network_admin


ITEMS = [
    MenuItem("accounts", N_("Accounts"), "admin_users", _network_admin, order=55),
    MenuItem("account", N_("My account"), "account", always, order=90),
]


def menu() -> list[MenuItem]:
    return ITEMS


router = APIRouter(tags=["accounts"], include_in_schema=False)


@router.get("/start", name="staff_home")
def start(request: Request, session: DbSession, user: CurrentUser) -> RedirectResponse:
    """Where sign-in leads when no page was asked for: the place this person's work waits."""
    route, params = landing_for(session=session, user=user, items=_items(request))
    return RedirectResponse(path_with(request, route, None, **params), status_code=303)
