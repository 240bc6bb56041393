"""The seeker's journey (issue 14, problems 1-4) in a real Chromium at phone (375x812) and desktop widths:
a closed door never says when it opens, online meetings stay one tap away once a place is entered, local
results come first on a phone, and an empty result always offers a way on."""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import meilisearch
import pytest
from fastapi import FastAPI
from icalendar import Calendar
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, ViewportSize, sync_playwright
from sqlmodel import Session

from directory.listings.models import Service
from tests.browser import CHROMIUM_ARGS, DESKTOP, require_chromium, serve
from tests.factories import insert_listing, place, weekly
from tests.search.test_browser import axe_violations
from tests.support import Directory, build_directory, push

pytestmark = pytest.mark.browser
PHONE_812: ViewportSize = {"width": 375, "height": 812}
MONDAY_0700 = "2026-06-01T07:00:00-05:00"  # Chicago: the pantry opens at 9:00
MONDAY_1140 = "2026-06-01T11:40:00-05:00"
ONLINE_MEETINGS = 24  # besides the directory's Daily Online Reflection


@dataclass
class Seeker:
    directory: Directory
    kitchen: Service  # temporarily closed, reopens in ten days, the closest food place to 60601
    step_group: Service  # an in-person AA meeting near 60614 whose location is temporarily closed (TC)
    warmline: Service  # an online-only service
    cody: Service  # the only listing within 250 km of rural ZIP 82190
    reopens: date


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
def seeker(session: Session, taxonomy: None, search_index: str, meili_client: meilisearch.Client) -> Seeker:
    data = build_directory(session)
    kitchen = insert_listing(
        session,
        name="Harbor Soup Kitchen",
        organization="Harbor Neighbors",
        categories=["free-meals"],
        status="temporarily closed",
        places=[place(41.8858, -87.6181, street="1 E Wacker Dr", name="Harbor Hall")],
        schedules=[weekly("SU,MO,TU,WE,TH,FR,SA", "06:30", "14:00")],
    )
    reopens = date.today() + timedelta(days=10)
    kitchen.reopening_date = reopens
    session.add(kitchen)
    session.commit()
    step_group = insert_listing(
        session,
        name="Lincoln Park Step Group",
        kind="meeting",
        organization="Lincoln Park AA",
        categories=["aa"],
        fellowship="aa",
        types=["O", "TC"],
        places=[place(41.9250, -87.6500, street="2 W Fullerton Ave", postal_code="60614", name="Church Hall")],
        schedules=[weekly("SU,MO,TU,WE,TH,FR,SA", "12:00", "13:00")],
    )
    online = [
        insert_listing(
            session,
            name=f"Online Serenity {n:02d}",
            kind="meeting",
            organization="Online Intergroup",
            categories=["aa"],
            fellowship="aa",
            types=["O"],
            attendance="online",
            places=[],
            conference_url=f"https://meet.example.org/serenity-{n}",
            timezone="America/New_York",
            schedules=[weekly("SU,MO,TU,WE,TH,FR,SA", f"{6 + n // 2:02d}:{30 * (n % 2):02d}")],
        )
        for n in range(ONLINE_MEETINGS)
    ]
    # NA meetings every hour on the hour, so "starting within 60 minutes" always finds them, whatever the time.
    hourly = [weekly("SU,MO,TU,WE,TH,FR,SA", f"{h:02d}:00", f"{h:02d}:50") for h in range(24)]
    night_owls = [
        insert_listing(
            session,
            name=f"Night Owls {where}",
            kind="meeting",
            organization="Night Owls NA",
            categories=["na"],
            fellowship="na",
            attendance="online" if where == "Online" else "in_person",
            places=[] if where == "Online" else [place(41.9300, -87.6400, postal_code="60614", name="Owl Hall")],
            conference_url="https://meet.example.org/owls" if where == "Online" else None,
            schedules=hourly,
        )
        for where in ("Online", "Lincoln Park")
    ]
    warmline = insert_listing(
        session, name="Recovery Warmline", organization="Peer Line", categories=["crisis-services"], places=[]
    )
    cody = insert_listing(
        session,
        name="Cody Food Bank",
        organization="Park County Neighbors",
        categories=["food-bank"],
        timezone="America/Denver",
        places=[
            place(
                44.5263,
                -109.0565,
                street="1 Sheridan Ave",
                city="Cody",
                state="WY",
                postal_code="82414",
                timezone="America/Denver",
            )
        ],
        schedules=[weekly("MO,TU,WE,TH,FR", "09:00", "17:00")],
    )
    push(meili_client, search_index, session, [*data.all, kitchen, step_group, *online, *night_owls, warmline, cody])
    return Seeker(data, kitchen, step_group, warmline, cody, reopens)


