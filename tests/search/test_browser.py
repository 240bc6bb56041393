"""The public UI in a real Chromium: with and without JavaScript, history, location, calendar, language,
accessibility (axe-core), privacy (no cookies, loopback only) and screenshots at phone and desktop widths."""

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI
from icalendar import Calendar
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Geolocation,
    Page,
    Playwright,
    Request,
    ViewportSize,
    sync_playwright,
)

from tests.browser import AXE, CHROMIUM_ARGS, DESKTOP, PHONE, SCREENSHOTS, require_chromium, serve
from tests.support import Directory

pytestmark = pytest.mark.browser
GEO_LOOP: Geolocation = {"latitude": 41.878113, "longitude": -87.629799}


# Module scope: Playwright's sync API allows one driver at a time, and other browser test modules start their own.
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
def base_url(web_app: FastAPI, directory: Directory) -> Iterator[str]:
    with serve(web_app) as url:
        yield url


class Watched:
    """A browser context that records every request, every Set-Cookie and every console error."""

    def __init__(self, context: BrowserContext) -> None:
        self.context = context
        self.requests: list[str] = []
        self.cookies_set: list[str] = []
        self.console_errors: list[str] = []
        context.on("request", self._request)
        context.on(
            "response", lambda r: self.cookies_set.extend(v for k, v in r.headers.items() if k.lower() == "set-cookie")
        )

    def _request(self, request: Request) -> None:
        self.requests.append(request.url)

    def new_page(self) -> Page:
        page = self.context.new_page()
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.console_errors.append(str(exc)))
        return page

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)


@pytest.fixture
def watched(browser: Browser) -> Iterator[Watched]:
    context = browser.new_context(viewport=DESKTOP, locale="en-US")
    yield Watched(context)
    context.close()


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def result_names(page: Page) -> list[str]:
    return page.locator("#results ol.result-list > li h3").all_inner_texts()


def search_near_zip(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/")
    page.get_by_label("Near", exact=True).fill("60601")
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url("**/search?**")


def test_search_by_zip_and_filter_with_javascript(base_url: str, watched: Watched) -> None:
    page = watched.new_page()
    search_near_zip(page, base_url)
    assert query_of(page.url)["near"] == ["60601"]
    assert "q" not in query_of(page.url), "app.js leaves empty fields out of the URL"
    assert "Loop Noon Group" in result_names(page)
    page.evaluate("window.notReloaded = true")
    page.locator("#filter-panel summary").click()
    page.get_by_label("Spanish (2)").check()
    page.wait_for_url(lambda url: query_of(url).get("language") == ["es"])
    page.locator("#results:not([aria-busy])").wait_for()
    page.locator("#results-title", has_text="2 results").wait_for()
    assert set(result_names(page)) == {"Grupo Esperanza", "Northside Food Pantry"}
    assert page.evaluate("window.notReloaded") is True, "htmx swapped the results in place"
    assert page.evaluate("document.activeElement.id") == "f-language-es", "focus stays on the checkbox"
    assert page.get_by_label("Spanish (2)").is_checked()
    page.get_by_label("What do you need?").fill("pantry")  # active search, debounced
    page.wait_for_url(lambda url: query_of(url).get("q") == ["pantry"])
    page.locator("#results-title", has_text="1 result").wait_for()
    assert result_names(page) == ["Northside Food Pantry"]
    assert watched.console_errors == []


def test_search_by_zip_and_filter_without_javascript(base_url: str, browser: Browser) -> None:
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    search_near_zip(page, base_url)
    assert "Loop Noon Group" in result_names(page)
    assert page.get_by_role("button", name="Use my location").is_hidden()
    page.locator("#filter-panel summary").click()
    page.get_by_label("Spanish (2)").check()
    page.get_by_label("Services").check()
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(lambda url: query_of(url).get("language") == ["es"])
    assert query_of(page.url)["kind"] == ["service"] and query_of(page.url)["near"] == ["60601"]
    assert result_names(page) == ["Northside Food Pantry"]
    page.get_by_role("link", name="Remove filter: Spanish").click()
    assert "language" not in query_of(page.url)
    assert "Recovery Rides" in result_names(page)
    context.close()


def test_back_button_returns_to_the_unfiltered_results(base_url: str, watched: Watched) -> None:
    page = watched.new_page()
    page.goto(f"{base_url}/search?near=60601")
    before = result_names(page)
    page.locator("#filter-panel summary").click()
    page.get_by_label("Spanish (2)").check()
    page.wait_for_url(lambda url: "language=es" in url)
    page.locator("#results-title", has_text="2 results").wait_for()
    page.go_back()
    page.wait_for_url(lambda url: "language" not in url)
    page.locator("#results-title", has_text=f"{len(before)} results").wait_for()
    assert result_names(page) == before
    assert not page.get_by_label("Spanish (2)").is_checked()
    page.go_forward()
    page.locator("#results-title", has_text="2 results").wait_for()


def test_use_my_location_sends_rounded_coordinates_only_when_asked(base_url: str, browser: Browser) -> None:
    context = browser.new_context(geolocation=GEO_LOOP, permissions=["geolocation"], viewport=PHONE)
    page = context.new_page()
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url))
    page.goto(f"{base_url}/")
    assert not any("lat=" in url for url in asked)
    page.get_by_role("button", name="Use my location").click()
    page.wait_for_url("**/search?**")
    query = query_of(page.url)
    assert query["lat"] == ["41.88"] and query["lng"] == ["-87.63"] and "near" not in query
    assert page.locator("#results-title").inner_text().endswith("near your location")
    assert "Loop Noon Group" in result_names(page)
    assert context.cookies() == []
    context.close()


