"""Reindex against a real Meilisearch: complete, atomic (search never fails or comes back empty), replays edits."""

import io
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import meilisearch
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

import search.loading as loading_module
from core.outbox import OutboxEvent, record_change
from directory.listings.models import Service
from search.client import TaskFailed, iter_documents, service_filter, wait_succeeded
from search.index_spec import filterable_names, index_name, settings_outdated, settings_without_geo
from search.layout import Indexes, SearchTarget
from search.reindex import ReindexCancelled, reindex
from search.runtime import build_index_if_needed
from search.shards import partition
from search.sync import run_once
from tests.factories import CHICAGO, insert_listing, place
from tests.search.conftest import run_search

pytestmark = pytest.mark.usefixtures("taxonomy")


@pytest.fixture
def cleanup(meili_client: meilisearch.Client, index_prefix: str) -> Iterator[None]:
    yield
    for uid in index_uids(meili_client, index_prefix):
        meili_client.delete_index(uid)


@pytest.fixture
def indexes(meili_client: meilisearch.Client, index_prefix: str) -> Indexes:
    return Indexes(prefix=index_prefix, home=meili_client)


def index_uids(client: meilisearch.Client, prefix: str) -> list[str]:
    return sorted(i.uid for i in client.get_indexes({"limit": 1000})["results"] if i.uid.startswith(prefix))


def live_uids(indexes: Indexes) -> list[str]:
    """The indexes the live layout consists of: flat, layout and the current map's shards."""
    shard_map = indexes.current_map()
    assert shard_map is not None
    return sorted([indexes.flat, indexes.layout, *(s.uid for s in shard_map.shards)])


def names(client: meilisearch.Client, uid: str, service: Service) -> list[str]:
    return [d["name"] for d in iter_documents(client, uid, filter=service_filter([service.id]))]


def listings(session: Session, count: int, name: str = "Reindex Pantry") -> list[Service]:
    """Listings spread along a line north of Chicago (1.1 km apart), so small shards can split them."""
    return [insert_listing(session, name=f"{name} {n}", places=[place(41.5 + n / 100, -87.6)]) for n in range(count)]


@pytest.mark.usefixtures("cleanup")
def test_reindex_builds_a_complete_live_index_and_drops_the_old_one(
    engine: Engine, session: Session, meili_client: meilisearch.Client, index_prefix: str, indexes: Indexes
) -> None:
    listings(session, 23)
    small = Indexes(prefix=index_prefix, home=meili_client, max_documents=8)
    first = reindex(engine=engine, indexes=small, batch_size=10)
    live = index_name(index_prefix)
    assert (first.index_uid, first.services, first.documents, first.shards) == (live, 23, 23, 4)
    old_uids = live_uids(small)
    assert index_uids(meili_client, index_prefix) == old_uids

    listings(session, 4, name="Later Pantry")
    second = reindex(engine=engine, indexes=small, batch_size=10)
    assert second.documents == 27
    new_uids = live_uids(small)
    assert index_uids(meili_client, index_prefix) == new_uids  # the previous shards were deleted
    assert set(old_uids) & set(new_uids) == {live, small.layout}
    assert meili_client.index(live).get_stats().number_of_documents == 27
    shard_map = small.current_map()
    assert shard_map is not None
    counts = [meili_client.index(s.uid).get_stats().number_of_documents for s in shard_map.shards]
    assert sum(counts) == 27 and max(counts) <= 8  # every listing in exactly one shard of bounded size
    assert "service_id" in filterable_names(meili_client.index(live).get_filterable_attributes())  # settings too
    assert not settings_outdated(meili_client, live, settings_without_geo())  # the flat index has no `_geo`
    assert all(not settings_outdated(meili_client, s.uid) for s in shard_map.shards)  # shards have it


