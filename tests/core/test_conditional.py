"""Documents served like static files: built once per data version, 304 on a conditional GET (HSDS lists)."""

import threading
import time
import uuid
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.app import create_app
from core.conditional import CurrentVersion, StaticBody, VersionedCache
from core.outbox import OutboxEvent, record_change
from core.settings import Settings
from directory.listings.service import upsert_listing
from tests.directory.hsds.support import load_sample, sample_listings

WHEN = datetime(2020, 1, 1, tzinfo=UTC)
LISTS = ["/api/hsds/services", "/api/hsds/service_at_locations?full=true", "/api/hsds/organizations"]


@pytest.fixture
def client(engine: Engine, settings: Settings, session: Session) -> TestClient:
    load_sample(session)
    return TestClient(create_app(settings, engine=engine))


@pytest.mark.parametrize("url", LISTS)
def test_an_unchanged_hsds_page_is_a_304_and_an_edit_changes_it(client: TestClient, session: Session, url: str) -> None:
    first = client.get(url)
    assert first.status_code == 200 and first.json()["contents"]
    assert "max-age" in first.headers["cache-control"] and first.headers["content-encoding"] == "gzip"
    again = client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    since = client.get(url, headers={"If-Modified-Since": first.headers["last-modified"]})
    assert since.status_code == 304

    pantry = next(listing for listing in sample_listings() if listing.key == "svc:pantry")
    renamed = pantry.organization.model_copy(update={"name": "Neighbours United"})
    upsert_listing(
        session=session, listing=pantry.model_copy(update={"name": "Pantry (renamed)", "organization": renamed})
    )
    assert "Neighbours United" in client.get(url).text or "Pantry (renamed)" in client.get(url).text
    after = client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert after.status_code == 200 and after.headers["etag"] != first.headers["etag"]


def test_other_pages_and_filters_are_other_documents(client: TestClient) -> None:
    one = client.get("/api/hsds/services?per_page=1&page=1").json()
    two = client.get("/api/hsds/services?per_page=1&page=2").json()
    assert one["contents"][0]["id"] != two["contents"][0]["id"]
    assert client.get("/api/hsds/services?search=pantry").json()["total_items"] == 1


def test_a_stale_validator_gets_the_document(client: TestClient) -> None:
    response = client.get("/api/hsds/services", headers={"If-None-Match": '"not-this-one"'})
    assert response.status_code == 200 and response.json()["contents"]
    bad_date = client.get("/api/hsds/services", headers={"If-Modified-Since": "yesterday"})
    assert bad_date.status_code == 200


def test_concurrent_requests_for_a_new_version_build_it_once() -> None:
    cache, built = VersionedCache(), []

    def build() -> StaticBody:
        built.append(1)
        time.sleep(0.2)  # a slow build: every other thread arrives meanwhile
        return StaticBody.of(b"[]", media_type="application/json", last_modified=WHEN)

    threads = [threading.Thread(target=cache.get, args=("feed", 7, build)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(built) == 1
    cache.get("feed", 8, build)  # a new data version is built again
    assert len(built) == 2


def test_while_a_new_version_builds_other_readers_get_the_previous_one() -> None:
    cache = VersionedCache()
    old = StaticBody.of(b"[1]", media_type="application/json", last_modified=WHEN)
    new = StaticBody.of(b"[1,2]", media_type="application/json", last_modified=WHEN)
    cache.get("feed", 1, lambda: old)
    building = threading.Event()

    def slow() -> StaticBody:
        building.set()
        time.sleep(0.3)
        return new

    builder = threading.Thread(target=cache.get, args=("feed", 2, slow))
    builder.start()
    building.wait(5)
    started = time.monotonic()
    assert cache.get("feed", 2, slow) is old and time.monotonic() - started < 0.2  # not kept waiting
    builder.join()
    assert cache.get("feed", 2, slow) is new


def test_the_cache_drops_the_least_recently_used_beyond_its_budget() -> None:
    cache = VersionedCache(max_items=2)
    body = StaticBody.of(b"[1]", media_type="application/json", last_modified=WHEN)
    for key in ("a", "b", "c"):
        cache.get(key, 1, lambda: body)
    rebuilt: list[str] = []

    def again() -> StaticBody:
        rebuilt.append("a")
        return body

    cache.get("c", 1, again)  # still kept
    cache.get("a", 1, again)  # dropped: the oldest
    assert rebuilt == ["a"]


def test_unknown_ids_still_404(client: TestClient) -> None:
    assert client.get(f"/api/hsds/services/{uuid.uuid4()}").status_code == 404


def test_the_data_version_is_read_again_after_a_commit_or_in_a_while(engine: Engine, session: Session) -> None:
    versions = CurrentVersion(engine, ttl=3600)
    first = versions.read()
    assert versions.known() == first  # reused: no query per request
    record_change(session, [uuid.uuid4()])
    session.commit()  # a write of this process: seen at once
    assert versions.known() is None and versions.read()[0] == first[0] + 1
    with engine.begin() as connection:  # as another process writes: not seen until the time is up
        connection.execute(insert(OutboxEvent).values(entity="service", entity_id=uuid.uuid4(), created_at=WHEN))
    assert versions.read()[0] == first[0] + 1
    assert CurrentVersion(engine, ttl=0).read()[0] == first[0] + 2
