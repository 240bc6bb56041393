"""An organization editor in a real Chromium: signs in, updates hours and capacity, and the public search
shows the change within seconds (served by uvicorn with the embedded workers on, so the outbox drains
into the real Meilisearch)."""

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from accounts.models import OrgRole
from core.app import create_app
from core.settings import Settings
from directory.listings.models import Schedule, Service
from search.embedded import MeiliServer
from search.index_spec import index_name
from tests.browser import CHROMIUM_ARGS, require_chromium, serve
from tests.factories import PASSWORD, add_member, make_listing, make_user

pytestmark = pytest.mark.browser
EDITOR = "editor@riverside.example.org"
NAME = "Riverside Community Food Pantry"


@pytest.fixture(scope="module")
def playwright_driver() -> Iterator[Playwright]:
    require_chromium()
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    chromium = playwright_driver.chromium.launch(executable_path=require_chromium(), args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture
def pantry(session: Session) -> Service:
    service = make_listing(session, "riverside-community", name=NAME, assured_date=date.today())
    add_member(session, make_user(session, EDITOR), service.organization_id, OrgRole.editor, trusted=True)
    return service


@pytest.fixture
def site(
    settings: Settings, engine: Engine, meili_server: MeiliServer, meili_client: Any, pantry: Service
) -> Iterator[str]:
    live = settings.model_copy(update={"embedded_workers": True})
    app = create_app(live, engine=engine, meili=meili_server)
    try:
        with serve(app) as url:
            yield url
    finally:
        meili_client.delete_index(index_name(settings.meili_index_prefix))


def _eventually(check: Callable[[], bool], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the change did not reach search in time"
        time.sleep(0.2)


def _hit(base: str, service_id: uuid.UUID, **params: str) -> dict[str, Any] | None:
    response = httpx.get(f"{base}/api/v1/search", params={"q": NAME, **params}, timeout=5)
    if response.status_code != 200:
        return None
    return next((h for h in response.json()["hits"] if h["service_id"] == str(service_id)), None)


def _sign_in(page: Page, base: str, pantry: Service) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("E-mail address").fill(EDITOR)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # An editor of one organization lands on its listings (accounts.navigation).
    expect(page).to_have_url(f"{base}/workspace/organizations/{pantry.organization_id}")


def test_an_editor_updates_hours_and_capacity_and_search_shows_it(browser: Browser, site: str, pantry: Service) -> None:
    _eventually(lambda: _hit(site, pantry.id) is not None)  # the worker built the index at start-up
    assert _hit(site, pantry.id, day="sun") is None  # open Monday and Wednesday only
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        _sign_in(page, site, pantry)
        page.get_by_role("link", name=NAME).click()
        expect(page.get_by_role("heading", name=NAME, level=1)).to_be_visible()

        hours = page.locator("#section-hours")
        row = hours.locator("fieldset.hours-row").nth(2)  # the first blank row
        row.get_by_label("Sun").check()
        row.get_by_label("Opens / starts").fill("10:00")
        row.get_by_label("Closes / ends").fill("13:00")
        hours.get_by_role("button", name="Save hours").click()
        expect(page.locator("#section-hours .saved")).to_be_visible()  # swapped in by htmx, no reload

        capacity = page.locator("#section-capacity")
        capacity.get_by_label("Taking new people?").select_option("full")
        capacity.get_by_label("Note").fill("Back to accepting on Monday")
        capacity.get_by_role("button", name="Save capacity").click()
        expect(page.locator("#section-capacity .saved")).to_be_visible()
        assert "done=" not in page.url  # both saves were htmx swaps, not full-page posts

        _eventually(lambda: (_hit(site, pantry.id) or {}).get("capacity") == "full")
        _eventually(lambda: _hit(site, pantry.id, day="sun") is not None)
        hit = _hit(site, pantry.id)
        assert hit is not None and hit["capacity_note"] == "Back to accepting on Monday"

        page.goto(f"{site}/search?q={NAME.replace(' ', '+')}")
        expect(page.get_by_text(NAME).first).to_be_visible()
        expect(page.locator(".badge.full").first).to_be_visible()
        assert errors == []
    finally:
        context.close()


def test_invalid_hours_show_messages_in_the_browser_and_change_nothing(
    browser: Browser, site: str, pantry: Service, session: Session
) -> None:
    context = browser.new_context()
    page = context.new_page()
    try:
        _sign_in(page, site, pantry)
        page.goto(f"{site}/workspace/services/{pantry.id}")
        hours = page.locator("#section-hours")
        hours.get_by_label("Time zone").fill("Atlantis/Lost")
        hours.get_by_role("button", name="Save hours").click()
        expect(hours.locator(".field-error[data-field=timezone]")).to_be_visible()
        expect(page.locator("#section-hours")).to_have_count(1)  # swapped in place, not nested
        session.expire_all()
        rows = session.exec(select(Schedule).where(Schedule.service_id == pantry.id)).all()
        assert [(r.byday, r.timezone) for r in rows] == [("MO,WE", "America/Chicago")]
    finally:
        context.close()