@pytest.mark.usefixtures("cleanup")
def test_searches_keep_answering_during_reindex(
    engine: Engine, session: Session, meili_client: meilisearch.Client, index_prefix: str
) -> None:
    listings(session, 60)
    small = Indexes(prefix=index_prefix, home=meili_client, max_documents=10)
    reindex(engine=engine, indexes=small, batch_size=20)
    # The searcher has its own client, as the app's search API does: the meilisearch client is not thread-safe.
    reader = meilisearch.Client(meili_client.config.url, meili_client.config.api_key)
    target = SearchTarget(prefix=index_prefix, home=reader)  # as the app: the map cached for a second
    stop, outcomes = threading.Event(), list[int | str]()
    place_search = {"lat": 41.8, "lng": -87.6, "radius_km": 100, "per_page": 100}  # spans several shards

    def search_continuously() -> None:
        while not stop.is_set():
            for raw in ({"q": "pantry"}, place_search):
                try:
                    outcomes.append(run_search(reader, small.flat, session, target=target, **raw).total)
                except Exception as exc:  # a failed search is what this test must never see
                    outcomes.append(repr(exc))

    searcher = threading.Thread(target=search_continuously)
    searcher.start()
    try:
        for _ in range(2):
            reindex(engine=engine, indexes=small, batch_size=20)
    finally:
        stop.set()
        searcher.join()
    assert len(outcomes) > 10
    assert set(outcomes) == {60}  # no error and never an empty or partial result
    assert index_uids(meili_client, index_prefix) == live_uids(small)


