"""Review and upkeep in a real Chromium, each page free of accessibility violations (axe, every impact):
an admin reads a held hours change in words and approves it, adds a location to the listing, and a network
admin links a peer to an employer by typing part of its name (htmx suggestions)."""

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from accounts.models import OrgRole, PeerProfile, User
from accounts.sessions import SESSION_COOKIE, start_session
from core.app import create_app
from core.settings import Settings
from directory.edits.models import ChangeRequest
from directory.edits.service import submit_change
from directory.listings.models import Location, Service, ServiceAtLocation
from search.embedded import MeiliServer
from tests.browser import AXE, CHROMIUM_ARGS, DESKTOP, require_chromium, serve
from tests.factories import add_member, make_listing, make_user

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore::DeprecationWarning")]
DASH = "\u2013"


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=require_chromium(), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def pantry(session: Session) -> Service:
    return make_listing(session, "lakeview-recovery", org_name="Lakeview Recovery Partners", name="Lakeview Pantry")


@pytest.fixture
def base_url(settings: Settings, engine: Engine, meili_server: MeiliServer, pantry: Service) -> Iterator[str]:
    app: FastAPI = create_app(settings, engine=engine, meili=meili_server)
    with serve(app) as url:
        yield url


def _as(browser: Browser, base_url: str, session: Session, user: User) -> BrowserContext:
    # Axe is injected as an inline script, which the site's CSP rightly refuses: bypassed for these contexts.
    context = browser.new_context(viewport=DESKTOP, locale="en-US", bypass_csp=True)
    raw, _ = start_session(session=session, user_id=user.id)
    context.add_cookies([{"name": SESSION_COOKIE, "value": raw, "url": base_url}])
    return context


def axe_violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "nodes": [n["target"] for n in v["nodes"]][:5]} for v in result["violations"]]


def test_review_in_words_add_a_location_and_pick_an_employer(
    browser: Browser, base_url: str, session: Session, pantry: Service
) -> None:
    editor = make_user(session, f"new-{uuid.uuid4().hex[:6]}@example.org")
    admin = make_user(session, f"admin-{uuid.uuid4().hex[:6]}@example.org", network_admin=True)
    add_member(session, editor, pantry.organization_id, OrgRole.editor, trusted=False)
    add_member(session, admin, pantry.organization_id, OrgRole.admin)
    peer = make_user(session, f"peer-{uuid.uuid4().hex[:6]}@example.org")
    hours = {"timezone": "America/Chicago", "rows": [{"days": ["MO", "TU", "WE", "TH", "FR"], "opens_at": "11:30",
                                                     "closes_at": "13:00"}]}  # fmt: skip
    submit_change(session=session, user=editor, op="service.hours", raw=hours, service_id=pantry.id)
    change = session.exec(select(ChangeRequest).where(ChangeRequest.service_id == pantry.id)).one()
    context = _as(browser, base_url, session, admin)
    try:
        page = context.new_page()
        page.goto(f"{base_url}/workspace/moderation")
        page.locator(f"a[href*='{change.id}']").click()
        row = page.locator("tr[data-field=hours]")
        expect(row.locator("td.before")).to_have_text(f"Mon, Wed 09:00{DASH}12:00")
        expect(row.locator("td.after")).to_have_text(f"Mon{DASH}Fri 11:30{DASH}13:00")
        assert axe_violations(page) == []
        page.get_by_role("button", name="Approve and publish").click()
        expect(page).to_have_url(f"{base_url}/workspace/moderation?done=approved")

        page.goto(f"{base_url}/workspace/services/{pantry.id}")
        new = page.locator("#location-new")
        new.get_by_label("Street address").fill("1700 Maple Ave")
        new.get_by_label("City").fill("Evanston")
        new.get_by_label("State").fill("IL")
        new.get_by_label("ZIP code").fill("60201")
        new.get_by_role("button", name="Add location").click()
        expect(page.locator("#location-new .saved")).to_be_visible()
        assert axe_violations(page) == []
        session.expire_all()
        places = session.exec(
            select(Location.timezone)
            .join(ServiceAtLocation, ServiceAtLocation.location_id == Location.id)  # type: ignore[arg-type]
            .where(ServiceAtLocation.service_id == pantry.id)
        ).all()
        assert len(places) == 2 and set(places) == {"America/Chicago"}

        page.goto(f"{base_url}/admin/users/{peer.id}")
        page.get_by_label("Find an organization by name").press_sequentially("lakeview")
        choice = page.get_by_label("Lakeview Recovery Partners")
        expect(choice).to_be_visible()  # swapped in by htmx while typing
        assert "employer_q" not in page.url
        page.get_by_label("This person is a peer support specialist").check()
        choice.check()
        assert axe_violations(page) == []
        page.get_by_role("button", name="Save peer profile").click()
        expect(page.get_by_label("Lakeview Recovery Partners")).to_be_checked()
        session.expire_all()
        profile = session.get(PeerProfile, peer.id)
        assert profile is not None and profile.employer_organization_id == pantry.organization_id
    finally:
        context.close()
