"""Issue 14 through the ASGI client: closed listings in search, the listing page and the calendar file; online
results with a place (HTML and API); quick choices that carry the place in the URL."""

from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import meilisearch
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlmodel import Session

from tests.factories import insert_listing, place, weekly
from tests.html import parse
from tests.support import MONDAY_1140_CHICAGO, Directory, push

AT = f"at={MONDAY_1140_CHICAGO}"


def closed_kitchen(session: Session, meili_client: meilisearch.Client, search_index: str, **extra: object) -> str:
    kitchen = insert_listing(
        session,
        name="Harbor Soup Kitchen",
        categories=["free-meals"],
        status="temporarily closed",
        places=[place(41.8858, -87.6181, street="1 E Wacker Dr")],
        schedules=[weekly("SU,MO,TU,WE,TH,FR,SA", "11:00", "14:00")],
    )
    for key, value in extra.items():
        setattr(kitchen, key, value)
    session.add(kitchen)
    session.commit()
    push(meili_client, search_index, session, [kitchen])
    return str(kitchen.id)


def test_a_search_without_a_place_is_not_called_online(client: TestClient, directory: Directory) -> None:
    page = parse(client.get(f"/search?q=aa&{AT}").text)
    assert page.text_of("h2", id="results-title") == "2 results"
    assert not page.find_all("nav", class_="where-tabs")


def test_online_with_a_place_lists_every_online_listing_and_says_the_place_does_not_apply(
    client: TestClient, directory: Directory
) -> None:
    api = client.get(f"/api/v1/search?near=60601&attendance=online&{AT}").json()
    assert api["total"] == 1 and [h["name"] for h in api["hits"]] == ["Daily Online Reflection"]
    assert api["sort"] == "soonest" and api["place_applies"] is False
    local = client.get(f"/api/v1/search?near=60601&{AT}").json()
    assert local["place_applies"] is True and local["online_total"] == 1
    page = parse(client.get(f"/search?near=60601&attendance=online&lang=es&{AT}").text)
    assert page.text_of("h2", id="results-title") == "1 resultado en línea"
    assert "“60601” no se aplica" in page.text_of("p", class_="where-note")
    back = page.find("a", href=lambda h: h and "attendance" not in h and "near=60601" in h and "lang=es" in h)
    assert back.text.strip() == "En persona"


def test_the_local_page_counts_online_listings_and_offers_them_as_a_filter(
    client: TestClient, directory: Directory
) -> None:
    page = parse(client.get(f"/search?near=60601&attendance=in_person&{AT}").text)
    tab = page.find("a", href=lambda h: h and "attendance=online" in h)
    assert " ".join(tab.text.split()) == "Online (1)"
    assert "radius_km" not in parse_qs(urlsplit(tab.attrs["href"]).query)
    assert page.find("input", id="f-attendance-online").attrs["name"] == "attendance"


def test_closed_listing_in_search_on_its_page_and_in_its_calendar(
    client: TestClient, directory: Directory, session: Session, meili_client: meilisearch.Client, search_index: str
) -> None:
    reopens = date.today() + timedelta(days=9)
    kitchen = closed_kitchen(session, meili_client, search_index, reopening_date=reopens)
    hits = client.get(f"/api/v1/search?near=60601&{AT}").json()["hits"]
    assert hits[-1]["name"] == "Harbor Soup Kitchen", "the nearest listing is closed: it comes after the open ones"
    assert hits[-1]["next_start"] is None and hits[-1]["in_progress"] is False and hits[-1]["distance_km"] < 0.1
    page = client.get(f"/services/{kitchen}?lang=es").text
    assert "Reabre el" in page and "Próxima" not in page
    ics = Calendar.from_ical(client.get(f"/services/{kitchen}/calendar.ics?lang=es").content)
    events = ics.walk("VEVENT")
    assert events and all(e.decoded("dtstart").date() >= reopens for e in events)
    assert "Cerrado temporalmente hasta el" in str(events[0].get("description"))


def test_closed_without_a_reopening_day_is_tentative_in_the_calendar(
    client: TestClient, directory: Directory, session: Session, meili_client: meilisearch.Client, search_index: str
) -> None:
    kitchen = closed_kitchen(session, meili_client, search_index)
    event = Calendar.from_ical(client.get(f"/services/{kitchen}/calendar.ics").content).walk("VEVENT")[0]
    assert str(event.get("status")) == "TENTATIVE"
    assert str(event.get("summary")) == "Temporarily closed: Harbor Soup Kitchen"
    assert "Call before you go" in str(event.get("description"))


def test_quick_choices_carry_the_place_in_the_url(client: TestClient) -> None:
    page = parse(client.get("/?near=60614&lang=es").text)
    assert page.find("input", name="near").attrs["value"] == "60614"
    links = [a.attrs["href"] for a in page.find_all("a", href=lambda h: h and h.startswith("/search?") and "&" in h)]
    assert len(links) == 5 and all(parse_qs(urlsplit(link).query)["near"] == ["60614"] for link in links)


def test_online_days_and_times_are_the_viewers_own(client: TestClient, directory: Directory) -> None:
    """Daily Online Reflection meets at 13:00 in New York: 12:00 for a viewer in Chicago."""

    def online(tz: str, **window: str) -> list[str]:
        query = {"near": "60601", "attendance": "online", "tz": tz, "at": MONDAY_1140_CHICAGO, **window}
        return [h["name"] for h in client.get("/api/v1/search", params=query).json()["hits"]]

    assert online("America/Chicago", time_from="12:00", time_to="12:30") == ["Daily Online Reflection"]
    assert online("America/New_York", time_from="12:00", time_to="12:30") == []
    assert online("America/New_York", time_from="13:00", time_to="13:30") == ["Daily Online Reflection"]
    # 13:00 in New York (EDT) is 02:00 the next day in Tokyo: the window crosses into the viewer's next day.
    assert online("Asia/Tokyo", day="tue", time_from="02:00", time_to="02:30") == ["Daily Online Reflection"]