@pytest.mark.usefixtures("cleanup")
def test_changes_made_during_the_load_are_replayed(
    engine: Engine,
    session: Session,
    meili_client: meilisearch.Client,
    indexes: Indexes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    services = sorted(listings(session, 12), key=lambda s: s.id)
    reindex(engine=engine, indexes=indexes, batch_size=4)
    live = indexes.flat
    early, doomed = services[0], services[1]  # both in the first batch, already loaded when the edits happen
    real_documents_for = loading_module.documents_for
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
            assert run_once(engine=engine, indexes=indexes) == 2
        return real_documents_for(session_, ids)

    monkeypatch.setattr(loading_module, "documents_for", documents_for_with_edits)
    result = reindex(engine=engine, indexes=indexes, batch_size=4)
    assert result.replayed == 2
    assert names(meili_client, live, early) == ["Renamed Mid Reindex"]
    assert names(meili_client, live, doomed) == []
    assert meili_client.index(live).get_stats().number_of_documents == 11
    shard_map = indexes.current_map()
    assert shard_map is not None and len(shard_map.shards) == 1
    [shard] = shard_map.shards  # the new shard got the replayed edits too
    assert names(meili_client, shard.uid, early) == ["Renamed Mid Reindex"]
    assert names(meili_client, shard.uid, doomed) == []
    pending = session.exec(select(OutboxEvent).where(col(OutboxEvent.processed_at).is_(None))).all()
    assert pending == []


@pytest.mark.usefixtures("cleanup")
def test_rows_pending_at_the_start_are_superseded_by_the_new_index(
    engine: Engine, session: Session, meili_client: meilisearch.Client, index_prefix: str, indexes: Indexes
) -> None:
    services = listings(session, 5)
    record_change(session, [s.id for s in services])
    session.commit()
    result = reindex(engine=engine, indexes=indexes)
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
    indexes: Indexes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = listings(session, 3)
    reindex(engine=engine, indexes=indexes)
    before = live_uids(indexes)
    listings(session, 3, name="Never Indexed")
    real_documents_for = loading_module.documents_for

    def broken(session_: Session, ids: Any) -> Any:
        docs, current = real_documents_for(session_, ids)
        return [*docs, {"id": "not a valid id!", "service_id": "x"}], current

    monkeypatch.setattr(loading_module, "documents_for", broken)
    with pytest.raises(TaskFailed, match="not a valid id"):
        reindex(engine=engine, indexes=indexes)
    live = index_name(index_prefix)
    assert index_uids(meili_client, index_prefix) == before == live_uids(indexes)  # the half-built ones are gone
    assert meili_client.index(live).get_stats().number_of_documents == 3
    assert names(meili_client, live, original[0]) == [original[0].name]


@pytest.mark.usefixtures("cleanup")
def test_a_cancelled_reindex_cleans_up(
    engine: Engine, session: Session, meili_client: meilisearch.Client, index_prefix: str, indexes: Indexes
) -> None:
    listings(session, 3)
    stop = threading.Event()
    stop.set()
    with pytest.raises(ReindexCancelled):
        reindex(engine=engine, indexes=indexes, stop=stop)
    assert index_uids(meili_client, index_prefix) == []


@pytest.mark.usefixtures("cleanup")
def test_documents_can_be_built_in_worker_processes(
    engine: Engine, session: Session, meili_client: meilisearch.Client, index_prefix: str
) -> None:
    services = listings(session, 9, name="Parallel Pantry")
    small = Indexes(prefix=index_prefix, home=meili_client, max_documents=3)
    result = reindex(engine=engine, indexes=small, batch_size=2, workers=2)
    live = index_name(index_prefix)
    assert (result.services, result.documents, result.shards) == (9, 9, 4)
    assert meili_client.index(live).get_stats().number_of_documents == 9
    assert names(meili_client, live, services[4]) == [services[4].name]
    shard_map = small.current_map()
    assert shard_map is not None
    home = shard_map.shard_for(41.54, -87.6)  # the builder processes routed by the same map
    assert names(meili_client, home.uid, services[4]) == [services[4].name]


def test_payloads_split_on_line_ends_under_the_limit() -> None:
    body = b"".join(b'{"id":"%d","pad":"%s"}\n' % (n, b"x" * n) for n in range(40))
    parts = list(loading_module.file_payloads(io.BytesIO(body), limit=200))
    assert b"".join(parts) == body
    assert all(len(p) <= 200 and p.endswith(b"\n") for p in parts) and len(parts) > 5


@pytest.mark.usefixtures("cleanup")
def test_startup_rebuilds_an_index_left_by_an_older_version(
    engine: Engine, session: Session, meili_client: meilisearch.Client, index_prefix: str, indexes: Indexes
) -> None:
    service = insert_listing(session, name="Upgrade Pantry")
    live = index_name(index_prefix)
    # What an older release left: other filterable fields, and documents in the old shape.
    wait_succeeded(meili_client, meili_client.create_index(live, {"primaryKey": "id"}).task_uid)
    old = meili_client.index(live)
    wait_succeeded(meili_client, old.update_filterable_attributes(["open_buckets", "service_id"]).task_uid)
    wait_succeeded(meili_client, old.add_documents([{"id": "old-shape", "name": "Old", "open_buckets": [1]}]).task_uid)
    assert settings_outdated(meili_client, live)

    assert build_index_if_needed(engine=engine, indexes=indexes) is True
    assert not settings_outdated(meili_client, live, settings_without_geo())
    assert names(meili_client, live, service) == ["Upgrade Pantry"]
    assert meili_client.index(live).get_stats().number_of_documents == 1  # the old document is gone
    assert build_index_if_needed(engine=engine, indexes=indexes) is False  # up to date


@pytest.mark.usefixtures("cleanup")
def test_startup_rebuilds_the_one_index_layout_of_the_previous_release_into_shards(
    engine: Engine, session: Session, meili_client: meilisearch.Client, index_prefix: str, indexes: Indexes
) -> None:
    """The release before shards left one index with `_geo` and no layout: it answers until the rebuild."""
    service = insert_listing(session, name="Single Index Pantry")
    single = Indexes(prefix=index_prefix, home=meili_client, max_documents=0)
    reindex(engine=engine, indexes=single)
    wait_succeeded(meili_client, meili_client.delete_index(single.layout).task_uid)  # no map: the old layout
    assert indexes.current_map() is None
    found = run_search(meili_client, indexes.flat, session, lat=CHICAGO[0], lng=CHICAGO[1], radius_km=5)
    assert [h["name"] for h in found.hits] == ["Single Index Pantry"]  # served by the old index meanwhile

    assert build_index_if_needed(engine=engine, indexes=indexes) is True
    shard_map = indexes.current_map()
    assert shard_map is not None and shard_map.sharded
    assert names(meili_client, shard_map.shard_for(*CHICAGO).uid, service) == ["Single Index Pantry"]
    found = run_search(meili_client, indexes.flat, session, lat=CHICAGO[0], lng=CHICAGO[1], radius_km=5)
    assert [h["name"] for h in found.hits] == ["Single Index Pantry"]
    assert build_index_if_needed(engine=engine, indexes=single) is True  # shards turned off: one index again
    assert indexes.current_map() is not None and not single.current_map().sharded  # type: ignore[union-attr]


@pytest.mark.usefixtures("cleanup")
def test_a_reindex_clears_what_a_killed_one_left_behind(
    engine: Engine, session: Session, meili_client: meilisearch.Client, index_prefix: str, indexes: Indexes
) -> None:
    listings(session, 3)
    reindex(engine=engine, indexes=indexes)
    old = "20000101000000000000"  # a generation from before: a reindex killed half-way
    leftovers = [f"{indexes.flat}_{old}", f"{indexes.layout}_{old}", f"{index_prefix}_geo_{old}_000"]
    for uid in leftovers:
        wait_succeeded(meili_client, meili_client.create_index(uid, {"primaryKey": "id"}).task_uid)
    reindex(engine=engine, indexes=indexes)
    assert index_uids(meili_client, index_prefix) == live_uids(indexes)


@pytest.mark.usefixtures("cleanup")
def test_the_loader_sends_few_large_bodies(
    meili_client: meilisearch.Client, index_prefix: str, indexes: Indexes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Meilisearch pays per indexing batch, the flat index's cost growing with the index: six build batches must
    # reach the flat index as one task, and a shard as a few tasks of about SHARD_PAYLOAD_BYTES.
    monkeypatch.setattr(loading_module, "SHARD_PAYLOAD_BYTES", 1400)
    shard_map = partition(
        [41.8], [-87.6], max_documents=10, groups=1, uid=lambda n: f"{index_prefix}_geo_x_{n:03d}", generation="x"
    )
    flat, shard = f"{index_prefix}_loaded", shard_map.shards[0].uid
    for uid in (flat, shard):
        wait_succeeded(meili_client, meili_client.create_index(uid, {"primaryKey": "id"}).task_uid)
    loader = loading_module.Loader(indexes, flat, shard_map)
    for k in range(6):
        body = b"".join(b'{"id":"d%d","pad":"%s"}\n' % (n, b"x" * 50) for n in range(k * 10, k * 10 + 10))
        loader.add(body, {shard: body})
    loader.finish()

    def additions(uid: str) -> int:
        return len(meili_client.get_tasks({"indexUids": [uid], "types": ["documentAdditionOrUpdate"]}).results)

    assert [meili_client.index(uid).get_stats().number_of_documents for uid in (flat, shard)] == [60, 60]
    assert additions(flat) == 1 and additions(shard) == 3
    assert not Path(loader.spool.name).exists()  # the spool files are gone

    # While Meilisearch has nothing of the flat index to do, a smaller body goes at once: the first two batches
    # are sent before the third is built; the rest goes as one or two more tasks, as Meilisearch keeps up.
    monkeypatch.setattr(loading_module, "FLAT_EAGER_BYTES", 1400)
    again = f"{index_prefix}_eager"
    wait_succeeded(meili_client, meili_client.create_index(again, {"primaryKey": "id"}).task_uid)
    loader = loading_module.Loader(indexes, again, shard_map)
    for k in range(6):
        loader.add(b"".join(b'{"id":"e%d","pad":"%s"}\n' % (n, b"x" * 50) for n in range(k * 10, k * 10 + 10)), {})
        if k == 1:
            assert additions(again) == 1
    loader.finish()
    assert 2 <= additions(again) <= 3 and meili_client.index(again).get_stats().number_of_documents == 60
