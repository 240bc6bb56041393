"""The Meeting Guide feed (GET /api/meeting-guide.json) and the feed validator."""

import re
import uuid
from datetime import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.app import create_app
from core.settings import Settings
from directory.listings.models import Attendance, ServiceStatus
from directory.listings.schemas import AddressIn, ConfidentialAddressIn, ListingIn, LocationIn, MeetingIn, ScheduleIn
from directory.listings.service import upsert_listing
from directory.meeting_guide.reader import validate_feed
from tests.directory.hsds.support import load_sample, sample_listings

BASE = "https://directory.example.org"


@pytest.fixture
def sample(session: Session) -> list[uuid.UUID]:
    return load_sample(session)


@pytest.fixture
def client(engine: Engine, settings: Settings, sample: list[uuid.UUID]) -> TestClient:
    return TestClient(create_app(settings.model_copy(update={"base_url": BASE}), engine=engine))


def _feed(client: TestClient) -> dict[str, dict[str, Any]]:
    response = client.get("/api/meeting-guide.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    return {entry["slug"]: entry for entry in response.json()}


def _meeting(key: str, **changes: Any) -> ListingIn:
    base = next(listing for listing in sample_listings() if listing.key == "mtg:sunrise")
    return base.model_copy(update={"key": key, "name": key, **changes})


def test_feed_has_every_active_meeting_and_passes_the_validator(client: TestClient, session: Session) -> None:
    gone = _meeting("mtg:gone", status=ServiceStatus.inactive, meeting=MeetingIn(fellowship="aa", slug="gone-group"))
    upsert_listing(session=session, listing=gone)
    feed = _feed(client)
    # not inactive, not services; one entry per weekday
    assert set(feed) == {"sunrise-group", "sunrise-group-sa", "mtg-online-step", "mtg-hybrid", "mtg-hybrid-we"}
    assert validate_feed(list(feed.values())) == []


def test_in_person_entry(client: TestClient, sample: list[uuid.UUID]) -> None:
    sunrise = _feed(client)["sunrise-group"]
    assert sunrise["day"] == 0 and sunrise["time"] == "07:00" and sunrise["end_time"] == "08:00"
    saturday = _feed(client)["sunrise-group-sa"]
    assert (saturday["day"], saturday["time"], saturday["name"]) == (6, "07:00", sunrise["name"])
    assert sunrise["regions"] == ["Chicago"]  # every sample meeting is in Illinois: the format leaves it out
    assert sunrise["timezone"] == "America/Chicago"
    assert sunrise["types"] == ["O", "D", "X"]
    assert sunrise["location"] == "St. Mark's Church"
    assert sunrise["formatted_address"] == "100 N Michigan Ave, Chicago, IL 60601, US"
    assert (sunrise["city"], sunrise["state"], sunrise["postal_code"]) == ("Chicago", "IL", "60601")
    assert (sunrise["latitude"], sunrise["longitude"], sunrise["approximate"]) == (41.8864, -87.6186, "no")
    assert sunrise["group"] == "Sunrise Group" and sunrise["location_notes"] == "Use the side door."
    assert sunrise["notes"] == "Open discussion meeting."
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", sunrise["updated"])
    assert sunrise["url"].startswith(f"{BASE}/services/") and uuid.UUID(sunrise["url"].rsplit("/", 1)[1])
    assert sunrise["entity"] == "Central Office" and sunrise["entity_url"] == "https://central.example.org"
    assert sunrise["entity_email"] == "info@central.example.org"


def test_online_entry_is_approximate_without_a_street(client: TestClient) -> None:
    online = _feed(client)["mtg-online-step"]
    assert online["approximate"] == "yes"
    assert not {"address", "latitude", "longitude", "location"} & set(online)
    # No area of its own: the city of its organization's place (Central Office, Chicago) stands in.
    assert (online["city"], online["state"], online["formatted_address"]) == ("Chicago", "IL", "Chicago, IL, USA")
    assert online["regions"] == ["Chicago"]
    assert online["day"] == 2 and online["timezone"] == "America/New_York"
    assert online["conference_url"] == "https://zoom.us/j/123456789"
    assert online["conference_url_notes"] == "Password: hope" and online["conference_phone"].startswith("+1646")
    hybrid = _feed(client)["mtg-hybrid"]
    assert hybrid["approximate"] == "no" and hybrid["conference_url"] and hybrid["address"]


def test_one_entry_per_start_time(client: TestClient, session: Session) -> None:
    twice = [ScheduleIn(byday=["MO"], opens_at=time(12, 0)), ScheduleIn(byday=["SA"], opens_at=time(9, 30))]
    upsert_listing(session=session, listing=_meeting("mtg:twice", schedules=twice,
                                                     meeting=MeetingIn(fellowship="aa", slug="twice")))  # fmt: skip
    feed = _feed(client)
    assert (feed["twice"]["day"], feed["twice"]["time"]) == (6, "09:30")  # the earliest keeps the slug
    assert (feed["twice-1200"]["day"], feed["twice-1200"]["time"]) == (1, "12:00")
    assert validate_feed(list(feed.values())) == []


def test_a_confidential_place_shows_no_street(client: TestClient, session: Session) -> None:
    hidden = LocationIn(
        key="loc:hidden",
        name="Secret Room",
        address=AddressIn(city="Chicago", state_province="IL", postal_code="60614"),
        confidential_address=ConfidentialAddressIn(address_1="9 Quiet Ct"),
    )
    upsert_listing(session=session, listing=_meeting("mtg:hidden", locations=[hidden],
                                                     meeting=MeetingIn(fellowship="aa", slug="hidden")))  # fmt: skip
    entry = _feed(client)["hidden"]
    assert "9 Quiet Ct" not in str(entry) and "Secret Room" not in str(entry)
    assert entry["approximate"] == "yes" and entry["formatted_address"] == "Chicago, IL 60614, US"
    assert round(entry["latitude"], 2) == entry["latitude"]


def test_a_street_placed_only_roughly_is_still_a_place_to_go(client: TestClient, session: Session) -> None:
    street = LocationIn(
        key="loc:rough", name="Hall", latitude=41.88, longitude=-87.63, coordinates_approximate=True,
        address=AddressIn(address_1="5 Elm St", city="Chicago", state_province="IL", postal_code="60601"),
    )  # fmt: skip
    upsert_listing(session=session, listing=_meeting("mtg:rough", locations=[street],
                                                     meeting=MeetingIn(fellowship="aa", slug="rough")))  # fmt: skip
    entry = _feed(client)["rough"]
    # A street is specific (TSML UI would list an "approximate" in-person meeting as inactive); its rough
    # point is left out, so clients place the street instead of pinning the ZIP's centre.
    assert entry["approximate"] == "no" and entry["address"] == "5 Elm St"
    assert "latitude" not in entry and "longitude" not in entry


def test_a_meeting_with_nowhere_to_go_is_not_served(client: TestClient, session: Session) -> None:
    before = client.get("/api/meeting-guide/").json()["feeds"]
    town = LocationIn(
        key="loc:town", latitude=39.95, longitude=-75.16, coordinates_approximate=True,
        address=AddressIn(city="Philadelphia", state_province="PA", postal_code="19107"),
    )  # fmt: skip
    upsert_listing(session=session, listing=_meeting("mtg:town", locations=[town],
                                                     meeting=MeetingIn(fellowship="aa", slug="town")))  # fmt: skip
    # In person, no street, no link: the format asks in-person meetings for a specific address.
    assert "town" not in _feed(client)
    assert client.get("/api/meeting-guide/").json()["feeds"] == before
    joinable = MeetingIn(fellowship="aa", slug="town", attendance_mode=Attendance.hybrid,
                         conference_url="https://zoom.us/j/555")  # fmt: skip
    town_online = _meeting("mtg:town", locations=[town], meeting=joinable)
    upsert_listing(session=session, listing=town_online)
    assert _feed(client)["town"]["approximate"] == "yes"  # with a link it is served, rooted in its town


VALID = {"name": "Sunrise", "slug": "sunrise", "day": 1, "time": "07:00", "timezone": "America/Chicago"}
# A row that cannot be a meeting: an error (the importer skips that row, or refuses the feed when strict).
INVALID = [
    ({"name": ""}, "name"),
    ({"slug": None}, "slug"),
    ({"slug": True}, "slug"),
    ({"day": 7}, "day"),
    ({"day": [1, "x"]}, "day"),
    ({"time": "24:00"}, "time"),
    ({"time": "lunchtime"}, "time"),
    ({"time": None}, "time"),
]
# Read as the prose and real feeds have it, with a warning: the slip is read, or the one field ignored.
READ_WITH_WARNING = [
    ({"day": [1, "2"]}, "day"),
    ({"time": "7:00"}, "time"),
    ({"time": "7:00 PM"}, "time"),
    ({"end_time": "8pm"}, "end_time"),
    ({"timezone": "Central"}, "timezone"),
    ({"types": ["O", "ZZ"]}, "types"),
    ({"types": "O"}, "types"),
    ({"latitude": 91, "longitude": 0}, "latitude"),
    ({"latitude": 41.9}, "latitude"),
    ({"longitude": "east", "latitude": 1}, "longitude"),
    ({"approximate": "maybe"}, "approximate"),
    ({"conference_url": "zoom.us/j/1"}, "conference_url"),
    ({"conference_url": "ftp://x.org"}, "conference_url"),
    ({"conference_url": "http://x.org/j/1"}, "conference_url"),
    ({"updated": "yesterday"}, "updated"),
    ({"notes": ["a", "list"]}, "notes"),
]
# Fine as the prose allows: integer slugs, empty strings as absent, numbers in text fields.
ALLOWED = [{"slug": 254}, {"conference_url": ""}, {"postal_code": 64113}, {"day": [1, 3]},
           {"updated": "8/28/2021"}, {"types": ["o", "D"]}]  # fmt: skip


@pytest.mark.parametrize(("change", "field"), INVALID, ids=[f"{f}:{c}" for c, f in INVALID])
def test_validator_names_the_row_and_field(change: dict[str, Any], field: str) -> None:
    assert validate_feed([VALID]) == []
    problems = validate_feed([VALID, {**VALID, "slug": "other", **change}])
    assert [(p.row, p.field) for p in problems if p.severity == "error"] == [(2, field)]


@pytest.mark.parametrize(("change", "field"), READ_WITH_WARNING, ids=[f"{f}:{c}" for c, f in READ_WITH_WARNING])
def test_validator_reads_slips_with_a_warning(change: dict[str, Any], field: str) -> None:
    problems = validate_feed([VALID, {**VALID, "slug": "other", **change}])
    assert [(p.row, p.field, p.severity) for p in problems] == [(2, field, "warning")]


@pytest.mark.parametrize("change", ALLOWED, ids=[str(c) for c in ALLOWED])
def test_validator_allows_what_the_prose_allows(change: dict[str, Any]) -> None:
    assert validate_feed([VALID, {**VALID, "slug": "other", **change}]) == []


def test_validator_checks_the_feed_as_a_whole() -> None:
    assert validate_feed({"meetings": []})[0].message.startswith("a Meeting Guide feed is a JSON array")
    duplicate = validate_feed([VALID, dict(VALID)])
    assert [(p.row, p.field) for p in duplicate] == [(2, "slug")]
    legacy = validate_feed([{**VALID, "types": ["ONL"]}])
    assert [p.severity for p in legacy] == ["warning"]
    assert validate_feed([{"name": "By appointment", "slug": "appt"}]) == []  # day and time are optional
