"""Issue 14, problem 5 (relevance) in a real Chromium, step by step: "NA" near 10001 and without a place,
the three spellings of Al-Anon, "bus" near the transit pass office, "narcotics anonymous tonight"; each
understood word shows as a chip that can be removed, with htmx and without JavaScript; axe finds nothing."""

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import meilisearch
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, Playwright, sync_playwright
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bench.relevance import build
from core.clock import utcnow
from directory.listings.service import ensure_taxonomy
from search.layout import Indexes
from search.timeslots import DAY_CODES
from search.understanding import window
from tests.browser import AXE, CHROMIUM_ARGS, DESKTOP, PHONE, require_chromium, serve
from tests.factories import insert_listing, place, weekly

pytestmark = pytest.mark.browser
NEW_YORK = "America/New_York"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    require_chromium()
    with sync_playwright() as driver:  # one driver per module: Playwright's sync API allows one at a time
        chromium = _launch(driver)
        yield chromium
        chromium.close()


def _launch(driver: Playwright) -> Browser:
    return driver.chromium.launch(executable_path=require_chromium(), args=CHROMIUM_ARGS)


def _manhattan(session: Session) -> dict[str, str]:
    """Around ZIP 10001: a naltrexone clinic and a naloxone table nearest, an NA meeting tonight (in New York
    time, whenever the test runs) and one three days later."""
    now = utcnow()
    low, high, _ = window("tonight", now, NEW_YORK)
    tonight = (now + timedelta(minutes=(low + high) // 2)).astimezone(ZoneInfo(NEW_YORK))
    later = tonight + timedelta(days=3)
    ny: dict[str, Any] = {"city": "New York", "state": "NY", "timezone": NEW_YORK}

    def slot(moment: datetime) -> dict[str, Any]:
        return weekly(DAY_CODES[(moment.weekday() + 1) % 7], moment.strftime("%H:%M"))

    insert_listing(
        session, name="Naltrexone Injection Clinic", categories=["naltrexone"], timezone=NEW_YORK,
        places=[place(40.7506, -73.9970, street="400 W 30th St", postal_code="10001", **ny)],
        schedules=[weekly("MO,TU,WE,TH,FR", "08:00", "18:00")],
    )  # fmt: skip
    insert_listing(
        session, name="Naloxone Training Table", categories=["harm-reduction"], timezone=NEW_YORK,
        places=[place(40.7509, -73.9965, street="410 W 30th St", postal_code="10001", **ny)],
    )  # fmt: skip
    insert_listing(
        session, name="Chelsea Tonight NA", kind="meeting", categories=["na"], fellowship="na", types=["O"],
        timezone=NEW_YORK, places=[place(40.7440, -74.0000, street="200 W 20th St", postal_code="10011", **ny)],
        schedules=[slot(tonight)],
    )  # fmt: skip
    insert_listing(
        session, name="Midtown Later NA", kind="meeting", categories=["na"], fellowship="na", types=["C"],
        timezone=NEW_YORK, places=[place(40.7640, -73.9800, street="500 W 57th St", postal_code="10019", **ny)],
        schedules=[slot(later)],
    )  # fmt: skip
    session.commit()
    return {"tonight": tonight.isoformat(), "later": later.isoformat()}  # for a failure's message


@pytest.fixture
def base_url(
    web_app: FastAPI, engine: Engine, session: Session, search_indexes: Indexes, meili_client: meilisearch.Client
) -> Iterator[str]:
    """The curated sample data plus the Manhattan listings, indexed; the app served on loopback."""
    ensure_taxonomy(session=session)
    _manhattan(session)
    build(engine, meili_client, search_indexes.prefix)
    with serve(web_app) as url:
        yield url


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def names(page: Page) -> list[str]:
    return page.locator("#results ol.result-list > li h3").all_inner_texts()


def search(page: Page, base_url: str, q: str, near: str = "") -> None:
    page.goto(f"{base_url}/")
    page.get_by_label("What do you need?").fill(q)
    page.get_by_label("Near", exact=True).fill(near)
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url("**/search?**")


def chips(page: Page) -> list[str]:
    """The chips' texts, without the multiplication sign drawn after each."""
    return [
        " ".join(t.replace("\N{MULTIPLICATION SIGN}", "").split())
        for t in page.locator(".understood a").all_inner_texts()
    ]


def test_problem_5_relevance_step_by_step(base_url: str, browser: Browser) -> None:
    context = browser.new_context(viewport=DESKTOP, locale="en-US", timezone_id=NEW_YORK)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # "NA" near 10001: Narcotics Anonymous meetings first, not the naltrexone clinic next door.
    search(page, base_url, "NA", "10001")
    assert query_of(page.url)["tz"] == [NEW_YORK], "the browser says which evening is tonight"
    found = names(page)
    assert found[:2] == ["Chelsea Tonight NA", "Midtown Later NA"], found
    assert not any(n.startswith(("Naltrexone", "Naloxone")) for n in found)
    assert chips(page) == ["Remove: Narcotics Anonymous (“NA”)"]

    # ... and without a place: only NA meetings (the curated three and the two in Manhattan).
    search(page, base_url, "NA")
    found = names(page)
    assert len(found) == 5 and not any("Naltrexone" in n or "Naloxone" in n or "naloxone" in n for n in found)

    # "al anon", "alanon" and "Al-Anon" find the same meetings.
    spellings = []
    for q in ("al anon", "alanon", "Al-Anon"):
        search(page, base_url, q)
        spellings.append(sorted(names(page)))
    assert spellings[0] == spellings[1] == spellings[2]
    assert {"Hope for Today Al-Anon", "Sunday Serenity Al-Anon (online)", "Tuesday Alateen"} == set(spellings[0])

    # "bus" near the RideLink office finds the transit pass help.
    search(page, base_url, "bus", "60612")
    assert "Transit pass assistance" in names(page)
    assert chips(page) == ["Remove: Transportation (“bus”)"]

    # "narcotics anonymous tonight": tonight's meeting, not the one three days later.
    search(page, base_url, "narcotics anonymous tonight", "10001")
    assert names(page) == ["Chelsea Tonight NA"]
    assert chips(page) == ["Remove: Narcotics Anonymous", "Remove: Tonight"]
    page.evaluate("window.notReloaded = true")
    page.get_by_role("link", name="Remove: Tonight").click()
    page.wait_for_url(lambda url: query_of(url).get("q") == ["narcotics anonymous"])
    page.locator("#results:not([aria-busy])").wait_for()
    page.locator(".understood a", has_text="Narcotics Anonymous").wait_for()
    assert names(page) == ["Chelsea Tonight NA", "Midtown Later NA"]
    assert chips(page) == ["Remove: Narcotics Anonymous"]
    assert page.evaluate("window.notReloaded") is True, "htmx swapped the results in place"
    assert page.get_by_label("What do you need?").input_value() == "narcotics anonymous"
    assert errors == []
    context.close()


def test_removing_a_chip_without_javascript(base_url: str, browser: Browser) -> None:
    context = browser.new_context(java_script_enabled=False, viewport=PHONE, timezone_id=NEW_YORK)
    page = context.new_page()
    search(page, base_url, "NA tonight", "10001")
    assert "tz" not in query_of(page.url), "no script, no zone: the place's zone counts"
    assert names(page) == ["Chelsea Tonight NA"]
    page.get_by_role("link", name="Remove: Narcotics Anonymous").click()
    assert query_of(page.url)["q"] == ["tonight"]
    assert page.get_by_label("What do you need?").input_value() == "tonight"
    assert chips(page) == ["Remove: Tonight"]
    assert "Chelsea Tonight NA" in names(page) and "Midtown Later NA" not in names(page)
    context.close()


def test_spanish_chips(base_url: str, browser: Browser) -> None:
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    page.goto(f"{base_url}/search?q=NA+esta+noche&near=10001&lang=es")
    assert chips(page) == ["Quitar: Narcóticos Anónimos (“NA”)", "Quitar: Esta noche"]
    assert page.locator(".understood").inner_text().startswith("Según sus palabras:")
    context.close()


def test_no_accessibility_violations_with_chips(base_url: str, browser: Browser) -> None:
    context = browser.new_context(viewport=DESKTOP, bypass_csp=True)  # axe is injected as an inline script
    page = context.new_page()
    found = {}
    for url in ("/search?q=NA+tonight&near=10001", "/search?q=bus&near=60612&lang=es", "/search?q=al+anon+hoy"):
        page.goto(base_url + url)
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        found[url] = [(v["id"], v["impact"]) for v in result["violations"]]
    assert found == {url: [] for url in found}, found
    context.close()
