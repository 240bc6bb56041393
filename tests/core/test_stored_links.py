"""Defence in depth: values stored before the edge rules existed (or written by a path that skipped them)
never become a dangerous link on a public page, in the HSDS API or the Meeting Guide feed, and never
break the calendar file."""

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlmodel import Session, select

from directory.listings.models import Meeting, Organization, Phone
from tests.html import parse
from tests.support import Directory, build_directory

BAD_SCHEMES = ("javascript:", "data:", "vbscript:")
LINK_PAYLOADS = ("alert(1)", "alert(2)", "msgbox(3)")  # the phone (alert(4)) is republished as text, not a link


@pytest.fixture
def data(session: Session, taxonomy: None) -> Directory:
    return build_directory(session)


def _store_bad_links(session: Session, data: Directory) -> None:
    pantry, online = data.pantry, data.online
    pantry.url = "javascript:alert(1)"
    organization = session.get(Organization, pantry.organization_id)
    assert organization is not None
    organization.website = "data:text/html,<script>alert(2)</script>"
    meeting = session.exec(select(Meeting).where(Meeting.service_id == online.id)).one()
    meeting.conference_url = "vbscript:msgbox(3)"
    meeting.conference_phone = "javascript:alert(4)"
    session.add(Phone(service_id=pantry.id, number="javascript:void(0)"))
    session.add_all([pantry, organization, meeting])
    session.commit()


def _hrefs(html: str) -> list[str]:
    return [el.attrs["href"] for el in parse(html).find_all("a", href=True)]


def test_public_pages_emit_no_href_outside_the_url_rule(client: TestClient, session: Session, data: Directory) -> None:
    _store_bad_links(session, data)
    pages = [
        f"/services/{data.pantry.id}",
        f"/services/{data.online.id}",
        f"/organizations/{data.pantry.organization_id}",
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        bad = [h for h in _hrefs(response.text) if h.strip().lower().startswith(BAD_SCHEMES) or "(" in h]
        assert not bad, f"{path} links to {bad}"


def test_hsds_api_and_meeting_guide_feed_do_not_republish_them(
    client: TestClient, session: Session, data: Directory
) -> None:
    _store_bad_links(session, data)
    service = client.get(f"/api/hsds/services/{data.pantry.id}").json()
    assert service.get("url") is None  # left out, as every empty field
    organization = client.get(f"/api/hsds/organizations/{data.pantry.organization_id}").json()
    assert organization.get("website") is None
    online = client.get(f"/api/hsds/services/{data.online.id}").text
    feed = client.get("/api/meeting-guide.json").text
    for body in (online, feed):
        assert not any(payload in body for payload in LINK_PAYLOADS), body[:500]


def test_a_stored_name_with_line_breaks_still_gives_a_valid_calendar(
    client: TestClient, session: Session, data: Directory
) -> None:
    service = data.loop_aa
    service.name = "Loop Noon Group\r\nX-Injected: yes\x07"  # PostgreSQL text cannot hold NUL; BEL is a control too
    session.add(service)
    session.commit()
    response = client.get(f"/services/{service.id}/calendar.ics")
    assert response.status_code == 200
    assert not any(line.startswith("X-Injected") for line in response.text.splitlines())
    calendar = Calendar.from_ical(response.content)
    summaries = {str(event["SUMMARY"]) for event in calendar.walk("VEVENT")}
    assert summaries == {"Loop Noon Group X-Injected: yes"}
