"""An intake worker in Chicago schedules an appointment in a real Chromium: typed as 17:30 in the
datetime field, it reads back as 17:30 CST for them and for the referring peer, and the page has no
accessibility violations (axe, every impact level)."""

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from sqlalchemy.engine import Engine
from sqlmodel import Session

from accounts.models import User
from accounts.sessions import SESSION_COOKIE, start_session
from core.app import create_app
from core.settings import Settings
from referrals.codes import Status
from search.embedded import MeiliServer
from tests.browser import AXE, CHROMIUM_ARGS, DESKTOP, require_chromium, serve
from tests.factories import World, build_world, make_referral

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore::DeprecationWarning")]


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=require_chromium(), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def scene(session: Session) -> World:
    return build_world(session)


@pytest.fixture
def base_url(settings: Settings, engine: Engine, meili_server: MeiliServer, scene: World) -> Iterator[str]:
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


def test_an_appointment_typed_in_chicago_reads_back_as_chicago_time(
    browser: Browser, base_url: str, session: Session, scene: World, settings: Settings
) -> None:
    referral = make_referral(session, scene, settings, Status.accepted)
    member_context = _as(browser, base_url, session, scene.member)
    peer_context = _as(browser, base_url, session, scene.peer)
    try:
        member = member_context.new_page()
        member.goto(f"{base_url}/referrals/inbox")
        member.locator(f"tr[data-referral-id='{referral.id}'] a").click()
        schedule = member.locator("form[data-action=schedule]")
        expect(schedule.locator("label[for=schedule-when]")).to_contain_text("America/Chicago")
        schedule.locator("input[name=appointment_at]").fill("2031-01-14T17:30")
        schedule.get_by_role("button").click()
        expect(member.locator("#referral-appointment")).to_have_text("2031-01-14 17:30 CST")
        assert axe_violations(member) == []

        peer = peer_context.new_page()
        peer.goto(f"{base_url}/referrals")
        row = peer.locator(f"tr[data-referral-id='{referral.id}']")
        expect(row).to_contain_text("2031-01-14 17:30 CST")
        row.get_by_role("link").click()
        expect(peer.locator("#referral-appointment")).to_have_text("2031-01-14 17:30 CST")
        assert axe_violations(peer) == []
    finally:
        member_context.close()
        peer_context.close()
