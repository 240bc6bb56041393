"""The served Meeting Guide feeds: one per fellowship with an index, online areas, and static-file serving."""

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, update

from core.app import create_app
from core.settings import Settings
from directory.listings.models import Location, Service
from directory.listings.schemas import OrganizationIn
from directory.listings.service import upsert_listing
from directory.meeting_guide.importer import import_meeting_guide
from directory.meeting_guide.reader import validate_feed
from tests.directory.hsds.support import load_sample, sample_listings

BASE = "https://directory.example.org"


@pytest.fixture
def client(engine: Engine, settings: Settings, session: Session) -> TestClient:
    load_sample(session)
    return TestClient(create_app(settings.model_copy(update={"base_url": BASE}), engine=engine))


def _online(key: str, fellowship: str, **changes: Any) -> Any:
    base = next(listing for listing in sample_listings() if listing.key == "mtg:online-step")
    assert base.meeting is not None
    meeting = base.meeting.model_copy(update={"fellowship": fellowship, "slug": key.replace(":", "-")})
    return base.model_copy(update={"key": key, "name": key, "meeting": meeting, **changes})


def _entries(client: TestClient, url: str) -> dict[str, dict[str, Any]]:
    response = client.get(url)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    return {entry["slug"]: entry for entry in response.json()}


def test_one_feed_per_fellowship_listed_in_the_index(client: TestClient, session: Session) -> None:
    upsert_listing(session=session, listing=_online("na:online", "na", categories=["na"]))
    index = client.get("/api/meeting-guide/").json()
    feeds = {feed["fellowship"]: feed for feed in index["feeds"]}
    assert set(feeds) == {"aa", "na"}  # only fellowships that have meetings
    assert feeds["na"]["url"] == f"{BASE}/api/meeting-guide/na.json" and feeds["na"]["meetings"] == 1
    assert feeds["aa"]["meetings"] == 3 and index["all_fellowships"]["url"] == f"{BASE}/api/meeting-guide.json"
    na = _entries(client, "/api/meeting-guide/na.json")
    assert set(na) == {"na-online"}
    aa = _entries(client, "/api/meeting-guide/aa.json")
    assert "na-online" not in aa and "sunrise-group" in aa and validate_feed(list(aa.values())) == []
    assert set(_entries(client, "/api/meeting-guide.json")) == set(aa) | set(na)
    assert client.get("/api/meeting-guide/ga.json").json() == []  # a known fellowship without meetings
    missing = client.get("/api/meeting-guide/nonsense.json")
    assert missing.status_code == 404 and "/api/meeting-guide/" in missing.json()["detail"]


def test_an_online_meeting_gives_its_own_area_else_its_time_zone_city(client: TestClient, session: Session) -> None:
    upsert_listing(session=session, listing=_online("aa:springfield", "aa", service_area="Springfield, MO"))
    nowhere = OrganizationIn(key="org:nowhere", name="Anywhere Online Group")
    upsert_listing(session=session, listing=_online("aa:nowhere", "aa", organization=nowhere))
    feed = _entries(client, "/api/meeting-guide/aa.json")
    own = feed["aa-springfield"]
    assert (own["city"], own["state"], own["approximate"]) == ("Springfield", "MO", "yes")
    assert own["regions"] == ["Missouri", "Springfield"] and "latitude" not in own and "address" not in own
    zone = feed["aa-nowhere"]  # no area, no place: the city its time zone (America/New_York) is named after
    assert (zone["city"], zone["state"], zone["regions"]) == ("New York", "NY", ["New York", "New York"])
    assert all(entry.get("city") and entry.get("timezone") and entry.get("regions") for entry in feed.values())


def test_every_entry_has_one_day_and_an_absolute_url(client: TestClient) -> None:
    feed = client.get("/api/meeting-guide.json").json()
    assert feed and all(isinstance(entry["day"], int) for entry in feed)
    assert all(entry["url"].startswith(f"{BASE}/services/") for entry in feed)
    assert len({entry["slug"] for entry in feed}) == len(feed)


