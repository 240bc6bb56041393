"""Reindex against a real Meilisearch: complete, atomic (search never fails or comes back empty), replays edits."""

import threading
from collections.abc import Iterator
from typing import Any

import meilisearch
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

import search.reindex as reindex_module
from core.outbox import OutboxEvent, record_change
from directory.listings.models import Service
from search.client import TaskFailed, iter_documents, service_filter, wait_succeeded
from search.index_spec import filterable_names, index_name, settings_outdated
from search.reindex import ReindexCancelled, reindex
from search.runtime import build_index_if_needed
from search.sync import run_once
from tests.factories import insert_listing

pytestmark = pytest.mark.usefixtures("taxonomy")


@pytest.fixture
def cleanup(meili_client: meilisearch.Client, index_prefix: str) -> Iterator[None]:
    yield
    for uid in index_uids(meili_client, index_prefix):
        meili_client.delete_index(uid)


def index_uids(client: meilisearch.Client, prefix: str) -> list[str]:
    return sorted(i.uid for i in client.get_indexes({"limit": 1000})["results"] if i.uid.startswith(prefix))


def names(client: meilisearch.Client, uid: str, service: Service) -> list[str]:
    return [d["name"] for d in iter_documents(client, uid, filter=service_filter([service.id]))]


def listings(session: Session, count: int, name: str = "Reindex Pantry") -> list[Service]:
    return [insert_listing(session, name=f"{name} {n}") for n in range(count)]


@pytest.mark.usefixtures("cleanup")
def test_reindex_builds_a_complete_live_index_and_drops_the_old_one(
    engine: Engine, session: Session, meili_client: meilisearch.Client, index_prefix: str
) -> None:
    listings(session, 23)
    first = reindex(engine=engine, client=meili_client, prefix=index_prefix, batch_size=10)
    live = index_name(index_prefix)
    assert (first.index_uid, first.services, first.documents) == (live, 23, 23)
    assert index_uids(meili_client, index_prefix) == [live]

    listings(session, 4, name="Later Pantry")
    second = reindex(engine=engine, client=meili_client, prefix=index_prefix, batch_size=10)
    assert second.documents == 27
    assert index_uids(meili_client, index_prefix) == [live]  # the previous index was deleted
    assert meili_client.index(live).get_stats().number_of_documents == 27
    assert "service_id" in filterable_names(meili_client.index(live).get_filterable_attributes())  # settings too
    assert not settings_outdated(meili_client, live)  # `_geo`, declared after the load, included


@pytest.mark.usefixtures("cleanup")
def test_searches_keep_answering_during_reindex(
    engine: Engine, session: Session, meili_client: meilisearch.Client, index_prefix: str
) -> None:
    listings(session, 60)
    reindex(engine=engine, client=meili_client, prefix=index_prefix, batch_size=20)
    live = meili_client.index(index_name(index_prefix))
    stop, outcomes = threading.Event(), []

    def search_continuously() -> None:
        while not stop.is_set():
            try:
                outcomes.append(live.search("pantry", {"limit": 100})["estimatedTotalHits"])
            except Exception as exc:  # a failed search is what this test must never see
                outcomes.append(repr(exc))

    searcher = threading.Thread(target=search_continuously)
    searcher.start()
    try:
        for _ in range(2):
            reindex(engine=engine, client=meili_client, prefix=index_prefix, batch_size=20)
    finally:
        stop.set()
        searcher.join()
    assert len(outcomes) > 10
    assert set(outcomes) == {60}  # no error and never an empty or partial result
    assert index_uids(meili_client, index_prefix) == [index_name(index_prefix)]


