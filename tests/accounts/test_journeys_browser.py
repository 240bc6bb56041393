"""Each role in a real Chromium: signs in from the home page and reaches its tasks by clicking only (the only
addresses typed are the home page and, for the person asking for access, the link of the e-mail we sent).

The app is served by uvicorn with the embedded workers on, so edits reach the real Meilisearch as in production.
"""

import re
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from accounts.models import Invitation, OrgRole
from core.app import create_app
from core.clock import utcnow
from core.settings import Settings
from directory.listings.models import Service
from directory.stewardship.models import ClaimRequest
from directory.stewardship.suggestions import create_suggestion
from search.embedded import MeiliServer
from search.index_spec import index_name
from tests.browser import CHROMIUM_ARGS, DESKTOP, require_chromium, serve
from tests.factories import PASSWORD, PERSON, World, build_world, make_referral, make_user
from tests.support import folder_links

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore::DeprecationWarning")]
PANTRY = "Northside Food Pantry"


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
def world(session: Session) -> World:
    return build_world(session)


@pytest.fixture
def site(
    settings: Settings, engine: Engine, meili_server: MeiliServer, meili_client: Any, world: World
) -> Iterator[str]:
    live = settings.model_copy(update={"embedded_workers": True})
    try:
        with serve(create_app(live, engine=engine, meili=meili_server)) as url:
            yield url
    finally:
        meili_client.delete_index(index_name(settings.meili_index_prefix))


def _eventually(check: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not in time"
        time.sleep(0.2)


def new_page(browser: Browser) -> Page:
    page = browser.new_context(viewport=DESKTOP, locale="en-US").new_page()
    page.set_default_timeout(15_000)
    return page


def sign_in_from_home(browser: Browser, site: str, email: str) -> Page:
    page = new_page(browser)
    page.goto(f"{site}/")
    page.get_by_role("link", name="Organizations and peer specialists: sign in").click()
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("nav.staff-menu")).to_be_visible()
    return page


def menu(page: Page, key: str) -> Any:
    return page.locator(f"nav.staff-menu a[data-menu={key}]")


def open_listing_from_search(page: Page, name: str) -> None:
    page.locator("header.site-header").get_by_role("link", name="Search").click()
    page.locator("#search-form input[name=q]").fill(name)
    page.locator("#search-form").get_by_role("button", name="Search").click()
    page.locator(".result h3").get_by_role("link", name=name).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)


def test_a_peer_sends_a_referral_and_sees_its_status(browser: Browser, site: str, world: World) -> None:
    page = sign_in_from_home(browser, site, world.peer.email)
    expect(page).to_have_url(re.compile(r"/referrals$"))
    expect(menu(page, "my-referrals")).to_have_attribute("aria-current", "page")
    expect(menu(page, "metrics")).to_have_count(0)  # peers may not open metrics, so no link

    open_listing_from_search(page, PANTRY)
    page.locator("a[data-refer]").click()
    page.fill("#person_name", PERSON)
    page.check("input[name=contact_channel][value=phone]")
    page.fill("#contact_detail", "312-555-0142")
    page.check("#consent_given")
    page.get_by_role("button", name="Send referral").click()
    expect(page.locator("#referral-status")).to_have_text("Waiting for an answer")

    menu(page, "my-referrals").click()
    row = page.locator("#referral-dashboard tr[data-status=requested]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(PERSON)


def test_an_intake_worker_accepts_a_referral_and_records_the_outcome(
    browser: Browser, site: str, world: World, session: Session, settings: Settings
) -> None:
    make_referral(session, world, settings)
    page = sign_in_from_home(browser, site, world.member.email)
    expect(page).to_have_url(re.compile(r"/referrals/inbox$"))  # a referral waits: the inbox first
    expect(menu(page, "inbox").locator("[data-waiting]")).to_have_text(re.compile("1"))

    page.locator("#referral-inbox tr[data-status=requested]").get_by_role("link").click()
    page.locator("form[data-action=accept] button").click()
    expect(page.locator("#referral-status")).to_have_text("Accepted")
    outcome = page.locator("form[data-action=complete]")
    outcome.locator("select[name=outcome_code]").select_option("service-received")
    outcome.locator("button").click()
    expect(page.locator("#referral-status")).to_have_text("Completed")

    menu(page, "inbox").click()
    expect(menu(page, "inbox").locator("[data-waiting]")).to_have_count(0)  # nothing waits any more
    expect(page.locator("#referral-inbox tr[data-status=completed]")).to_have_count(1)


def test_an_editor_claims_a_listing_edits_hours_and_sees_them_in_search(
    browser: Browser, site: str, world: World, session: Session
) -> None:
    editor = make_user(session, "coordinator@northside.example.org")
    page = sign_in_from_home(browser, site, editor.email)
    expect(page).to_have_url(re.compile(r"/workspace$"))  # no organization yet: told how to ask

    open_listing_from_search(page, PANTRY)
    page.locator("a[data-manage]").click()
    page.get_by_label("How are you connected to this organization?").fill("Volunteer coordinator, 312-555-0100")
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_role("status")).to_contain_text("A network administrator will review")

    admin = sign_in_from_home(browser, site, world.admin.email)
    expect(admin).to_have_url(re.compile(r"/workspace/moderation$"))
    menu(admin, "claims").click()
    admin.locator("article[data-claim]").get_by_role("button", name="Approve: make them admin").click()
    expect(admin.get_by_text("No requests waiting.")).to_be_visible()

    page.reload()
    menu(page, "organization").click()  # the menu now leads to the organization's listings
    page.get_by_role("link", name=PANTRY).click()
    hours = page.locator("#section-hours")
    row = hours.locator("fieldset.hours-row").last
    row.get_by_label("Sun").check()
    row.get_by_label("Opens / starts").fill("10:00")
    row.get_by_label("Closes / ends").fill("13:00")
    hours.get_by_role("button", name="Save hours").click()
    expect(page.locator("#section-hours .saved")).to_be_visible()

    def shown_on_sundays() -> bool:
        page.locator("header.site-header").get_by_role("link", name="Search").click()
        page.locator("#search-form input[name=q]").fill(PANTRY)
        page.locator("#search-form").get_by_role("button", name="Search").click()
        expect(page.locator(".result h3").first).to_be_visible()
        if page.locator("#filter-panel").get_attribute("open") is None:
            page.locator("#filter-panel > summary").click()
        page.get_by_role("group", name="Days").get_by_label("Sunday").check()
        page.get_by_role("button", name="Apply filters").click()
        return page.locator(".result h3").get_by_role("link", name=PANTRY).count() > 0

    _eventually(shown_on_sundays)


