"""Document builders: one document per place or per online-only service, public data only."""

import json
import re
import uuid

import meilisearch
import pytest
from sqlmodel import Session, col, select

from directory.listings.models import Service, ServiceAtLocation
from directory.listings.queries import load_listings
from search.documents import build_documents, documents_for
from search.index_spec import (
    INDEX_SETTINGS,
    IndexTaskFailed,
    apply_settings,
    settings_outdated,
    wait_for_success,
)
from seed_data.load import load_curated
from tests.factories import insert_listing, place, weekly
from tests.support import chicago_map, prefix_of

MEILI_ID = re.compile(r"^[a-zA-Z0-9_-]{1,511}$")


def docs_of(session: Session, service_id: uuid.UUID) -> list[dict]:
    return build_documents(load_listings(session, [service_id])[0])


def test_in_person_meeting_has_one_document_per_place(session: Session, taxonomy: None) -> None:
    meeting = insert_listing(
        session, kind="meeting", fellowship="aa", categories=[], types=["O", "BE"], languages=["en", "es"],
        places=[place(), place(41.95, -87.65, street="4000 N Broadway", accessibility=["wheelchair"])],
        schedules=[weekly("MO,TH", "19:00", "20:00")],
    )  # fmt: skip
    docs = docs_of(session, meeting.id)
    sal_ids = {
        str(s.id) for s in session.exec(select(ServiceAtLocation).where(ServiceAtLocation.service_id == meeting.id))
    }
    assert {d["id"] for d in docs} == sal_ids and len(docs) == 2
    for doc in docs:
        assert MEILI_ID.match(doc["id"])
        assert doc["service_id"] == str(meeting.id) and doc["kind"] == "meeting"
        assert doc["categories"] == ["aa", "support-groups"]  # the fellowship's category, with its ancestors
        assert doc["fellowship"] == "aa" and doc["fellowship_name"] == "Alcoholics Anonymous"
        assert doc["types"] == ["O", "BE"] and doc["languages"] == ["en", "es"]
        assert doc["attendance"] == "in_person" and doc["timezone"] == "America/Chicago"
        assert doc["days"] == [1, 4] and doc["slots"][0] == [1, "19:00", "20:00", 0, None, None]
        assert doc["url"] == f"/services/{meeting.id}"
    broadway = next(d for d in docs if d["address"]["street"] == "4000 N Broadway")
    assert broadway["_geo"] == {"lat": 41.95, "lng": -87.65} and broadway["accessibility"] == ["wheelchair"]


def test_categories_carry_their_ancestors(session: Session, taxonomy: None) -> None:
    clinic = insert_listing(session, categories=["buprenorphine", "food-bank"], costs=["medicaid", "sliding_scale"])
    (doc,) = docs_of(session, clinic.id)
    assert doc["categories"] == ["buprenorphine", "mat", "treatment", "food-bank", "food"]
    assert doc["broader_category_names"][0] == "Medication for opioid use disorder (MOUD/MAT)"
    assert set(doc["category_names"]) == {"Buprenorphine (Suboxone)", "Food bank"}
    assert doc["cost"] == ["medicaid", "sliding_scale"] and doc["kind"] == "service"


def test_online_meeting_is_one_document_without_a_point(session: Session, taxonomy: None) -> None:
    online = insert_listing(
        session,
        kind="meeting",
        fellowship="na",
        attendance="online",
        places=[],
        conference_url="https://zoom.example/j/1",
        schedules=[weekly("SU", "12:00")],
    )
    (doc,) = docs_of(session, online.id)
    assert doc["id"] == str(online.id) and doc["attendance"] == "online"
    assert "_geo" not in doc and doc["address"] is None and doc["lat"] is None


def test_service_without_a_place_is_online(session: Session, taxonomy: None) -> None:
    hotline = insert_listing(session, categories=["crisis-services"], places=[])
    (doc,) = docs_of(session, hotline.id)
    assert doc["id"] == str(hotline.id) and doc["attendance"] == "online" and doc["has_schedule"] is False


def test_hybrid_meeting_is_indexed_at_its_place(session: Session, taxonomy: None) -> None:
    hybrid = insert_listing(session, kind="meeting", attendance="hybrid", conference_url="https://zoom.example/j/2")
    (doc,) = docs_of(session, hybrid.id)
    assert doc["attendance"] == "hybrid" and "_geo" in doc and doc["id"] != str(hybrid.id)


