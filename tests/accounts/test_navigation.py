"""The staff menu per role: each person lands where their work is, sees only links they may open (a crawl of
every link their menu and pages show meets no 403), and the badges count what waits."""

from collections import deque
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from core.app import create_app
from core.settings import Settings
from tests.factories import PASSWORD, World, add_member, build_world, make_referral, make_user
from tests.html import elements, hidden
from tests.referrals.web import As, sign_in

ORG_ADMIN = "orgadmin@example.org"


@pytest.fixture
def world(session: Session) -> World:
    return build_world(session)


@pytest.fixture
def everyone(app: Any, session: Session, world: World) -> dict[str, As]:
    org_admin = make_user(session, ORG_ADMIN)
    add_member(session, org_admin, world.org_a, "admin", trusted=True)
    people = {name: sign_in(app, session, getattr(world, name)) for name in ("peer", "member", "supervisor", "admin")}
    people["org_admin"] = sign_in(app, session, org_admin)
    people["outsider"] = sign_in(app, session, world.outsider)
    return people


@pytest.fixture
def app(settings: Settings, engine: Any) -> Any:
    return create_app(settings, engine=engine)


def menu(response: Any) -> dict[str, str]:
    """The staff menu's links: data-menu key -> href."""
    return {a.attrs["data-menu"]: a.attrs["href"] for a in elements(response, "a", data_menu=True)}


def landing(person: As) -> str:
    response = person.browser.get("/start", follow_redirects=False)
    assert response.status_code == 303
    return response.headers["location"]


EXPECTED = {
    "peer": ["my-referrals", "notifications", "account"],
    "member": ["organization", "inbox", "metrics", "notifications", "account"],
    "org_admin": ["organization", "inbox", "moderation", "metrics", "notifications", "account"],
    "supervisor": ["team", "metrics", "notifications", "account"],
    "admin": ["workspace", "moderation", "claims", "freshness", "feeds", "accounts", "metrics", "account"],
    "outsider": ["workspace", "account"],
}


@pytest.mark.parametrize("role", list(EXPECTED))
def test_each_role_sees_its_own_menu(everyone: dict[str, As], role: str) -> None:
    page = everyone[role].browser.get("/account")
    assert list(menu(page)) == EXPECTED[role]


def test_each_role_lands_where_its_work_is(everyone: dict[str, As], world: World) -> None:
    assert landing(everyone["peer"]) == "/referrals"
    assert landing(everyone["supervisor"]) == "/referrals"
    assert landing(everyone["member"]) == f"/workspace/organizations/{world.org_a}"
    assert landing(everyone["admin"]) == "/workspace/moderation"
    assert landing(everyone["outsider"]) == "/workspace"


def test_an_unanswered_referral_sends_the_intake_worker_to_the_inbox_with_a_badge(
    everyone: dict[str, As], world: World, session: Session, settings: Settings
) -> None:
    make_referral(session, world, settings)
    member = everyone["member"]
    assert landing(member) == "/referrals/inbox"
    inbox = elements(member.browser.get("/account"), "a", data_menu="inbox")[0]
    assert " ".join(inbox.text.split()) == "Referral inbox waiting: 1"
    assert landing(everyone["org_admin"]) == "/referrals/inbox"  # the same organization's inbox


def test_sign_in_without_a_next_page_goes_to_the_landing(app: Any, world: World) -> None:
    client = TestClient(app, base_url="http://testserver")
    page = client.get("/login")  # the form's own fields, as a browser sends them
    fields = {name: hidden(page, name) for name in ("form_token", "next")}
    form = {"email": world.peer.email, "password": PASSWORD, **fields}
    response = client.post("/login", data=form, follow_redirects=True)
    assert response.url.path == "/referrals"
    assert "my-referrals" in menu(response)


def test_a_supervisor_opens_the_team_metrics(
    everyone: dict[str, As], world: World, session: Session, settings: Settings
) -> None:
    make_referral(session, world, settings)  # sent by world.peer, whom the supervisor supervises
    other = make_referral(session, world, settings)  # and one by a peer of another team
    other.creator_id = world.peer_b.id
    session.add(other)
    session.commit()
    answer = everyone["supervisor"].api.get("/api/v1/referrals/metrics")
    assert answer.status_code == 200 and answer.json()["total"]["sent"] == "1"
    page = everyone["supervisor"].browser.get("/referrals/metrics")
    assert page.status_code == 200
    assert elements(page, "dd", data_metric="sent")[0].text.strip() == "1"
    csv = everyone["supervisor"].browser.get("/referrals/metrics.csv")
    assert csv.status_code == 200 and csv.text.count("\n") >= 2


def test_a_peer_without_a_team_or_organization_still_may_not_open_metrics(everyone: dict[str, As]) -> None:
    assert everyone["peer"].browser.get("/referrals/metrics").status_code == 403


def _same_site_links(response: Any) -> list[str]:
    found = []
    for a in elements(response, "a", href=True):
        href = a.attrs["href"]
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not href.startswith("/") or "download" in a.attrs:
            continue
        found.append(href.split("#")[0])
    return found


@pytest.mark.parametrize("role", list(EXPECTED))
def test_no_link_a_role_is_shown_answers_403(
    everyone: dict[str, As], world: World, session: Session, settings: Settings, role: str
) -> None:
    """Breadth-first from the landing page over every same-site link of the role's own pages (those under
    the staff menu; public pages are opened but not expanded: they are the same for everyone)."""
    make_referral(session, world, settings)
    person = everyone[role]
    start = landing(person)
    queue, seen, refused = deque([start]), {start}, []
    while queue and len(seen) < 60:
        url = queue.popleft()
        response = person.browser.get(url, follow_redirects=True)
        if response.status_code == 403:
            refused.append(url)
        if response.status_code != 200 or not elements(response, "nav", class_="staff-menu"):
            continue
        for link in _same_site_links(response):
            if link not in seen and not link.startswith(("/static/", "/api/")):
                seen.add(link)
                queue.append(link)
    shown = set(menu(person.browser.get(start)).values())
    assert shown and shown <= seen  # every menu link was opened
    assert refused == []


@pytest.mark.parametrize("role", list(EXPECTED))
def test_a_listing_offers_refer_someone_only_to_whom_it_opens_for(
    everyone: dict[str, As], world: World, role: str, app: Any
) -> None:
    """The public listing page's "Refer someone" link: peers see it and it opens; signed-in people who may not
    send referrals do not see a link that would answer 403; anonymous visitors see it (it asks them to sign in)."""
    person = everyone[role]
    page = person.browser.get(f"/services/{world.service_a.id}")
    links = elements(page, "a", data_refer=True)
    if role == "peer":
        assert len(links) == 1
        assert person.browser.get(links[0].attrs["href"]).status_code == 200
    else:
        assert links == []
    anonymous = TestClient(app).get(f"/services/{world.service_a.id}")
    assert len(elements(anonymous, "a", data_refer=True)) == 1