@pytest.mark.usefixtures("cleanup")
def test_changes_made_during_the_load_are_replayed(
    engine: Engine,
    session: Session,
    meili_client: meilisearch.Client,
    index_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    services = sorted(listings(session, 12), key=lambda s: s.id)
    reindex(engine=engine, client=meili_client, prefix=index_prefix, batch_size=4)
    live = index_name(index_prefix)
    early, doomed = services[0], services[1]  # both in the first batch, already loaded when the edits happen
    real_documents_for = reindex_module.documents_for
    calls = {"n": 0}

    def documents_for_with_edits(session_: Session, ids: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:  # an editor and the live sync worker act while the new index loads
            with Session(engine) as editor:
                renamed = editor.get(Service, early.id)
                gone = editor.get(Service, doomed.id)
                assert renamed is not None and gone is not None
                renamed.name, gone.status = "Renamed Mid Reindex", "inactive"
                editor.add_all([renamed, gone])
                record_change(editor, [early.id, doomed.id])
                editor.commit()
            assert run_once(engine=engine, client=meili_client, index_uid=live) == 2
        return real_documents_for(session_, ids)

    monkeypatch.setattr(reindex_module, "documents_for", documents_for_with_edits)
    result = reindex(engine=engine, client=meili_client, prefix=index_prefix, batch_size=4)
    assert result.replayed == 2
    assert names(meili_client, live, early) == ["Renamed Mid Reindex"]
    assert names(meili_client, live, doomed) == []
    assert meili_client.index(live).get_stats().number_of_documents == 11
    pending = session.exec(select(OutboxEvent).where(col(OutboxEvent.processed_at).is_(None))).all()
    assert pending == []


@pytest.mark.usefixtures("cleanup")
def test_rows_pending_at_the_start_are_superseded_by_the_new_index(
    engine: Engine, session: Session, meili_client: meilisearch.Client, index_prefix: str
) -> None:
    services = listings(session, 5)
    record_change(session, [s.id for s in services])
    session.commit()
    result = reindex(engine=engine, client=meili_client, prefix=index_prefix)
    assert (result.superseded, result.replayed) == (5, 0)  # visible at the start: no replay needed
    rows = session.exec(select(OutboxEvent)).all()
    assert all(r.processed_at is not None for r in rows)
    assert meili_client.index(index_name(index_prefix)).get_stats().number_of_documents == 5


@pytest.mark.usefixtures("cleanup")
def test_a_failed_batch_leaves_the_live_index_untouched(
    engine: Engine,
    session: Session,
    meili_client: meilisearch.Client,
    index_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = listings(session, 3)
    reindex(engine=engine, client=meili_client, prefix=index_prefix)
    listings(session, 3, name="Never Indexed")
    real_documents_for = reindex_module.documents_for

    def broken(session_: Session, ids: Any) -> Any:
        docs, current = real_documents_for(session_, ids)
        return [*docs, {"id": "not a valid id!", "service_id": "x"}], current

    monkeypatch.setattr(reindex_module, "documents_for", broken)
    with pytest.raises(TaskFailed, match="not a valid id"):
        reindex(engine=engine, client=meili_client, prefix=index_prefix)
    live = index_name(index_prefix)
    assert index_uids(meili_client, index_prefix) == [live]  # the half-built index is gone
    assert meili_client.index(live).get_stats().number_of_documents == 3
    assert names(meili_client, live, original[0]) == [original[0].name]


@pytest.mark.usefixtures("cleanup")
def test_a_cancelled_reindex_cleans_up(
    engine: Engine, session: Session, meili_client: meilisearch.Client, index_prefix: str
) -> None:
    listings(session, 3)
    stop = threading.Event()
    stop.set()
    with pytest.raises(ReindexCancelled):
        reindex(engine=engine, client=meili_client, prefix=index_prefix, stop=stop)
    assert index_uids(meili_client, index_prefix) == []


@pytest.mark.usefixtures("cleanup")
def test_documents_can_be_built_in_worker_processes(
    engine: Engine, session: Session, meili_client: meilisearch.Client, index_prefix: str
) -> None:
    services = listings(session, 9, name="Parallel Pantry")
    result = reindex(engine=engine, client=meili_client, prefix=index_prefix, batch_size=2, workers=2)
    live = index_name(index_prefix)
    assert (result.services, result.documents) == (9, 9)
    assert meili_client.index(live).get_stats().number_of_documents == 9
    assert names(meili_client, live, services[4]) == [services[4].name]


def test_payloads_split_on_line_ends_under_the_limit() -> None:
    body = b"".join(b'{"id":"%d","pad":"%s"}\n' % (n, b"x" * n) for n in range(40))
    parts = list(reindex_module._payloads(body, limit=200))
    assert b"".join(parts) == body
    assert all(len(p) <= 200 and p.endswith(b"\n") for p in parts) and len(parts) > 5


@pytest.mark.usefixtures("cleanup")
def test_startup_rebuilds_an_index_left_by_an_older_version(
    engine: Engine, session: Session, meili_client: meilisearch.Client, index_prefix: str
) -> None:
    service = insert_listing(session, name="Upgrade Pantry")
    live = index_name(index_prefix)
    # What an older release left: other filterable fields, and documents in the old shape.
    wait_succeeded(meili_client, meili_client.create_index(live, {"primaryKey": "id"}).task_uid)
    old = meili_client.index(live)
    wait_succeeded(meili_client, old.update_filterable_attributes(["open_buckets", "service_id"]).task_uid)
    wait_succeeded(meili_client, old.add_documents([{"id": "old-shape", "name": "Old", "open_buckets": [1]}]).task_uid)
    assert settings_outdated(meili_client, live)

    assert build_index_if_needed(engine=engine, client=meili_client, prefix=index_prefix) is True
    assert not settings_outdated(meili_client, live)
    assert names(meili_client, live, service) == ["Upgrade Pantry"]
    assert meili_client.index(live).get_stats().number_of_documents == 1  # the old document is gone
    assert build_index_if_needed(engine=engine, client=meili_client, prefix=index_prefix) is False  # up to date