def test_a_supervisor_opens_the_team_dashboard_and_metrics(
    browser: Browser, site: str, world: World, session: Session, settings: Settings
) -> None:
    make_referral(session, world, settings)  # sent by the peer this supervisor supervises
    page = sign_in_from_home(browser, site, world.supervisor.email)
    expect(page).to_have_url(re.compile(r"/referrals$"))
    expect(page.get_by_role("heading", name="My team's referrals")).to_be_visible()
    expect(page.locator("#referral-dashboard tr[data-status=requested]")).to_have_count(1)
    menu(page, "metrics").click()
    expect(page.locator("#metrics-title")).to_contain_text("My team")
    expect(page.locator("dd[data-metric=sent]")).to_have_text("1")


def test_the_network_admin_approves_a_claim_and_a_suggestion(
    browser: Browser, site: str, world: World, session: Session, settings: Settings
) -> None:
    create_suggestion(
        session=session,
        secret="test",
        client_ip="127.0.0.9",
        service_id=world.service_a.id,
        raw={"kind": "closed", "text": "Closed for repairs this month"},
        hours_raw=None,
        now=utcnow(),
    )
    # Someone without an account asks from the organization's public page and proves the address.
    visitor = new_page(browser)
    visitor.goto(f"{site}/")
    visitor.locator("header.site-header").get_by_role("link", name="Organizations").click()
    visitor.locator("main").get_by_role("link", name=re.compile("Northside Neighbors")).first.click()
    visitor.locator("a[data-manage]").click()
    visitor.get_by_label("Your full name").fill("Ada Director")
    visitor.get_by_label("Your work e-mail address").fill("ada@gmail.example")
    visitor.get_by_label("A phone number where we can call you back (optional)").fill("312-555-0111")
    visitor.get_by_label("How are you connected to this organization?").fill("Executive director")
    visitor.get_by_role("button", name="Send request").click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Check your e-mail")
    _eventually(lambda: bool(folder_links(settings, "/access-requests/confirm/")))
    mailed = urlsplit(folder_links(settings, "/access-requests/confirm/")[-1])
    visitor.goto(f"{site}{mailed.path}")  # the link in the e-mail (which names the configured base URL)
    visitor.get_by_role("button", name="Confirm and send my request").click()
    expect(visitor.locator("[data-confirmed]")).to_be_visible()

    page = sign_in_from_home(browser, site, world.admin.email)
    expect(page).to_have_url(re.compile(r"/workspace/moderation$"))
    expect(menu(page, "claims").locator("[data-waiting]")).to_have_text(re.compile("1"))
    page.get_by_role("link", name=re.compile("closed", re.IGNORECASE)).first.click()
    page.get_by_role("button", name="Approve and apply").click()
    expect(page.get_by_role("status")).to_contain_text("Approved")
    session.expire_all()
    assert session.get(Service, world.service_a.id).status == "temporarily closed"  # type: ignore[union-attr]

    menu(page, "claims").click()
    claim = page.locator("article[data-claim]")
    expect(claim.locator("[data-evidence=email]")).to_contain_text("confirmed")
    expect(claim.locator("[data-evidence=domain]")).to_contain_text("does not match")
    claim.get_by_role("button", name="Approve: invite them as admin").click()
    expect(claim.locator(".field-error")).to_contain_text("call the person back")  # no call-back noted yet
    claim.get_by_label("Call-back note").fill("Called 312-555-0147 (listed), the front desk confirmed Ada")
    claim.get_by_role("button", name="Approve: invite them as admin").click()
    expect(page.get_by_text("No requests waiting.")).to_be_visible()

    session.expire_all()
    invitation = session.exec(select(Invitation).where(Invitation.email == "ada@gmail.example")).one()
    assert invitation.role == OrgRole.admin and invitation.organization_id == world.org_a
    claim_row = session.exec(select(ClaimRequest).where(ClaimRequest.email == "ada@gmail.example")).one()
    assert claim_row.status == "approved" and "front desk" in (claim_row.callback_note or "")
    _eventually(lambda: bool(folder_links(settings, "/invitations/")))
