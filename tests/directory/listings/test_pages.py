"""Listing, organization and calendar pages (database only: they keep working when search is down)."""

from datetime import time

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlmodel import Session

from tests.factories import insert_listing, place, weekly
from tests.html import parse
from tests.support import Directory, build_directory


@pytest.fixture
def data(session: Session, taxonomy: None) -> Directory:
    return build_directory(session)


def test_listing_page_shows_everything_a_visitor_needs(client: TestClient, data: Directory) -> None:
    service = data.loop_aa
    response = client.get(f"/services/{service.id}")
    assert response.status_code == 200 and response.headers["vary"].startswith("HX-Request")
    page = parse(response.text)
    assert page.text_of("h1") == "Loop Noon Group"
    assert page.find("a", href=f"/organizations/{service.organization_id}").text.strip() == "Loop Alano Club"
    assert "100 W Randolph St" in page.text_of("address")
    assert page.find("a", href="geo:41.878100,-87.629800")
    # "Directions" is a route to the place (the start left to the visitor), not a pin on a map.
    osm = page.find("a", href="https://www.openstreetmap.org/directions?route=%3B41.878100%2C-87.629800")
    assert "noreferrer" in osm.attrs["rel"]
    rows = [" ".join(tr.text.split()) for tr in page.find_all("tr")][1:]
    assert rows[0].startswith("Monday to Friday 12:00") and "America/Chicago" in rows[0]
    assert rows[1].startswith("First Saturday of the month 10:00")
    assert page.find("a", href=f"/services/{service.id}/calendar.ics")
    assert page.find("a", href=f"/services/{service.id}/suggest")
    facts = page.text_of("dl", class_="facts")
    assert "Open" in facts and "Discussion" in facts and "Wheelchair Access" in facts  # the label types.json gives X
    assert "Last verified Jan 1, 2026" in facts
    assert "Wheelchair accessible entrance" in page.text_of("section", class_="place")
    assert page.find("link", rel="stylesheet").attrs["href"] == "/static/css/site.css"


def test_confidential_location_shows_city_and_phone_never_the_street(client: TestClient, data: Directory) -> None:
    html = client.get(f"/services/{data.shelter.id}").text
    assert "77 Hidden Lane" not in html and "41.922" not in html
    page = parse(html)
    assert "Chicago, IL 60614" in page.text_of("address")
    assert page.find("a", href="tel:312-555-0147")
    assert not page.find_all("a", href=lambda h: h.startswith(("geo:", "https://www.openstreetmap.org")))
    assert "confidential location" in page.text_of("section", class_="place")


def test_online_meeting_has_join_link_and_times_in_the_viewers_zone(client: TestClient, data: Directory) -> None:
    page = parse(client.get(f"/services/{data.online.id}?tz=Europe/Madrid").text)
    assert page.find("a", href="https://meet.example.org/reflect").text.strip() == "Join the meeting"
    headers = [" ".join(th.text.split()) for th in page.find_all("th")]
    assert headers == ["Day", "Time (local)", "Your time"]
    row = " ".join(page.find_all("tr")[1].text.split())
    assert row.startswith("Every day 1:00") and "America/New_York" in row
    assert "19:00 CE" in row or "7:00 PM CE" in row  # 13:00 New York = 19:00 Madrid
    assert page.find("option", value="Europe/Madrid").attrs.get("selected") is not None
    plain = parse(client.get(f"/services/{data.online.id}").text)
    assert plain.find("time", data_viewer_time=True)  # app.js fills in the visitor's time
    assert client.get(f"/services/{data.online.id}?tz=Mars/Olympus").status_code == 422


def test_calendar_file_recurs_weekly_and_monthly_in_the_listing_zone(client: TestClient, data: Directory) -> None:
    response = client.get(f"/services/{data.loop_aa.id}/calendar.ics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    assert "attachment" in response.headers["content-disposition"]
    calendar = Calendar.from_ical(response.content)
    events = calendar.walk("VEVENT")
    assert len(events) == 2
    weekly_event, monthly_event = sorted(events, key=lambda e: str(e.get("rrule")["FREQ"]), reverse=True)
    rule = weekly_event.get("rrule")
    assert rule["FREQ"] == ["WEEKLY"] and rule["BYDAY"] == ["MO", "TU", "WE", "TH", "FR"]
    start = weekly_event.decoded("dtstart")
    assert str(start.tzinfo) == "America/Chicago" and start.time() == time(12, 0)
    assert weekly_event["DTSTART"].params["TZID"] == "America/Chicago"
    assert start.weekday() < 5
    assert weekly_event.decoded("dtend").time() == time(13, 0)
    monthly = monthly_event.get("rrule")
    assert monthly["FREQ"] == ["MONTHLY"] and monthly["BYDAY"] == ["1SA"]
    first = monthly_event.decoded("dtstart")
    assert first.weekday() == 5 and first.day <= 7 and first.time() == time(10, 0)
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["America/Chicago"]
    assert "100 W Randolph St" in str(weekly_event["LOCATION"])


def test_calendar_of_a_confidential_listing_has_no_street(client: TestClient, session: Session, taxonomy: None) -> None:
    service = insert_listing(
        session,
        name="Shelter group",
        places=[place(41.92, -87.65, confidential=True, postal_code="60614", secret_street="9 Quiet Ct")],
        schedules=[weekly("WE", "18:00", "19:00")],
    )
    body = client.get(f"/services/{service.id}/calendar.ics").text
    assert "9 Quiet Ct" not in body and "Chicago" in body


def test_organization_page_lists_its_services_meetings_and_locations(client: TestClient, data: Directory) -> None:
    response = client.get(f"/organizations/{data.loop_aa.organization_id}")
    assert response.status_code == 200
    page = parse(response.text)
    assert page.text_of("h1") == "Loop Alano Club"
    assert page.find("a", href=f"/services/{data.loop_aa.id}")
    assert "100 W Randolph St" in page.text_of("section", aria_labelledby="places-title")
    assert "Meetings (1)" in " ".join(page.text_of("section", aria_label="Meetings").split())
    index = parse(client.get("/organizations").text)
    assert index.find("a", href=f"/organizations/{data.loop_aa.organization_id}")


def test_every_page_renders_as_a_fragment_too(client: TestClient, data: Directory) -> None:
    for url in (f"/services/{data.loop_aa.id}", f"/organizations/{data.pantry.organization_id}", "/organizations", "/"):
        response = client.get(url, headers={"HX-Request": "true"})
        assert response.status_code == 200, url
        assert response.headers["vary"].startswith("HX-Request"), url
