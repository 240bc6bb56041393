"""An editor of a service body, in a real Chromium, saves an imported meeting's section: every type code the
feed gave it survives (a registry code the old form lacked, and a feed's own code it shows as the code),
and the page says which side wins when the feed and the workspace disagree."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright, expect, sync_playwright
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from accounts.models import OrgRole
from core.app import create_app
from core.settings import Settings
from directory.listings.models import Meeting, Service
from directory.meeting_guide.importer import import_meeting_guide
from directory.sources.service import add_source
from tests.browser import CHROMIUM_ARGS, require_chromium, serve
from tests.factories import PASSWORD, add_member, make_user

pytestmark = pytest.mark.browser
EDITOR = "servant@intergroup.example.org"
TYPES = ["O", "TH", "LGBTQIA", "D", "XT"]  # TH: the form used to refuse it; LGBTQIA: not in the list
FEED = [{"name": "Thai Speakers", "slug": 41, "day": 2, "time": "19:30", "types": TYPES,
         "formatted_address": "100 N Michigan Ave, Chicago, IL 60601, USA", "latitude": 41.8864,
         "longitude": -87.6186, "timezone": "America/Chicago", "conference_url": "https://zoom.us/j/41"}]  # fmt: skip


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    require_chromium()
    driver: Playwright
    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=require_chromium(), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def imported(session: Session, tmp_path: Path) -> Service:
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(FEED))
    feed = add_source(session=session, name="Lakeside Intergroup", location=str(path), code="lakeside")
    assert import_meeting_guide(session=session, source=path, feed=feed).ok
    service = session.exec(select(Service)).one()
    add_member(session, make_user(session, EDITOR), service.organization_id, OrgRole.editor, trusted=True)
    return service


def test_saving_an_imported_meeting_keeps_every_type_code(
    browser: Browser, settings: Settings, engine: Engine, session: Session, imported: Service
) -> None:
    context = browser.new_context()
    page = context.new_page()
    try:
        with serve(create_app(settings, engine=engine)) as site:
            page.goto(f"{site}/login")
            page.get_by_label("E-mail address").fill(EDITOR)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.goto(f"{site}/workspace/services/{imported.id}")
            expect(page.locator("[data-feed]")).to_contain_text("Lakeside Intergroup")
            section = page.locator("#section-meeting")
            expect(section.get_by_label("Thai")).to_be_checked()
            expect(section.get_by_label("LGBTQIA")).to_be_checked()
            section.get_by_label("Group notes").fill("Ring the bell at the side door.")
            section.get_by_role("button", name="Save meeting").click()
            expect(page.locator("#section-meeting .saved")).to_be_visible()
        session.expire_all()
        meeting = session.exec(select(Meeting).where(Meeting.service_id == imported.id)).one()
        assert meeting.group_notes == "Ring the bell at the side door."
        assert sorted(meeting.types) == sorted(TYPES)
    finally:
        context.close()
