"""A warm referral end to end in a real Chromium: a peer refers someone from a listing page, a member of the
receiving organization accepts it, logs a contact attempt and records the outcome, and the metrics show it."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from sqlalchemy.engine import Engine
from sqlmodel import Session

from accounts.models import User
from accounts.passwords import hash_password
from accounts.sessions import SESSION_COOKIE, start_session
from core.app import create_app
from core.settings import Settings
from search.embedded import MeiliServer
from tests.browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP, serve
from tests.factories import World, build_world

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore::DeprecationWarning")]
PASSWORD = "correct horse battery staple"
PERSON = "Quillon"


@pytest.fixture
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make browser-deps).", pytrace=False)
    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def scene(session: Session) -> World:
    world = build_world(session)
    world.peer.password_hash = hash_password(PASSWORD)
    session.add(world.peer)
    session.commit()
    return world


@pytest.fixture
def base_url(settings: Settings, engine: Engine, meili_server: MeiliServer, scene: World) -> Iterator[str]:
    app: FastAPI = create_app(settings, engine=engine, meili=meili_server)
    with serve(app) as url:
        yield url


def signed_in(browser: Browser, base_url: str, session: Session, user: User) -> BrowserContext:
    context = browser.new_context(viewport=DESKTOP, locale="en-US")
    raw, _ = start_session(session=session, user_id=user.id)
    context.add_cookies([{"name": SESSION_COOKIE, "value": raw, "url": base_url}])
    return context


def peer_signs_in(browser: Browser, base_url: str, session: Session, peer: User, next_path: str) -> Page:
    """Through the accounts /login page when it is there, else with a session cookie."""
    context = browser.new_context(viewport=DESKTOP, locale="en-US")
    page = context.new_page()
    response = page.goto(f"{base_url}/login?next={next_path}")
    if response is not None and response.status == 200 and page.locator("input[name=password]").count():
        page.fill("input[name=email]", peer.email)
        page.fill("input[name=password]", PASSWORD)
        page.locator("form:has(input[name=password]) button[type=submit]").click()
        page.wait_for_load_state()
        if any(c["name"] == SESSION_COOKIE for c in context.cookies()):
            page.goto(f"{base_url}{next_path}")
            return page
    context.close()
    page = signed_in(browser, base_url, session, peer).new_page()
    page.goto(f"{base_url}{next_path}")
    return page


def test_refer_accept_record_outcome_and_see_metrics(
    browser: Browser, base_url: str, session: Session, scene: World, tmp_path: Path
) -> None:
    # The peer refers someone from the listing page.
    peer = peer_signs_in(browser, base_url, session, scene.peer, f"/services/{scene.service_a.id}")
    expect(peer.locator("h1")).to_contain_text("Northside Food Pantry")
    peer.locator("a[data-refer]").click()
    expect(peer.locator("form#referral-form")).to_be_visible()
    expect(peer.get_by_role("note").first).to_contain_text("diagnoses")
    peer.fill("#person_name", PERSON)
    peer.check("input[name=contact_channel][value=text]")
    peer.fill("#contact_detail", "312-555-0142")
    peer.fill("#contact_time", "after 3pm")
    peer.fill("#need_text", "groceries this week")
    peer.check("input[name=consent_fields][value=need]")
    peer.check("#consent_given")
    peer.get_by_role("button", name="Send referral").click()
    expect(peer.locator("#referral-status")).to_have_text("Waiting for an answer")
    expect(peer.locator("#person-name")).to_have_text(PERSON)
    referral_url = peer.url

    # A member of the receiving organization finds it in the inbox and answers.
    member = signed_in(browser, base_url, session, scene.member).new_page()
    member.goto(f"{base_url}/referrals/inbox")
    row = member.locator("#referral-inbox tr[data-status=requested]")
    expect(row).to_have_count(1)
    expect(member.locator("#notification-badge")).to_have_attribute("data-unread", "1")
    row.get_by_role("link").click()
    expect(member.locator("#person-name")).to_have_text(PERSON)
    member.locator("form[data-action=accept] button").click()
    expect(member.locator("#referral-status")).to_have_text("Accepted")
    contact = member.locator("form[data-action=log-contact]")
    contact.locator("select[name=channel]").select_option("text")
    contact.locator("select[name=result]").select_option("reached")
    contact.locator("button").click()
    expect(member.locator("#referral-business-status")).to_have_text("Contact attempted")
    outcome = member.locator("form[data-action=complete]")
    outcome.locator("select[name=outcome_code]").select_option("first-appointment-kept")
    outcome.locator("button").click()
    expect(member.locator("#referral-status")).to_have_text("Completed")
    expect(member.locator("#referral-outcome")).to_contain_text("first appointment")
    member.screenshot(path=str(tmp_path / "referral-completed.png"), full_page=True)

    # The metrics page shows it, with a server-rendered chart.
    member.goto(f"{base_url}/referrals/metrics")
    expect(member.locator("dd[data-metric=sent]")).to_have_text("1")
    expect(member.locator("dd[data-metric=completion_rate]")).to_have_text("100%")
    expect(member.locator("svg[role=img]").first).to_be_visible()
    expect(member.locator("#metrics-outcomes")).to_contain_text("first appointment")

    # Back on the peer's side, the referral shows the outcome.
    peer.goto(referral_url)
    expect(peer.locator("#referral-status")).to_have_text("Completed")