@pytest.fixture
def base_url(web_app: FastAPI, seeker: Seeker) -> Iterator[str]:
    with serve(web_app) as url:
        yield url


@pytest.fixture(params=["phone", "desktop"])
def context(request: pytest.FixtureRequest, browser: Browser) -> Iterator[BrowserContext]:
    viewport = PHONE_812 if request.param == "phone" else DESKTOP
    made = browser.new_context(viewport=viewport, locale="en-US", timezone_id="America/Los_Angeles", bypass_csp=True)
    yield made
    made.close()


def cards(page: Page, within: str = "#results ol.result-list") -> list[str]:
    return [" ".join(t.split()) for t in page.locator(f"{within} > li.result").all_inner_texts()]


def names(page: Page, within: str = "#results ol.result-list") -> list[str]:
    return page.locator(f"{within} > li h3").all_inner_texts()


def no_axe_violations(page: Page) -> None:
    found = axe_violations(page)
    assert found == [], json.dumps(found, indent=1)


# --- 1. status is never contradicted -------------------------------------------------------------------


def test_a_temporarily_closed_listing_shows_its_reopening_day_never_a_next_time(
    base_url: str, seeker: Seeker, context: BrowserContext
) -> None:
    page = context.new_page()
    page.goto(f"{base_url}/search?q=food&near=60601&at={MONDAY_0700.replace('+', '%2B')}")
    found = names(page)
    assert "Harbor Soup Kitchen" in found and "Northside Food Pantry" in found
    assert found.index("Northside Food Pantry") < found.index("Harbor Soup Kitchen"), "closed ranks below open"
    kitchen = next(c for c in cards(page) if c.startswith("Harbor Soup Kitchen"))
    assert "Temporarily closed" in kitchen and "Reopens" in kitchen
    assert "Opens" not in kitchen.replace("Reopens", "") and "Today" not in kitchen and "Tomorrow" not in kitchen
    no_axe_violations(page)
    # Open now at 11:40, when the kitchen's usual hours say it would be open: it is left out.
    page.goto(f"{base_url}/search?q=food&near=60601&open_now=1&at={MONDAY_1140}")
    assert "Harbor Soup Kitchen" not in names(page) and "Northside Food Pantry" in names(page)
    # The listing page: the reopening day, no "Next:".
    page.goto(f"{base_url}/services/{seeker.kitchen.id}")
    article = page.locator("article.listing").inner_text()
    assert "Temporarily closed" in article and "Reopens" in article and "Next:" not in article
    no_axe_violations(page)
    # The calendar file starts on the reopening day and says why.
    with page.expect_download() as download:
        page.get_by_role("link", name="Add to my calendar (.ics)").click()
    path = download.value.path()
    assert path is not None
    events = Calendar.from_ical(path.read_bytes()).walk("VEVENT")
    assert events and all(e.decoded("dtstart").date() >= seeker.reopens for e in events)
    assert all("Temporarily closed until" in str(e.get("description")) for e in events)


