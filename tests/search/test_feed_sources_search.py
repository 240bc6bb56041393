"""Two service bodies publish a "big-book-study": after importing both real feeds, each meeting is found
near its own ZIP code, and an online meeting's approximate place never puts it in distance results."""

import meilisearch
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from directory.listings.models import Meeting, Service
from directory.meeting_guide.importer import import_meeting_guide
from directory.sources.models import FeedSource
from tests.directory.sources.test_sources import FEEDS
from tests.support import push


def _service(session: Session, source: str, slug: str) -> Service:
    stmt = (
        select(Service)
        .join(Meeting, col(Meeting.service_id) == col(Service.id))
        .join(FeedSource, col(FeedSource.id) == col(Meeting.source_id))
        .where(col(FeedSource.code) == source, col(Meeting.source_slug) == slug)
    )
    return session.exec(stmt).one()


def _near(api: TestClient, zip_code: str) -> set[str]:
    response = api.get("/api/v1/search", params={"near": zip_code, "radius_km": 10, "per_page": 100})
    assert response.status_code == 200, response.text
    return {hit["service_id"] for hit in response.json()["hits"]}


def test_meetings_sharing_a_slug_are_found_near_their_own_zip(
    api: TestClient, session: Session, meili_client: meilisearch.Client, search_index: str
) -> None:
    for name in ("benlomond.test.json", "oc.json"):
        assert import_meeting_guide(session=session, source=FEEDS / name).ok
    ben = _service(session, "benlomond", "big-book-study")
    oc = _service(session, "oc", "big-book-study")  # 16400 Springdale St, Huntington Beach, CA 92649
    online = _service(session, "oc", "do-it-sober-zoom-7")  # online, rooted at "Orange County, CA, USA"
    push(meili_client, search_index, session, [ben, oc, online])
    assert _near(api, "95005") == {str(ben.id)}
    assert _near(api, "92649") == {str(oc.id)}
    assert ben.name == oc.name == "Big Book Study"
    everything = api.get("/api/v1/search", params={"near": "92701", "radius_km": 100}).json()
    assert str(online.id) in {h["service_id"] for h in everything["online"]}
    assert str(online.id) not in {h["service_id"] for h in everything["hits"]}
