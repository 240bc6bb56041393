"""Outbox sync against a real Meilisearch: edits reach the index, claims never overlap, outages lose nothing."""

import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import meilisearch
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, delete, select

from core.app import create_app
from core.outbox import OutboxEvent, record_change
from core.settings import Settings
from directory.listings.models import Service, ServiceAtLocation
from search.client import client_for, iter_documents, service_filter
from search.embedded import MeiliServer, start_embedded
from search.index_spec import index_name
from search.layout import Indexes
from search.sync import SyncWorker, backoff_seconds, claim, run_once, sync_batch
from tests.factories import insert_listing, place
from tests.support import chicago_map, drop_layout, install_layout

pytestmark = pytest.mark.usefixtures("taxonomy")


def enqueue(session: Session, *services: Service) -> None:
    record_change(session, [s.id for s in services])
    session.commit()


def rename(session: Session, service: Service, name: str) -> None:
    service.name = name
    session.add(service)
    enqueue(session, service)


def docs_of(client: meilisearch.Client, uid: str, service: Service) -> list[dict[str, Any]]:
    return list(iter_documents(client, uid, filter=service_filter([service.id])))


def outbox(session: Session) -> list[OutboxEvent]:
    session.expire_all()
    return list(session.exec(select(OutboxEvent).order_by(col(OutboxEvent.id))).all())


def all_processed(engine: Engine) -> bool:
    with Session(engine) as s:
        return s.exec(select(OutboxEvent.id).where(col(OutboxEvent.processed_at).is_(None))).first() is None