@pytest.mark.parametrize("point", [(None, None), (0.0, 0.0)], ids=["no-point", "null-island"])
def test_no_geo_without_a_valid_point(session: Session, taxonomy: None, point: tuple) -> None:
    listing = insert_listing(session, places=[place(*point)])
    (doc,) = docs_of(session, listing.id)
    assert "_geo" not in doc and doc["lat"] is None and doc["address"]["city"] == "Chicago"


def test_confidential_location_has_no_street_and_only_a_coarse_point(session: Session, taxonomy: None) -> None:
    shelter = insert_listing(session, name="Safe Harbor Shelter", categories=["emergency-shelter"], places=[place(
        41.886, -87.6181, name="Safe Harbor House", confidential=True, secret_street="742 Evergreen Hideaway",
        secret_point=(41.912345, -87.654321),
    )])  # fmt: skip
    (doc,) = docs_of(session, shelter.id)
    assert doc["address"] == {"street": None, "city": "Chicago", "state": "IL", "postal_code": "60601"}
    assert doc["_geo"] == {"lat": 41.89, "lng": -87.62} and doc["approximate"] and doc["confidential"]
    assert doc["location_name"] is None
    text = json.dumps(doc)
    for secret in ("Evergreen", "41.912345", "-87.654321", "Safe Harbor House"):
        assert secret not in text


@pytest.mark.parametrize("status", ["inactive", "defunct"])
def test_hidden_statuses_have_no_documents(session: Session, taxonomy: None, status: str) -> None:
    gone = insert_listing(session, status=status)
    kept = insert_listing(session, status="temporarily closed")
    missing = uuid.uuid4()
    docs, ids = documents_for(session, [gone.id, kept.id, missing])
    assert ids[gone.id] == [] and ids[missing] == []
    assert len(ids[kept.id]) == 1 and [d["id"] for d in docs] == ids[kept.id]
    assert docs[0]["status"] == "temporarily closed"


def test_inactive_meeting_has_no_documents(session: Session, taxonomy: None) -> None:
    meeting = insert_listing(session, kind="meeting", attendance="inactive")
    assert docs_of(session, meeting.id) == []


def test_documents_for_maps_every_service_to_its_document_ids(session: Session, taxonomy: None) -> None:
    two = insert_listing(session, places=[place(), place(41.9, -87.7)])
    one = insert_listing(session)
    docs, ids = documents_for(session, [two.id, one.id, two.id])
    assert len(docs) == 3 and len(ids[two.id]) == 2 and len(ids[one.id]) == 1
    assert {d["id"] for d in docs} == set(ids[two.id]) | set(ids[one.id])


def test_apply_settings_is_idempotent_and_sets_the_primary_key(
    meili_client: meilisearch.Client, search_index: str
) -> None:
    apply_settings(meili_client, search_index)  # a second time: no error, same settings
    live = meili_client.index(search_index).get_settings()
    assert meili_client.get_index(search_index).primary_key == "id"
    assert live["filterableAttributes"] == INDEX_SETTINGS["filterableAttributes"]
    assert not settings_outdated(meili_client, search_index)
    assert live["synonyms"]["suboxone"] and live["pagination"]["maxTotalHits"] == 10_000


def test_a_failed_task_raises(meili_client: meilisearch.Client, search_index: str) -> None:
    # A regional shard: it keeps `_geo` in its settings, so Meilisearch rejects a malformed point there
    # (the flat index of the sharded layout has no `_geo` and would accept it).
    shard = chicago_map(prefix_of(search_index)).shards[0].uid
    task = meili_client.index(shard).add_documents([{"id": "bad", "_geo": {"lat": "north", "lng": 1}}])
    with pytest.raises(IndexTaskFailed, match="failed"):
        wait_for_success(meili_client, task.task_uid)


def test_the_fast_loader_builds_the_same_documents_as_the_page_read_model(session: Session) -> None:
    """Reindex and sync read Core rows (`search.source`); pages read ORM objects. Both must agree exactly."""
    load_curated(session=session)
    ids = list(session.exec(select(Service.id).order_by(col(Service.id))).all())
    fast, _ = documents_for(session, ids)
    from_pages = [doc for listing in load_listings(session, ids) for doc in build_documents(listing)]
    assert len(fast) > 40 and fast == from_pages
    kinds = {(d["kind"], d["attendance"], d["confidential"]) for d in fast}
    assert {("meeting", "online", False), ("meeting", "hybrid", False), ("service", "in_person", True)} <= kinds
    assert any(d["open_blocks"] for d in fast) and any(d["categories"] for d in fast)