def test_a_tc_meeting_is_closed_and_never_starting_soon(base_url: str, seeker: Seeker, context: BrowserContext) -> None:
    page = context.new_page()
    page.goto(f"{base_url}/search?near=60614&kind=meeting&at={MONDAY_1140}")
    step = next(c for c in cards(page) if c.startswith("Lincoln Park Step Group"))
    assert "Temporarily closed" in step and "Starts in" not in step and "Today" not in step
    page.goto(f"{base_url}/search?near=60614&kind=meeting&starting_within=60&sort=soonest&at={MONDAY_1140}")
    assert "Lincoln Park Step Group" not in names(page) and "Loop Noon Group" in names(page)
    page.goto(f"{base_url}/services/{seeker.step_group.id}")
    assert "Next:" not in page.locator("article.listing").inner_text()


# --- 2. online alongside near ----------------------------------------------------------------------------


def test_online_meetings_stay_a_tap_away_with_a_place_and_page_in_full(
    base_url: str, seeker: Seeker, context: BrowserContext
) -> None:
    page = context.new_page()
    page.goto(f"{base_url}/search?q=aa&near=60614&at={MONDAY_1140}")
    total_online = ONLINE_MEETINGS + 1
    tab = page.locator("nav.where-tabs").get_by_role("link", name=f"Online ({total_online})")
    assert tab.is_visible()
    if page.locator("#filter-panel:not([open])").count():
        page.locator("#filter-panel summary").click()
    online_choice = page.get_by_label(f"Online ({total_online})", exact=True)
    assert online_choice.count() == 1, "the attendance filter offers online with a place"
    online_choice.check()
    page.wait_for_url(lambda url: parse_qs(urlsplit(url).query).get("attendance") == ["online"])
    page.locator("#results-title", has_text=f"{total_online} results online").wait_for()
    assert "does not apply" in page.locator("#results").inner_text()
    shown = cards(page)
    assert len(shown) == 20 and all("Online" in c for c in shown)
    assert "PST" in shown[0] or "PDT" in shown[0], "online times also in the viewer's own zone (Los Angeles)"
    no_axe_violations(page)
    page.locator("a[rel=next]").click()
    page.wait_for_url(lambda url: parse_qs(urlsplit(url).query).get("page") == ["2"])
    page.locator("#results-title", has_text=f"{total_online} results online").wait_for()
    page.wait_for_function("document.querySelectorAll('#results ol.result-list > li.result').length === 5")
    # And back to the local results in one tap.
    page.locator("nav.where-tabs").get_by_role("link", name="In person").click()
    page.locator("#results-title", has_text="near 60614").wait_for()