def wait_until(predicate: Callable[[], bool], timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_an_edit_replaces_the_document(
    engine: Engine, session: Session, meili_client: meilisearch.Client, search_index: str, search_indexes: Indexes
) -> None:
    service = insert_listing(session, name="Harbor Food Pantry")
    enqueue(session, service)
    assert run_once(engine=engine, indexes=search_indexes) == 1
    rename(session, service, "Lighthouse Food Pantry")
    assert run_once(engine=engine, indexes=search_indexes) == 1

    index = meili_client.index(search_index)
    assert [h["service_id"] for h in index.search("Lighthouse")["hits"]] == [str(service.id)]
    assert index.search("Harbor")["hits"] == []
    assert all(row.processed_at is not None and row.attempts == 0 for row in outbox(session))


def test_rows_of_one_service_are_coalesced_into_one_document(
    engine: Engine, session: Session, meili_client: meilisearch.Client, search_index: str, search_indexes: Indexes
) -> None:
    service = insert_listing(session)
    for _ in range(4):
        enqueue(session, service)
    assert run_once(engine=engine, indexes=search_indexes) == 4
    assert len(docs_of(meili_client, search_index, service)) == 1


@pytest.mark.parametrize("status", ["inactive", "defunct"])
def test_a_deactivated_listing_disappears(
    engine: Engine,
    session: Session,
    meili_client: meilisearch.Client,
    search_index: str,
    search_indexes: Indexes,
    status: str,
) -> None:
    gone, kept = insert_listing(session, name="Closing Pantry"), insert_listing(session, name="Staying Pantry")
    enqueue(session, gone, kept)
    run_once(engine=engine, indexes=search_indexes)
    assert docs_of(meili_client, search_index, gone)

    gone.status = status
    session.add(gone)
    enqueue(session, gone)
    assert run_once(engine=engine, indexes=search_indexes) == 1
    assert docs_of(meili_client, search_index, gone) == []
    assert len(docs_of(meili_client, search_index, kept)) == 1


def test_a_deleted_listing_and_a_removed_location_disappear(
    engine: Engine, session: Session, meili_client: meilisearch.Client, search_index: str, search_indexes: Indexes
) -> None:
    two_sites = insert_listing(session, places=[place(), place(41.9, -87.7, street="2 Elm St")])
    doomed = insert_listing(session)
    enqueue(session, two_sites, doomed)
    run_once(engine=engine, indexes=search_indexes)
    assert len(docs_of(meili_client, search_index, two_sites)) == 2

    first_site = session.exec(select(ServiceAtLocation).where(ServiceAtLocation.service_id == two_sites.id)).first()
    assert first_site is not None
    session.delete(first_site)
    session.exec(delete(ServiceAtLocation).where(col(ServiceAtLocation.service_id) == doomed.id))
    session.delete(doomed)
    enqueue(session, two_sites, doomed)
    assert run_once(engine=engine, indexes=search_indexes) == 2
    remaining = docs_of(meili_client, search_index, two_sites)
    assert [d["id"] for d in remaining] != [str(first_site.id)] and len(remaining) == 1
    assert docs_of(meili_client, search_index, doomed) == []


def test_a_failed_task_keeps_rows_pending_with_the_error(
    engine: Engine,
    session: Session,
    meili_client: meilisearch.Client,
    search_index: str,
    search_indexes: Indexes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import search.sync as sync_module

    real_documents_for = sync_module.documents_for

    def with_a_rejected_document(session_: Session, ids: Any) -> Any:
        docs, current = real_documents_for(session_, ids)
        return [*docs, {**docs[0], "id": "not a valid id!"}], current

    monkeypatch.setattr(sync_module, "documents_for", with_a_rejected_document)
    enqueue(session, insert_listing(session))
    result = sync_batch(engine=engine, indexes=search_indexes, worker_id="w1")
    assert (result.claimed, result.processed) == (1, 0)  # the add task was accepted, then failed
    [row] = outbox(session)
    assert row.processed_at is None and row.attempts == 1 and row.claimed_by is None
    assert row.last_error and "not a valid id" in row.last_error

    monkeypatch.setattr(sync_module, "documents_for", real_documents_for)
    wait_until(
        lambda: run_once(engine=engine, indexes=search_indexes) == 1,
        what="retry after the backoff",
    )
    assert outbox(session)[0].attempts == 1


def test_a_missing_index_keeps_rows_pending(
    engine: Engine, session: Session, meili_client: meilisearch.Client, index_prefix: str
) -> None:
    enqueue(session, insert_listing(session))
    assert run_once(engine=engine, indexes=Indexes(prefix=index_prefix, home=meili_client)) == 0
    [row] = outbox(session)
    assert row.processed_at is None and row.attempts == 1 and "reindex" in (row.last_error or "")
    assert not any(i.uid.startswith(index_prefix) for i in meili_client.get_indexes({"limit": 1000})["results"])


def test_backoff_doubles_and_is_capped() -> None:
    assert [backoff_seconds(n) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]
    assert backoff_seconds(50) == 30.0


def test_concurrent_claims_never_share_a_row_or_a_service(engine: Engine, session: Session) -> None:
    ids = [uuid.uuid4() for _ in range(30)]
    for _ in range(3):  # interleaved: each service has three rows spread over the queue
        record_change(session, ids)
    session.commit()
    claims: list[tuple[str, list[Any]]] = []
    barrier = threading.Barrier(6)

    def grab(n: int) -> None:
        barrier.wait()
        for _ in range(4):
            claims.append(claim(engine, worker_id=f"w{n}", limit=3))

    threads = [threading.Thread(target=grab, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    claimed = [row.id for _, rows in claims for row in rows]
    assert len(claimed) == len(set(claimed)) == 90  # 24 claims x 3 services x 3 rows: everything, once
    owners: dict[uuid.UUID, str] = {}
    for token, rows in claims:
        for row in rows:
            assert owners.setdefault(row.entity_id, token) == token  # one service, one claim


def test_two_workers_process_every_row_exactly_once(
    engine: Engine,
    session: Session,
    meili_client: meilisearch.Client,
    search_index: str,
    search_indexes: Indexes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    services = [insert_listing(session, name=f"Concurrent Pantry {n}") for n in range(24)]
    for _ in range(2):
        enqueue(session, *services)
    pushed: list[tuple[str, list[uuid.UUID]]] = []
    import search.sync as sync_module

    real_push = sync_module.push_services

    def recording_push(**kwargs: Any) -> int:
        pushed.append((threading.current_thread().name, list(kwargs["service_ids"])))
        return real_push(**kwargs)

    monkeypatch.setattr(sync_module, "push_services", recording_push)
    barrier = threading.Barrier(2)
    done = {"w1": 0, "w2": 0}

    def work(name: str) -> None:
        barrier.wait()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            result = sync_batch(engine=engine, indexes=search_indexes, worker_id=name, batch_size=4)
            done[name] += result.processed
            if not result.claimed and all_processed(engine):
                return

    threads = [threading.Thread(target=work, args=(n,), name=n) for n in done]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rows = outbox(session)
    assert sum(done.values()) == len(rows) == 48 and all(r.processed_at for r in rows)
    assert all(r.claimed_by and r.claimed_by.startswith(("w1#", "w2#")) for r in rows)
    pushed_ids = [sid for _, ids in pushed for sid in ids]
    assert sorted(pushed_ids) == sorted(s.id for s in services)  # each service built and sent once
    assert meili_client.index(search_index).get_stats().number_of_documents == 24


def test_meilisearch_outage_delays_but_loses_nothing(
    engine: Engine, session: Session, tmp_path: Path, index_prefix: str
) -> None:
    private = Settings(data_dir=tmp_path / "private-meili")
    server = start_embedded(private)
    port = int(server.url.rsplit(":", 1)[1])
    uid = index_name(index_prefix)
    install_layout(Indexes(prefix=index_prefix, home=client_for(server)), chicago_map(index_prefix))
    indexes = Indexes(prefix=index_prefix, home=client_for(server, timeout=5))
    worker = SyncWorker(engine=engine, indexes=indexes, poll_interval=0.05)
    worker.start()
    try:
        renamed, closed = insert_listing(session, name="Before Outage Pantry"), insert_listing(session)
        enqueue(session, renamed, closed)
        wait_until(lambda: all(r.processed_at for r in outbox(session)), what="first sync")

        server.stop()
        rename(session, renamed, "During Outage Pantry")
        closed.status = "inactive"
        session.add(closed)
        enqueue(session, closed)
        added = insert_listing(session, name="Opened During Outage Pantry")
        enqueue(session, added)
        wait_until(lambda: all(r.attempts >= 1 for r in outbox(session)[2:]), what="failed attempts")
        assert all(r.processed_at is None and r.last_error for r in outbox(session)[2:])

        server = _restart(private, port)
        wait_until(lambda: all(r.processed_at for r in outbox(session)), what="drain after restart")
        client = client_for(server)
        assert [d["name"] for d in docs_of(client, uid, renamed)] == ["During Outage Pantry"]
        assert docs_of(client, uid, closed) == []
        assert [d["name"] for d in docs_of(client, uid, added)] == ["Opened During Outage Pantry"]
    finally:
        worker.stop()
        server.stop()


def _restart(settings: Settings, port: int) -> MeiliServer:
    """Same data dir, key and port, so the running worker's client reaches it again."""
    deadline = time.monotonic() + 20
    while True:
        try:
            return start_embedded(settings, port=port)
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_the_app_builds_a_missing_index_then_keeps_it_in_sync(
    engine: Engine, session: Session, settings: Settings, meili_server: MeiliServer, meili_client: meilisearch.Client
) -> None:
    existing = insert_listing(session, name="Preexisting Pantry")
    app = create_app(settings.model_copy(update={"embedded_workers": True}), engine=engine, meili=meili_server)
    uid = index_name(settings.meili_index_prefix)
    with TestClient(app):
        wait_until(lambda: bool(_safe_docs(meili_client, uid, existing)), what="background index build")
        rename(session, existing, "Renamed Live Pantry")
        wait_until(
            lambda: [d["name"] for d in _safe_docs(meili_client, uid, existing)] == ["Renamed Live Pantry"],
            what="edit to reach the index",
        )
    assert all(not w._thread.is_alive() for w in app.state.workers if isinstance(w, SyncWorker) and w._thread)
    drop_layout(meili_client, settings.meili_index_prefix)


def _safe_docs(client: meilisearch.Client, uid: str, service: Service) -> list[dict[str, Any]]:
    try:
        return docs_of(client, uid, service)
    except meilisearch.errors.MeilisearchApiError:
        return []
