"""The seeker's tools in a real Chromium (issue 14, problem 6): the results map loaded only on request and
drawn without any third-party request, confidential pins at their public approximation, an operator's tile
source named before it loads, the region filter, My list (save, print, one calendar file), share and print
on a result card, a route from "Directions", 44 px touch targets on a phone, and the no-JavaScript path."""

import json
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from icalendar import Calendar
from playwright.sync_api import Browser, Locator, Page, Route, expect
from sqlalchemy.engine import Engine

from core.app import create_app
from core.settings import Settings
from search.embedded import MeiliServer
from tests.browser import DESKTOP, PHONE, serve
from tests.search.test_browser import (  # noqa: F401 (fixtures)
    axe_violations,
    base_url,
    browser,
    playwright_driver,
    query_of,
    result_names,
)
from tests.support import Directory

pytestmark = pytest.mark.browser
MAP_FILES = ("leaflet-1.9.4.js", "leaflet-1.9.4.css", "topojson-client", "us-atlas", "results-map.js")
TILE_HOST = "tiles.example.test"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8ffff3f0005fe02fe"
    "a7d6a4f80000000049454e44ae426082"
)


class Outside:
    """Every request the page makes; anything not for 127.0.0.1 is recorded and refused (never reaches out)."""

    def __init__(self, page: Page, allow: str | None = None) -> None:
        self.seen: list[str] = []
        self.outside: list[str] = []
        self.allow = allow
        page.route("**/*", self._route)

    def _route(self, route: Route) -> None:
        url = route.request.url
        self.seen.append(url)
        host = urlsplit(url).hostname
        if host == "127.0.0.1":
            route.continue_()
        elif host == self.allow:
            self.outside.append(url)
            route.fulfill(status=200, content_type="image/png", body=PNG)
        else:
            self.outside.append(url)
            route.abort()

    def map_files(self) -> list[str]:
        return [u for u in self.seen if any(name in u for name in MAP_FILES)]


def open_map(page: Page) -> None:
    page.get_by_role("button", name="Map", exact=True).click()
    page.locator("#map-panel[data-ready]").wait_for()


def card(page: Page, name: str) -> Locator:
    return page.locator("#results li.result", has=page.get_by_role("link", name=name, exact=True))


def test_map_loads_only_when_asked_and_draws_without_leaving_this_site(
    base_url: str,  # noqa: F811
    directory: Directory,
    browser: Browser,  # noqa: F811
) -> None:
    context = browser.new_context(viewport=DESKTOP, bypass_csp=True)  # bypass only so axe can be injected below
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    watch = Outside(page)
    page.goto(f"{base_url}/search?near=60601")
    assert watch.map_files() == [], "the first load carries no map code or data"
    assert page.get_by_role("button", name="List", exact=True).get_attribute("aria-pressed") == "true"
    with page.expect_response(lambda r: "/api/v1/search" in r.url) as answer:
        open_map(page)
    loaded = watch.map_files()
    assert any("leaflet-1.9.4.js" in u for u in loaded) and any("us-atlas" in u for u in loaded)
    assert page.get_by_role("button", name="Map", exact=True).get_attribute("aria-pressed") == "true"
    pins = page.locator(".leaflet-marker-pane .map-pin")
    placed = [h for h in answer.value.json()["hits"] if h["lat"] is not None]
    assert pins.count() == len(placed) >= 5
    assert page.locator(".leaflet-overlay-pane path").count() > 40, "state boundaries drawn from bundled data"
    # The confidential shelter's pin is its public, rounded point; its real point never reaches the browser.
    shelter = page.locator(f'.map-pin[data-service="{directory.shelter.id}"]')
    assert (shelter.get_attribute("data-lat"), shelter.get_attribute("data-lng")) == ("41.92", "-87.65")
    assert "approximate area" in (shelter.get_attribute("aria-label") or "")
    assert "41.922" not in answer.value.text() and "Hidden Lane" not in answer.value.text()
    assert page.locator("[data-map-status]").inner_text().startswith(f"{len(placed)} results on the map")
    # Pins follow the results: a filter applied while the map is open redraws them.
    page.locator("#filter-panel summary").click()
    page.get_by_label("Spanish (2)").check()
    page.locator("#results-title", has_text="2 results").wait_for()
    expect(pins).to_have_count(2)
    violations = axe_violations(page)
    assert violations == [], json.dumps(violations, indent=1)
    assert watch.outside == [] and errors == []
    assert context.cookies() == []
    context.close()


@pytest.fixture
def tiled_url(settings: Settings, engine: Engine, meili_server: MeiliServer, directory: Directory) -> Iterator[str]:
    tiled = settings.model_copy(
        update={"map_tile_url": f"https://{TILE_HOST}/{{z}}/{{x}}/{{y}}.png", "map_tile_attribution": "Test tiles"}
    )
    app: FastAPI = create_app(tiled, engine=engine, meili=meili_server)
    with serve(app) as url:
        yield url


