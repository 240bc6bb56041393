"""My list: the saved listings' page and their one calendar file (database only; the list itself lives in
the visitor's browser, see tests/search/test_seeker_browser.py)."""

import uuid

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlmodel import Session

from tests.html import parse
from tests.support import Directory, build_directory


@pytest.fixture
def data(session: Session, taxonomy: None) -> Directory:
    return build_directory(session)


def test_my_list_shows_the_saved_listings_in_their_order(client: TestClient, data: Directory) -> None:
    response = client.get("/my-list", params={"id": [str(data.pantry.id), str(data.loop_aa.id)]})
    assert response.status_code == 200 and "set-cookie" not in response.headers
    page = parse(response.text)
    assert [a.text.strip() for a in page.find_all("a") if a.attrs.get("href", "").startswith("/services/")] == [
        "Northside Food Pantry",
        "Loop Noon Group",
    ]
    calendar = page.find("a", href=f"/my-list/calendar.ics?id={data.pantry.id}&id={data.loop_aa.id}")
    assert "download" in calendar.attrs
    assert page.find("section", **{"data-ids": f"{data.pantry.id},{data.loop_aa.id}"})
    for script in page.find_all("script"):
        assert script.attrs.get("src") and not script.text.strip()


def test_an_empty_list_says_how_to_fill_it_and_a_removed_listing_is_counted(
    client: TestClient, data: Directory
) -> None:
    empty = parse(client.get("/my-list").text)
    assert "Nothing saved yet" in empty.text_of("main")
    gone = parse(client.get("/my-list", params={"id": [str(uuid.uuid4()), str(data.loop_aa.id)]}).text)
    assert "1 saved listing is no longer in the directory." in gone.text_of("main")


def test_a_confidential_listing_in_my_list_keeps_its_street_secret(client: TestClient, data: Directory) -> None:
    body = client.get("/my-list", params={"id": str(data.shelter.id)}).text
    assert "Safe Haven Shelter" in body and "60614" in body
    assert "Hidden Lane" not in body


def test_one_calendar_file_holds_every_saved_listing(client: TestClient, data: Directory) -> None:
    ids = [str(data.loop_aa.id), str(data.esperanza.id), str(data.brooklyn.id)]
    response = client.get("/my-list/calendar.ics", params={"id": ids})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/calendar")
    assert response.headers["content-disposition"] == 'attachment; filename="my-list.ics"'
    calendar = Calendar.from_ical(response.content)
    events = calendar.walk("VEVENT")
    assert {str(e["SUMMARY"]) for e in events} == {"Loop Noon Group", "Grupo Esperanza", "Brooklyn Food Bank"}
    assert len(events) == 4  # Loop: weekdays and a monthly Saturday; one each for the others
    assert sorted(str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")) == ["America/Chicago", "America/New_York"]
    assert {str(e["URL"]) for e in events} == {f"http://testserver/services/{i}" for i in ids}


def test_my_list_calendar_in_spanish_is_named_in_spanish(client: TestClient, data: Directory) -> None:
    response = client.get("/my-list/calendar.ics", params={"id": str(data.loop_aa.id), "lang": "es"})
    assert str(Calendar.from_ical(response.content)["X-WR-CALNAME"]) == "Mi lista"


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/my-list", {"id": "not-a-uuid"}),
        ("/my-list/calendar.ics", {"id": "not-a-uuid"}),
        ("/my-list", {"id": [str(uuid.uuid4()) for _ in range(51)]}),
        ("/my-list/calendar.ics", {"id": [str(uuid.uuid4()) for _ in range(51)]}),
        ("/my-list/calendar.ics", {}),
    ],
    ids=["bad-id", "bad-id-ics", "too-many", "too-many-ics", "nothing-ics"],
)
def test_bad_my_list_requests_are_clear_422s(
    client: TestClient, data: Directory, path: str, params: dict[str, object]
) -> None:
    response = client.get(path, params=params)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")


def test_a_calendar_of_listings_that_are_all_gone_is_a_404(client: TestClient, data: Directory) -> None:
    response = client.get("/my-list/calendar.ics", params={"id": str(uuid.uuid4())})
    assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")