def test_listing_page_and_calendar_download(base_url: str, directory: Directory, watched: Watched) -> None:
    page = watched.new_page()
    page.goto(f"{base_url}/search?near=60601")
    page.get_by_role("link", name="Loop Noon Group").click()
    page.wait_for_url(f"**/services/{directory.loop_aa.id}")
    assert page.get_by_role("heading", level=1).inner_text() == "Loop Noon Group"
    directions = page.get_by_role("link", name="Directions on OpenStreetMap").get_attribute("href") or ""
    # A route to the place (the visitor's device supplies the start), not a pin.
    assert directions == "https://www.openstreetmap.org/directions?route=%3B41.878100%2C-87.629800"
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Add to my calendar (.ics)").click()
    calendar = Calendar.from_ical(download_info.value.path().read_bytes())
    rules = sorted(str(e["RRULE"].to_ical(), "ascii") for e in calendar.walk("VEVENT"))  # type: ignore[arg-type]
    assert rules == ["FREQ=MONTHLY;BYDAY=1SA", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"]
    assert {e["DTSTART"].params["TZID"] for e in calendar.walk("VEVENT")} == {"America/Chicago"}
    page.goto(f"{base_url}/services/{directory.online.id}")
    viewer_time = page.locator("time[data-viewer-time]").first
    assert viewer_time.inner_text() not in ("", "—"), "app.js shows the visitor's own time"
    assert page.get_by_role("button", name="Print").is_visible()
    assert watched.console_errors == []


def test_switching_to_spanish_keeps_the_language_in_links_and_forms(base_url: str, watched: Watched) -> None:
    page = watched.new_page()
    page.goto(f"{base_url}/")
    page.get_by_role("link", name="Español").click()
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.get_by_role("heading", level=1).inner_text() == "Encuentre ayuda cerca de usted"
    page.get_by_label("Cerca de", exact=True).fill("60601")
    page.get_by_role("button", name="Buscar", exact=True).click()
    page.wait_for_url("**/search?**")
    assert query_of(page.url)["lang"] == ["es"]
    assert page.locator("#results-title").inner_text().endswith("resultados cerca de 60601")
    page.get_by_role("link", name="Grupo Esperanza").click()
    assert query_of(page.url)["lang"] == ["es"]
    assert "Cerrada" in page.locator("dl.facts").inner_text()


def axe_violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_no_serious_accessibility_violations(base_url: str, directory: Directory, browser: Browser) -> None:
    # Playwright injects axe as an inline script, which our CSP rightly refuses: bypass it for this test only.
    context = browser.new_context(viewport=DESKTOP, bypass_csp=True)
    page = context.new_page()
    urls = [
        "/",
        "/search?near=60601",
        "/search?near=60601&category=food&lang=es",
        "/search?near=60601&radius_km=2&category=food-bank",
        f"/services/{directory.loop_aa.id}",
        f"/services/{directory.online.id}",
        f"/organizations/{directory.loop_aa.organization_id}",
        f"/services/{directory.loop_aa.id}x",
    ]
    found = {}
    for url in urls:
        page.goto(base_url + url)
        page.locator("#filter-panel summary").click() if page.locator("#filter-panel:not([open])").count() else None
        violations = axe_violations(page)
        if violations:
            found[url] = violations
    context.close()
    assert found == {}, json.dumps(found, indent=1)


def test_no_cookies_and_every_request_stays_on_loopback(base_url: str, directory: Directory, watched: Watched) -> None:
    page = watched.new_page()
    search_near_zip(page, base_url)
    page.locator("#filter-panel summary").click()
    page.get_by_label("Spanish (2)").check()
    page.locator("#results-title", has_text="2 results").wait_for()
    page.get_by_role("link", name="Grupo Esperanza").click()
    page.wait_for_load_state("networkidle")
    page.goto(f"{base_url}/services/{directory.online.id}?lang=es")
    assert watched.requests and all(urlsplit(u).hostname == "127.0.0.1" for u in watched.requests), watched.requests
    assert watched.cookies_set == []
    assert watched.context.cookies() == []
    assert page.evaluate("document.cookie") == ""
    assert page.evaluate("localStorage.length") == 0
    # htmx keeps only the current path of this tab (what the address bar shows), never page snapshots.
    keys = page.evaluate("Object.keys(sessionStorage)")
    assert keys in ([], ["htmx-current-path-for-history"])


@pytest.mark.parametrize("width", [320, 640])
def test_pages_fit_narrow_screens_and_200_percent_zoom(
    base_url: str, directory: Directory, browser: Browser, width: int
) -> None:
    """640 CSS px is a 1280 px window at 200 % zoom; 320 px is the WCAG reflow width."""
    viewport: ViewportSize = {"width": width, "height": 800}
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    for url in ("/", "/search?near=60601", f"/services/{directory.loop_aa.id}"):
        page.goto(base_url + url)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{url} scrolls sideways by {overflow}px at {width}px"
    context.close()


def test_screenshots_at_phone_and_desktop_widths(base_url: str, directory: Directory, browser: Browser) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pages = {"home": "/", "results": "/search?near=60601", "listing": f"/services/{directory.loop_aa.id}"}
    for size_name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        context = browser.new_context(viewport=viewport)
        page = context.new_page()
        for name, url in pages.items():
            page.goto(base_url + url)
            path = SCREENSHOTS / f"{name}-{size_name}.png"
            page.screenshot(path=str(path), full_page=True)
            assert path.stat().st_size > 5_000
        context.close()