def test_a_configured_tile_source_is_named_and_used_only_when_the_visitor_asks(
    tiled_url: str,
    browser: Browser,  # noqa: F811
) -> None:
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    watch = Outside(page, allow=TILE_HOST)
    response = page.goto(f"{tiled_url}/search?near=60601")
    assert (
        response is not None
        and f"img-src 'self' data: https://{TILE_HOST}" in response.headers["content-security-policy"]
    )
    open_map(page)
    notice = page.locator("#map-panel").inner_text()
    assert f"Street maps come from {TILE_HOST}" in notice
    assert watch.outside == [], "nothing from the tile host before the visitor asks"
    page.get_by_role("button", name=f"Show streets from {TILE_HOST}").click()
    page.locator(".leaflet-tile-loaded").first.wait_for()
    assert watch.outside and all(urlsplit(u).hostname == TILE_HOST for u in watch.outside)
    assert "Test tiles" in page.locator(".leaflet-control-attribution").inner_text()
    context.close()


def test_region_filter_narrows_to_a_city(base_url: str, directory: Directory, browser: Browser) -> None:  # noqa: F811
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(f"{base_url}/search")
    page.locator("#filter-panel summary").click()
    area = page.locator("fieldset", has=page.locator("legend", has_text="Region"))
    assert area.get_by_label("Chicago, IL (5)").is_visible()
    area.get_by_label("Brooklyn, NY (1)").check()
    page.wait_for_url(lambda url: query_of(url).get("region") == ["Brooklyn, NY"])
    page.locator("#results-title", has_text="1 result").wait_for()
    assert result_names(page) == ["Brooklyn Food Bank"]
    page.get_by_role("link", name="Remove filter: Brooklyn, NY").click()
    page.wait_for_url(lambda url: "region" not in query_of(url))
    page.locator("#results-title", has_text="results").wait_for()
    assert "Loop Noon Group" in result_names(page)
    context.close()


def test_my_list_saves_on_the_device_prints_and_downloads_one_calendar(
    base_url: str,  # noqa: F811
    directory: Directory,
    browser: Browser,  # noqa: F811
) -> None:
    context = browser.new_context(viewport=PHONE, accept_downloads=True, bypass_csp=True)
    page = context.new_page()
    watch = Outside(page)
    page.goto(f"{base_url}/search?near=60601")
    for name in ("Loop Noon Group", "Grupo Esperanza"):
        save = card(page, name).get_by_role("button", name="Save to my list", exact=True)
        save.click()
        assert card(page, name).get_by_role("button", name="Saved to my list").get_attribute("aria-pressed") == "true"
    assert card(page, "Grupo Esperanza").get_by_role("status").inner_text() == "Added to My list on this device."
    stored = json.loads(page.evaluate("localStorage.getItem('crd-my-list')"))
    assert stored == [str(directory.esperanza.id), str(directory.loop_aa.id)]
    page.get_by_role("link", name="My list").click()
    page.wait_for_url(lambda url: len(query_of(url).get("id", [])) == 2)
    saved = page.locator("ol.saved-list > li h2")
    assert saved.all_inner_texts() == ["Grupo Esperanza", "Loop Noon Group"]
    assert "100 W Randolph St" in page.locator("ol.saved-list").inner_text()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download all as a calendar (.ics)").click()
    calendar = Calendar.from_ical(download.value.path().read_bytes())
    summaries = sorted({str(e["SUMMARY"]) for e in calendar.walk("VEVENT")})
    assert summaries == ["Grupo Esperanza", "Loop Noon Group"]
    assert {e["DTSTART"].params["TZID"] for e in calendar.walk("VEVENT")} == {"America/Chicago"}
    assert page.get_by_role("button", name="Print my list").is_visible()
    page.emulate_media(media="print")
    assert page.get_by_role("link", name="Download all as a calendar (.ics)").is_hidden()
    assert saved.first.is_visible() and page.locator(".site-header").is_hidden()
    page.emulate_media(media="screen")
    violations = axe_violations(page)
    assert violations == [], json.dumps(violations, indent=1)
    card_on_list = page.locator("ol.saved-list > li", has_text="Grupo Esperanza")
    card_on_list.get_by_role("button", name="Remove from my list").click()
    page.wait_for_url(lambda url: len(query_of(url).get("id", [])) == 1)
    assert saved.all_inner_texts() == ["Loop Noon Group"]
    assert json.loads(page.evaluate("localStorage.getItem('crd-my-list')")) == [str(directory.loop_aa.id)]
    assert context.cookies() == [] and watch.outside == []
    context.close()