def test_online_results_with_a_place_work_without_javascript(base_url: str, seeker: Seeker, browser: Browser) -> None:
    context = browser.new_context(viewport=PHONE_812, java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{base_url}/search?q=aa&near=60614&at={MONDAY_1140}")
    page.locator("nav.where-tabs").get_by_role("link", name="Online (25)").click()
    page.wait_for_url("**attendance=online**")
    assert parse_qs(urlsplit(page.url).query)["attendance"] == ["online"]
    assert page.locator("#results-title").inner_text().startswith("25 results online")
    context.close()


# --- 3. on a phone, local results come first ------------------------------------------------------------


def test_on_a_phone_local_results_come_first_and_online_is_one_tap_away(
    base_url: str, seeker: Seeker, browser: Browser
) -> None:
    context = browser.new_context(viewport=PHONE_812, locale="en-US")
    page = context.new_page()
    page.goto(f"{base_url}/search?q=aa&near=60614&at={MONDAY_1140}")
    first_local = page.locator("#results ol.result-list > li.result").first.bounding_box()
    tab = page.locator("nav.where-tabs").get_by_role("link", name="Online (25)").bounding_box()
    assert first_local is not None and tab is not None
    assert tab["y"] + tab["height"] <= 812, "the online count is on the first screen"
    assert first_local["y"] < 812, "the first local result starts on the first screen"
    soon = page.locator("section.online-soon")
    if soon.count():
        box = soon.bounding_box()
        assert box is not None and box["y"] > first_local["y"], "online meetings come after the local ones"
    # Keyboard only: Tab to the online count and press Enter.
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Online (25)":
            break
    else:
        pytest.fail("the online count is not reachable by keyboard")
    page.keyboard.press("Enter")
    page.locator("#results-title", has_text="25 results online").wait_for()
    # "Services" alone: no online meetings box, the online services are a count.
    page.goto(f"{base_url}/search?near=60614&kind=service&at={MONDAY_1140}")
    assert page.locator("section.online-soon").count() == 0
    assert page.locator("nav.where-tabs").get_by_role("link", name="Online (1)").is_visible()
    no_axe_violations_bypassing_csp(browser, f"{base_url}/search?q=aa&near=60614&at={MONDAY_1140}")
    context.close()


def no_axe_violations_bypassing_csp(browser: Browser, url: str) -> None:
    context = browser.new_context(viewport=PHONE_812, bypass_csp=True)
    page = context.new_page()
    page.goto(url)
    no_axe_violations(page)
    context.close()


# --- 4. no dead ends -------------------------------------------------------------------------------------


def test_an_empty_result_offers_a_wider_area_online_and_later_today_and_211(
    base_url: str, seeker: Seeker, context: BrowserContext
) -> None:
    page = context.new_page()
    page.goto(f"{base_url}/search?near=82190&at={MONDAY_1140}")
    empty = page.locator("#results .empty")
    assert page.locator("#results-title").inner_text().startswith("0 results")
    wider = empty.get_by_role("link", name="Search within 155 miles: 1 found")
    assert empty.get_by_role("link", name="Online instead: 27 found").is_visible()
    assert empty.locator('a[href="tel:211"]').is_visible() and empty.locator('a[href="tel:988"]').is_visible()
    assert page.locator('footer a[href="tel:211"]').count() == 1
    no_axe_violations(page)
    wider.click()
    page.locator("#results-title", has_text="1 result").wait_for()
    assert names(page) == ["Cody Food Bank"]
    # Food open now at 7:00: nothing; the pantry opens later today.
    page.goto(f"{base_url}/search?category=food&open_now=1&near=60614&at={MONDAY_0700.replace('+', '%2B')}")
    assert page.locator("#results-title").inner_text().startswith("0 results")
    page.locator("#results .empty").get_by_role("link", name="Open later today: 1 found").click()
    page.locator("#results-title", has_text="1 result").wait_for()
    assert names(page) == ["Northside Food Pantry"]
    assert "open_now" not in parse_qs(urlsplit(page.url).query)


def test_quick_choices_that_need_a_place_ask_for_one(base_url: str, seeker: Seeker, context: BrowserContext) -> None:
    page = context.new_page()
    page.goto(f"{base_url}/")
    page.get_by_role("link", name="Meetings starting soon").click()
    page.wait_for_url("**/search?**")
    notice = page.locator(".where-ask")
    assert notice.is_visible() and "need a place" in notice.inner_text()
    assert "Night Owls Online" in names(page)
    assert "Night Owls Lincoln Park" not in names(page), "no in-person meeting anywhere, only online ones"
    assert all("Online" in c for c in cards(page))
    no_axe_violations(page)
    notice.get_by_role("link", name="Enter your ZIP code or city").click()
    page.get_by_label("Near", exact=True).fill("60614")
    page.get_by_label("Near", exact=True).press("Enter")
    page.wait_for_url(lambda url: parse_qs(urlsplit(url).query).get("near") == ["60614"])
    query = parse_qs(urlsplit(page.url).query)
    assert query["starting_within"] == ["60"] and query["kind"] == ["meeting"]
    page.locator("#results-title", has_text="near 60614").wait_for()
    assert page.locator(".where-ask").count() == 0
    assert "Night Owls Lincoln Park" in names(page)
    # A place already in the home page's URL goes into every quick choice.
    page.goto(f"{base_url}/?near=60614")
    link = page.get_by_role("link", name="Meetings starting soon").get_attribute("href") or ""
    assert parse_qs(urlsplit(link).query)["near"] == ["60614"]
    assert page.get_by_label("Near", exact=True).input_value() == "60614"
