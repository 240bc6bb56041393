"""Web UI fixtures: the app wired to a real database and a real Meilisearch index holding a small,
known directory around downtown Chicago (plus one listing in Brooklyn, outside any Chicago radius)."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from html.parser import HTMLParser
from typing import Any

import meilisearch
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.app import create_app
from core.settings import Settings
from directory.listings.models import Phone, Service
from search.embedded import MeiliServer
from tests.search.conftest import make_listing, place, push, search_index, taxonomy, weekly  # noqa: F401

# A Monday in summer (CDT, UTC-5): 11:40 in Chicago, 20 minutes before the Loop Noon Group.
MONDAY_1140_CHICAGO = "2026-06-01T11:40:00-05:00"


@dataclass
class Directory:
    loop_aa: Service
    esperanza: Service
    pantry: Service
    online: Service
    shelter: Service
    rides: Service
    brooklyn: Service

    @property
    def all(self) -> list[Service]:
        return [self.loop_aa, self.esperanza, self.pantry, self.online, self.shelter, self.rides, self.brooklyn]


def build_directory(session: Session) -> Directory:
    loop_aa = make_listing(
        session,
        name="Loop Noon Group",
        kind="meeting",
        organization="Loop Alano Club",
        categories=["aa"],
        fellowship="aa",
        types=["O", "D", "X"],
        description="A friendly open discussion meeting at lunchtime.",
        places=[place(street="100 W Randolph St", accessibility=["wheelchair"])],
        schedules=[weekly("MO,TU,WE,TH,FR", "12:00", "13:00"), weekly("1SA", "10:00", "11:30", freq="MONTHLY")],
    )
    esperanza = make_listing(
        session,
        name="Grupo Esperanza",
        kind="meeting",
        organization="Distrito NA Pilsen",
        categories=["na"],
        fellowship="na",
        types=["C", "S"],
        languages=["es"],
        costs=["free"],
        places=[
            place(41.8569, -87.6597, street="1800 S Blue Island Ave", postal_code="60608", name="Iglesia San Pablo")
        ],
        schedules=[weekly("TU,TH", "19:00", "20:30")],
    )
    pantry = make_listing(
        session,
        name="Northside Food Pantry",
        organization="Northside Neighbors",
        categories=["food-pantry"],
        languages=["en", "es"],
        costs=["free"],
        capacity="waitlist",
        assured_date=date(2024, 1, 1),
        places=[place(41.9717, -87.6590, street="4600 N Broadway", postal_code="60640", name="Parish Hall")],
        schedules=[weekly("MO,WE,FR", "09:00", "17:00")],
    )
    online = make_listing(
        session,
        name="Daily Online Reflection",
        kind="meeting",
        organization="Online Intergroup",
        categories=["aa"],
        fellowship="aa",
        types=["O", "MED"],
        attendance="online",
        places=[],
        conference_url="https://meet.example.org/reflect",
        timezone="America/New_York",
        schedules=[weekly("SU,MO,TU,WE,TH,FR,SA", "13:00", "14:00")],
    )
    shelter = make_listing(
        session,
        name="Safe Haven Shelter",
        organization="Safe Haven",
        categories=["emergency-shelter"],
        places=[
            place(
                41.92,
                -87.65,
                confidential=True,
                postal_code="60614",
                secret_street="77 Hidden Lane",
                secret_point=(41.9220, -87.6520),
                name="Safe Haven House",
            )
        ],
    )
    session.add(Phone(service_id=shelter.id, number="312-555-0147"))
    session.commit()
    rides = make_listing(
        session,
        name="Recovery Rides",
        organization="Chicago Recovery Alliance",
        categories=["rides-to-treatment"],
        costs=["medicaid"],
        places=[place(41.8800, -87.6300, street="20 S Wacker Dr", postal_code="60606", name="Dispatch office")],
        schedules=[weekly("MO,TU,WE,TH,FR", "06:00", "20:00")],
    )
    brooklyn = make_listing(
        session,
        name="Brooklyn Food Bank",
        organization="Brooklyn Neighbors",
        categories=["food-bank"],
        places=[
            place(
                40.6782,
                -73.9442,
                street="1 Eastern Pkwy",
                city="Brooklyn",
                state="NY",
                postal_code="11216",
                timezone="America/New_York",
            )
        ],
        timezone="America/New_York",
        schedules=[weekly("SA", "10:00", "14:00")],
    )
    return Directory(loop_aa, esperanza, pantry, online, shelter, rides, brooklyn)


@pytest.fixture
def directory(
    session: Session,
    taxonomy: None,  # noqa: F811  (fixtures re-exported from tests/search/conftest.py)
    search_index: str,  # noqa: F811
    meili_client: meilisearch.Client,
) -> Directory:
    data = build_directory(session)
    push(meili_client, search_index, session, data.all)
    return data


@pytest.fixture
def web_app(settings: Settings, engine: Engine, meili_server: MeiliServer) -> FastAPI:
    return create_app(settings, engine=engine, meili=meili_server)


@pytest.fixture
def client(web_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(web_app) as test_client:
        yield test_client


# --- structural HTML -------------------------------------------------------------------------------


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self._open: list[Element] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_data(" ")  # tags separate words, as a browser's layout would
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.elements.append(element)
        if tag not in {"input", "meta", "link", "br", "img", "hr", "source"}:
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        self.handle_data(" ")
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i].tag == tag:
                del self._open[i:]
                break

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element.text += data


class Page:
    """A parsed HTML document: find elements by tag and attributes, read their text."""

    def __init__(self, html: str) -> None:
        collector = _Collector()
        collector.feed(html)
        self.elements = collector.elements
        self.html = html

    def find_all(self, tag: str | None = None, **attrs: Any) -> list[Element]:
        found = []
        for el in self.elements:
            if tag and el.tag != tag:
                continue
            if all(_matches(el.attrs.get(_attr(k)), v, _attr(k) == "class") for k, v in attrs.items()):
                found.append(el)
        return found

    def find(self, tag: str | None = None, **attrs: Any) -> Element:
        found = self.find_all(tag, **attrs)
        assert found, f"no <{tag or '*'}> with {attrs}"
        return found[0]

    def text_of(self, tag: str | None = None, **attrs: Any) -> str:
        return " ".join(self.find(tag, **attrs).text.split())

    @property
    def text(self) -> str:
        return " ".join(" ".join(el.text.split()) for el in self.elements[:1])


def _attr(keyword: str) -> str:
    """Python keyword to attribute name: class_ -> class, data_locate -> data-locate, for_ -> for."""
    return keyword.rstrip("_").replace("_", "-")


def _matches(actual: str | None, wanted: Any, is_class: bool = False) -> bool:
    if is_class and isinstance(wanted, str):
        return actual is not None and wanted in actual.split()
    if wanted is True:
        return actual is not None
    if wanted is None:
        return actual is None
    if callable(wanted):
        return actual is not None and bool(wanted(actual))
    return actual == wanted


def parse(html: str) -> Page:
    return Page(html)