def test_share_and_print_from_a_result_card(base_url: str, directory: Directory, browser: Browser) -> None:  # noqa: F811
    context = browser.new_context(viewport=DESKTOP)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    context.add_init_script(
        "window.printed = []; window.print = function () {"
        " window.printed.push([document.body.className, document.querySelector('.print-this h3').innerText]); };"
    )
    page = context.new_page()
    page.goto(f"{base_url}/search?near=60601")
    loop = card(page, "Loop Noon Group")
    assert page.evaluate("'share' in navigator") is False, "desktop Chromium here: the copy-link fallback"
    loop.get_by_role("button", name="Share").click()
    loop.get_by_role("status").filter(has_text="Link copied.").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == f"{base_url}/services/{directory.loop_aa.id}"
    loop.get_by_role("button", name="Print").click()
    assert page.evaluate("window.printed") == [["print-one", "Loop Noon Group"]]
    # After the print dialog the page is whole again (the class is removed on the next tick).
    page.wait_for_function("document.body.className === '' && !document.querySelector('.print-this')")
    context.close()

    phone = browser.new_context(viewport=PHONE)
    # A phone browser's Web Share API (Chromium on Linux has none): record what the page hands it.
    phone.add_init_script(
        "window.shared = []; navigator.share = function (d) { window.shared.push(d); return Promise.resolve(); };"
    )
    page = phone.new_page()
    page.goto(f"{base_url}/search?near=60601")
    card(page, "Grupo Esperanza").get_by_role("button", name="Share").click()
    assert page.evaluate("window.shared") == [
        {"title": "Grupo Esperanza", "url": f"{base_url}/services/{directory.esperanza.id}"}
    ]
    phone.close()


def test_directions_open_a_route_and_nothing_leaves_until_clicked(
    base_url: str,  # noqa: F811
    directory: Directory,
    browser: Browser,  # noqa: F811
) -> None:
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    watch = Outside(page)
    page.goto(f"{base_url}/services/{directory.rides.id}")
    link = page.get_by_role("link", name="Directions on OpenStreetMap")
    href = link.get_attribute("href") or ""
    assert urlsplit(href).path == "/directions" and query_of(href)["route"] == [";41.880000,-87.630000"]
    assert watch.outside == []
    link.click()
    page.wait_for_timeout(200)
    assert [urlsplit(u).hostname for u in watch.outside] == ["www.openstreetmap.org"], "only once clicked"
    page.goto(f"{base_url}/services/{directory.shelter.id}")
    assert page.get_by_role("link", name="Directions on OpenStreetMap").count() == 0, "no route to a confidential place"
    context.close()


def small_targets(page: Page) -> list[tuple[str, float]]:
    """Visible links and buttons under 44 CSS px tall (the skip link is off-screen until focused)."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('a[href], button'))
            .filter(el => !el.closest('.skip-link, .leaflet-container') && el.offsetParent !== null)
            .map(el => [el.textContent.trim().slice(0, 40), el.getBoundingClientRect().height])
            .filter(([, h]) => h < 43.5)"""
    )


def test_touch_targets_are_44_px_on_a_phone(base_url: str, directory: Directory, browser: Browser) -> None:  # noqa: F811
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    found = {}
    for url in (
        "/search?near=60601",
        "/search?near=60601&radius_km=2&category=food-bank",
        f"/my-list?id={directory.loop_aa.id}&id={directory.shelter.id}",
    ):
        page.goto(base_url + url)
        page.locator("#filter-panel summary").click() if page.locator("#filter-panel:not([open])").count() else None
        if small := small_targets(page):
            found[url] = small
    page.goto(f"{base_url}/services/{directory.loop_aa.id}")
    standalone = page.locator(".link-row a, .actions-list a, .site-nav a, .site-footer a")
    heights = [box["height"] for box in (a.bounding_box() for a in standalone.all()) if box]
    assert heights and min(heights) >= 43.5, heights
    assert found == {}, found
    context.close()


def test_without_javascript_the_list_is_the_page(base_url: str, directory: Directory, browser: Browser) -> None:  # noqa: F811
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    watch = Outside(page)
    page.goto(f"{base_url}/search?near=60601")
    assert "Loop Noon Group" in result_names(page)
    assert page.get_by_role("button", name="Map", exact=True).is_hidden()
    assert page.locator("#map-panel").is_hidden()
    assert page.get_by_role("button", name="Save to my list").count() == 0
    assert watch.map_files() == []
    page.goto(f"{base_url}/my-list?id={directory.loop_aa.id}")
    assert page.locator("ol.saved-list > li h2").all_inner_texts() == ["Loop Noon Group"]
    assert page.get_by_role("button", name="Remove from my list").is_hidden()
    href = page.get_by_role("link", name="Download all as a calendar (.ics)").get_attribute("href")
    assert href == f"/my-list/calendar.ics?id={directory.loop_aa.id}"
    context.close()