def test_an_unchanged_feed_is_a_304_and_an_edit_changes_its_etag(client: TestClient, session: Session) -> None:
    first = client.get("/api/meeting-guide/aa.json")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert "max-age" in first.headers["cache-control"] and first.headers["content-encoding"] == "gzip"
    again = client.get("/api/meeting-guide/aa.json", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    since = client.get("/api/meeting-guide/aa.json", headers={"If-Modified-Since": modified})
    assert since.status_code == 304
    before = {e["slug"]: e["updated"] for e in first.json()}

    sunrise = next(listing for listing in sample_listings() if listing.key == "mtg:sunrise")
    upsert_listing(session=session, listing=sunrise.model_copy(update={"name": "Sunrise Group (renamed)"}))
    after = client.get("/api/meeting-guide/aa.json", headers={"If-None-Match": etag})
    assert after.status_code == 200 and after.headers["etag"] != etag
    entries = {e["slug"]: e for e in after.json()}
    assert entries["sunrise-group"]["name"] == "Sunrise Group (renamed)"
    # `updated` is each meeting's own last change: only the edited meeting's moved.
    assert entries["sunrise-group"]["updated"] >= before["sunrise-group"]
    assert entries["mtg-hybrid"]["updated"] == before["mtg-hybrid"]


def test_the_feed_is_sent_gzipped_once_or_plain(client: TestClient) -> None:
    plain = client.get("/api/meeting-guide.json", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and "Accept-Encoding" in plain.headers["vary"]
    with client.stream("GET", "/api/meeting-guide.json", headers={"Accept-Encoding": "gzip"}) as zipped:
        assert zipped.headers["content-encoding"] == "gzip" and zipped.headers["etag"] == plain.headers["etag"]
        wire = b"".join(zipped.iter_raw())
    assert len(wire) < len(plain.content) and gzip.decompress(wire) == plain.content


def test_a_schedule_change_moves_only_that_meetings_updated(client: TestClient, session: Session) -> None:
    for table in (Service, Location):  # a meeting's last change is its own or its place's
        session.exec(update(table).values(last_modified=datetime(2020, 1, 1, tzinfo=UTC)))
    session.commit()
    before = _entries(client, "/api/meeting-guide.json")
    assert {entry["updated"] for entry in before.values()} == {"2020-01-01 00:00:00"}
    hybrid = next(listing for listing in sample_listings() if listing.key == "mtg:hybrid")
    moved = hybrid.model_copy(update={"schedules": [s.model_copy(update={"byday": ["FR"]}) for s in hybrid.schedules]})
    upsert_listing(session=session, listing=moved)
    after = _entries(client, "/api/meeting-guide.json")
    assert after["mtg-hybrid"]["day"] == 5 and "mtg-hybrid-we" not in after
    assert after["mtg-hybrid"]["updated"] > "2020-01-01 00:00:00"
    assert after["sunrise-group"]["updated"] == "2020-01-01 00:00:00"


def test_an_imported_online_meeting_keeps_its_area(client: TestClient, engine: Engine, tmp_path: Path) -> None:
    online = {"name": "Zoom Serenity", "slug": "zoom-serenity", "day": 2, "time": "19:00", "approximate": "yes",
              "timezone": "America/Chicago", "formatted_address": "Springfield, MO, USA",
              "conference_url": "https://zoom.us/j/5550100"}  # fmt: skip
    source = tmp_path / "feed.json"
    source.write_text(json.dumps([online]))
    assert import_meeting_guide(engine=engine, source=source).ok
    entry = _entries(client, "/api/meeting-guide/aa.json")["zoom-serenity"]
    assert (entry["city"], entry["state"], entry["approximate"]) == ("Springfield", "MO", "yes")
    assert entry["formatted_address"] == "Springfield, MO, USA" and "address" not in entry
