"""Every staff page, as each role sees it, in English and in Spanish, in a real Chromium: axe-core finds no
violation, the page is in the language asked for (`lang` on <html>, no English sentence of the catalog left on a
Spanish page, no raw status codes), and the staff layout offers the other language. About 30 pages per language
with axe on each: this test takes about a minute per language, the price of covering every staff page."""

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from babel.messages.pofile import read_po
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy.engine import Engine
from sqlmodel import Session

from accounts.models import User
from accounts.sessions import SESSION_COOKIE, start_session
from core.app import create_app
from core.i18n import LOCALE_DIR, translations
from core.settings import Settings
from referrals.codes import Status
from search.embedded import MeiliServer
from tests.browser import AXE, CHROMIUM_ARGS, DESKTOP, require_chromium, serve
from tests.factories import World, build_world, make_member, make_referral

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore::DeprecationWarning")]


@pytest.fixture
def browser() -> Iterator[Browser]:
    executable = require_chromium()
    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def staff_settings(settings: Settings) -> Settings:
    # The development mailbox is a staff page too (network admins only).
    return settings.model_copy(update={"dev_mail_page": True})


@pytest.fixture
def world(session: Session, staff_settings: Settings) -> dict[str, Any]:
    w = build_world(session)
    org_admin = make_member(session, f"orgadmin-{uuid.uuid4().hex[:6]}@example.org", w.org_a, role="admin")
    sent = make_referral(session, w, staff_settings, Status.accepted)
    return {"w": w, "org_admin": org_admin, "referral": sent}


def pages_by_role(world: dict[str, Any]) -> dict[str, tuple[User, list[str]]]:
    w: World = world["w"]
    org, service, referral = w.org_a, w.service_a.id, world["referral"].id
    return {
        "peer": (
            w.peer,
            ["/workspace", "/account", "/referrals", f"/services/{service}/refer", f"/referrals/{referral}",
             "/referrals/notifications", f"/services/{service}/claim"],
        ),
        "organization admin": (
            world["org_admin"],
            ["/workspace", f"/workspace/organizations/{org}", f"/workspace/services/{service}",
             f"/workspace/organizations/{org}/members", f"/workspace/organizations/{org}/audit",
             f"/workspace/organizations/{org}/import", f"/workspace/organizations/{org}/services/new",
             "/workspace/moderation", "/referrals/inbox", f"/referrals/{referral}", "/referrals/notifications"],
        ),
        "supervisor": (w.supervisor, ["/workspace", "/referrals", "/referrals/metrics", "/account"]),
        "network admin": (
            w.admin,
            ["/workspace", "/admin/users", f"/admin/users/{w.peer.id}", "/admin/claims", "/admin/freshness",
             "/admin/feeds", "/workspace/moderation", "/referrals/metrics", "/dev/mail"],
        ),
    }  # fmt: skip


@pytest.fixture
def base_url(
    staff_settings: Settings, engine: Engine, meili_server: MeiliServer, world: dict[str, Any]
) -> Iterator[str]:
    app: FastAPI = create_app(staff_settings, engine=engine, meili=meili_server)
    with serve(app) as url:
        yield url


def axe_violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
    ]


RAW_CODES = {"requested", "accepted", "in-progress", "on-hold", "entered-in-error", "contact-attempted"}


def english_sentences() -> list[str]:
    """Catalog messages of three words or more that Spanish says differently: none may show on a Spanish page."""
    spanish = translations("es")
    with open(LOCALE_DIR / "es" / "LC_MESSAGES" / "messages.po", "rb") as po:
        ids = [m.id for m in read_po(po, locale="es") if isinstance(m.id, str) and "%" not in m.id]
    return [m for m in ids if len(m.split()) >= 3 and spanish.ugettext(m) != m]


@pytest.mark.parametrize("lang", ["en", "es"])
def test_every_staff_page_of_every_role_passes_axe_in_both_languages(
    browser: Browser, base_url: str, session: Session, world: dict[str, Any], lang: str
) -> None:
    found: dict[str, Any] = {}
    english = english_sentences() if lang == "es" else []
    for role, (user, paths) in pages_by_role(world).items():
        # Playwright injects axe as an inline script, which our CSP rightly refuses: bypass it for this test only.
        context = browser.new_context(viewport=DESKTOP, bypass_csp=True, locale="en-US")
        raw, _ = start_session(session=session, user_id=user.id)
        context.add_cookies([{"name": SESSION_COOKIE, "value": raw, "url": base_url}])
        page = context.new_page()
        for path in paths:
            response = page.goto(f"{base_url}{path}{'&' if '?' in path else '?'}lang={lang}")
            key = f"{role} {path}"
            assert response is not None and response.status == 200, f"{key}: {response and response.status}"
            assert page.locator("html").get_attribute("lang") == lang, key
            badges = set(page.locator(".badge").all_inner_texts())
            if badges & RAW_CODES:
                found[key] = f"raw status codes shown: {sorted(badges & RAW_CODES)}"
            text = " ".join(page.locator("body").inner_text().split())
            # The mailbox lists stored mails, whose subjects are in both languages on purpose.
            left = [m for m in english if m in text] if not path.startswith("/dev/mail") else []
            if left:
                found[key] = f"English left on a Spanish page: {left}"
            violations = axe_violations(page)
            if violations:
                found[key] = violations
        context.close()
    assert found == {}, json.dumps(found, indent=1)


def test_a_staff_user_switches_to_spanish_from_the_staff_layout_and_it_stays(
    browser: Browser, base_url: str, session: Session, world: dict[str, Any]
) -> None:
    context = browser.new_context(viewport=DESKTOP, locale="en-US")
    raw, _ = start_session(session=session, user_id=world["w"].peer.id)
    context.add_cookies([{"name": SESSION_COOKIE, "value": raw, "url": base_url}])
    page = context.new_page()
    page.goto(f"{base_url}/workspace")
    assert page.get_by_role("button", name="Sign out").is_visible()
    page.get_by_role("link", name="Español").click()
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.get_by_role("button", name="Cerrar sesión").is_visible()
    # Links of the staff layout keep the chosen language.
    page.get_by_role("link", name="Mi cuenta").click()
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.get_by_role("heading", level=1).inner_text() == "Mi cuenta"
    page.goto(f"{base_url}/referrals/{world['referral'].id}?lang=es")
    assert page.locator("#referral-status").inner_text() == "Aceptada"
    context.close()


def test_staff_pages_follow_the_browser_language(
    browser: Browser, base_url: str, session: Session, world: dict[str, Any]
) -> None:
    context = browser.new_context(viewport=DESKTOP, locale="es-US")
    raw, _ = start_session(session=session, user_id=world["org_admin"].id)
    context.add_cookies([{"name": SESSION_COOKIE, "value": raw, "url": base_url}])
    page = context.new_page()
    page.goto(f"{base_url}/referrals/{world['referral'].id}")
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.locator("#referral-status").inner_text() == "Aceptada"
    assert "Organización que recibe" in page.locator("#history").inner_text()
    context.close()
