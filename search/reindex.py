"""Full reindex with no downtime: new indexes → settings → batched load → check tasks → swap → delete old → replay.

A reindex also draws the shard map afresh (`search.shards`) from the listings' points, so shards stay
balanced as the directory grows. It builds a new generation beside the live one: a new flat index, the
new shards (their names carry the generation) and a layout index holding the new map. Then one atomic
swap on the home server exchanges the live flat and layout indexes with the new ones: readers reading the
map from then on find the new shards, all at once. Old shards stay a few seconds longer for readers
holding the previous map (`GRACE_SECONDS`), then are deleted.

The flat index is loaded with every setting but `_geo`: Meilisearch rewrites its geo R-tree whole on every
batch, so in the one-index layout `_geo` is declared after the load (one tree build); with shards the flat
index never gets it, and each shard, small, has it from the start.

Search keeps answering from the live indexes throughout. No index is ever emptied and refilled.

Changes made while the new indexes load are not lost. First, one query notes which outbox rows are visible
(committed) at the start; the load reads the database after that, so the new indexes hold their changes.
- Rows visible and pending at the start are marked processed (superseded) after the swap, unless a worker
  holds them, which then finishes them itself.
- Every service with an outbox row created since the start, processed or not, is re-synced to the new live
  indexes: every row not visible at the start and created since the start minus a margin (transactions that
  were open at the start commit later), through new outbox rows, i.e. the ordinary sync path with its
  claims; the reindex waits until they are done. Rows visible at the start need no replay.
"""

import threading
import time
from array import array
from collections.abc import Iterator, Mapping
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import meilisearch
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from sqlalchemy import func, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core.clock import utcnow
from core.logging import get_logger
from core.outbox import OutboxEvent
from directory.listings.models import Service
from search.client import create_index, index_exists, wait_succeeded
from search.index_spec import INDEX_SETTINGS, PRIMARY_KEY, settings_without_geo
from search.layout import LAYOUT_SETTINGS, MAP_TTL_SECONDS, Indexes, layout_document, shard_name, shard_prefix
from search.loading import LOAD_TASK_TIMEOUT_S, Loader, ReindexCancelled, Tick, listing_points, load
from search.shards import ShardMap, partition, single
from search.sync import OUTBOX, drain, new_worker_id

log = get_logger(__name__)

# Meilisearch pays fixed costs per indexing batch that grow with the index (word prefixes and facets are
# post-processed), so fewer, larger batches load much faster.
BATCH_SIZE = 20_000
REPLAY_MARGIN = timedelta(minutes=10)  # longest write transaction we guard against
REPLAY_TIMEOUT_S = 120.0
REPLAY_BATCH = 2000  # services per sync batch while replaying: fewer, larger Meilisearch tasks
# Old shards outlive the swap this long: readers re-read the map every second. (A reader that still meets a
# deleted shard reads the map again and retries, so this only spares it that retry.)
GRACE_SECONDS = MAP_TTL_SECONDS
_ID_CHUNK = 1000
_LONG: dict[str, Any] = {"timeout_s": LOAD_TASK_TIMEOUT_S, "interval_ms": 50}

__all__ = ["BATCH_SIZE", "ReindexCancelled", "ReindexResult", "reindex", "replay"]


@dataclass(frozen=True)
class ReindexResult:
    index_uid: str
    services: int
    documents: int
    seconds: float
    superseded: int
    replayed: int
    build_seconds: float = 0.0  # of `seconds`, spent reading the database and building documents
    shards: int = 0


def reindex(
    *,
    engine: Engine,
    indexes: Indexes,
    batch_size: int = BATCH_SIZE,
    workers: int = 1,
    progress: bool = False,
    stop: threading.Event | None = None,
) -> ReindexResult:
    """Rebuild the live indexes from the database; see the module docstring for the steps and guarantees."""
    since = utcnow() - REPLAY_MARGIN
    pending_at_start, visible = _snapshot(engine, since)
    started, clock = utcnow(), time.monotonic()
    generation = f"{started:%Y%m%d%H%M%S%f}"
    old_map = indexes.current_map()
    new_map = new_shard_map(engine, indexes, generation)
    temp = f"{indexes.flat}_{generation}"
    log.info("reindex started", index=indexes.flat, building=temp, shards=len(new_map.shards))
    try:
        _create(indexes, new_map, temp)
        with _progress(_count_services(engine), show=progress) as tick:
            loader = Loader(indexes, temp, new_map)
            services, documents, building = load(
                engine, loader, new_map, batch_size=batch_size, workers=workers, tick=tick, stop=stop
            )
        if not new_map.sharded:  # `_geo` now: one R-tree build
            wait_succeeded(indexes.home, indexes.home.index(temp).update_settings(INDEX_SETTINGS).task_uid, **_LONG)
        _swap(indexes, temp, new_map)
    except BaseException:
        _delete_quietly([(indexes.server(s.group), s.uid) for s in new_map.shards])  # never went live
        raise
    finally:
        _delete_quietly([(indexes.home, temp), (indexes.home, f"{indexes.layout}_{generation}")])
    swapped_at = time.monotonic()
    superseded = _mark_superseded(engine, pending_at_start)
    replayed = replay(engine=engine, indexes=indexes, since=since, exclude=visible)
    _retire(indexes, old_map, new_map, swapped_at)
    result = ReindexResult(
        index_uid=indexes.flat,
        services=services,
        documents=documents,
        seconds=round(time.monotonic() - clock, 3),
        build_seconds=round(building, 3),
        superseded=superseded,
        replayed=replayed,
        shards=len(new_map.shards),
    )
    log.info("reindex done", **asdict(result))
    return result


def new_shard_map(engine: Engine, indexes: Indexes, generation: str) -> ShardMap:
    """Balanced on the listings' points now; the one-index map when shards are turned off."""
    if not indexes.max_documents:
        return single(generation)
    lats, lngs = listing_points(engine)
    return partition(
        lats,
        lngs,
        max_documents=indexes.max_documents,
        groups=indexes.group_count,
        uid=lambda n: shard_name(indexes.prefix, generation, n),
        generation=generation,
    )


def _create(indexes: Indexes, shard_map: ShardMap, flat: str) -> None:
    """The new flat index and shards, with their settings (a settings update creates a missing index): all
    sent before any is awaited, so servers work in parallel.

    The flat index gets `_geo` only after the load, and only without shards. Shards have it from the start:
    their R-trees are small, so rewriting one per batch costs little, and it spares a settings task per shard.
    """
    targets = [(indexes.home, flat, settings_without_geo())]
    targets += [(indexes.server(s.group), s.uid, INDEX_SETTINGS) for s in shard_map.shards]
    tasks = [(client, client.index(uid).update_settings(wanted).task_uid) for client, uid, wanted in targets]
    for client, task_uid in tasks:
        wait_succeeded(client, task_uid, **_LONG)


def _swap(indexes: Indexes, temp: str, shard_map: ShardMap) -> None:
    """Write the new map beside the live one, then swap flat and layout indexes in one atomic task."""
    home, temp_layout = indexes.home, f"{indexes.layout}_{shard_map.generation}"
    wait_succeeded(home, home.index(temp_layout).update_settings(LAYOUT_SETTINGS).task_uid)
    wait_succeeded(home, home.index(temp_layout).add_documents([layout_document(shard_map)], PRIMARY_KEY).task_uid)
    for uid in (indexes.flat, indexes.layout):  # a swap needs both sides; the first reindex has no live ones
        if not index_exists(home, uid):
            create_index(home, uid)
    pairs: list[Mapping[str, list[str] | bool]] = [
        {"indexes": [indexes.flat, temp]},
        {"indexes": [indexes.layout, temp_layout]},
    ]
    wait_succeeded(home, home.swap_indexes(pairs).task_uid, timeout_s=LOAD_TASK_TIMEOUT_S)


def _retire(indexes: Indexes, old_map: ShardMap | None, new_map: ShardMap, swapped_at: float) -> None:
    """Delete the previous generation's shards once readers holding the old map have let go of it, and any
    older index left behind (a killed reindex, a late write that re-created a deleted shard)."""
    live = {s.uid for s in new_map.shards}
    doomed: list[tuple[meilisearch.Client, str]] = []
    if old_map is not None:
        doomed += [(indexes.server(s.group), s.uid) for s in old_map.shards if s.uid not in live]
    for client in indexes.servers():
        doomed += [(client, uid) for uid in _index_uids(client) if _left_behind(indexes, uid, live, new_map.generation)]
    if doomed:
        time.sleep(max(0.0, GRACE_SECONDS - (time.monotonic() - swapped_at)))
    _delete_quietly(list({(id(c), uid): (c, uid) for c, uid in doomed}.values()))


def _left_behind(indexes: Indexes, uid: str, live: set[str], generation: str) -> bool:
    """A shard, or a half-built flat or layout index, of an older generation (a reindex that was killed)."""
    for start in (shard_prefix(indexes.prefix), f"{indexes.flat}_", f"{indexes.layout}_"):
        if uid.startswith(start) and uid not in live:
            older = uid[len(start) :].split("_", 1)[0]
            return older.isdigit() and older < generation
    return False


def _index_uids(client: meilisearch.Client) -> list[str]:
    uids: list[str] = []
    while True:
        page = client.get_indexes({"offset": len(uids), "limit": 1000})["results"]
        uids += [index.uid for index in page]
        if len(page) < 1000:
            return uids


def replay(
    *,
    engine: Engine,
    indexes: Indexes,
    since: datetime,
    exclude: AbstractSet[int] = frozenset(),
) -> int:
    """Re-sync every service with an outbox row created since `since` (rows in `exclude` aside)."""
    with Session(engine, expire_on_commit=False) as session:
        found = session.exec(
            select(OutboxEvent.id, OutboxEvent.entity_id).where(
                col(OutboxEvent.created_at) >= since, OutboxEvent.entity == "service"
            )
        ).all()
        service_ids = list(dict.fromkeys(sid for row_id, sid in found if row_id not in exclude))
        rows = [OutboxEvent(entity="service", entity_id=sid) for sid in service_ids]
        session.add_all(rows)
        session.commit()
        row_ids = [row.id for row in rows if row.id is not None]
    if row_ids:
        _wait_processed(engine, indexes, row_ids)
    return len(row_ids)


def _wait_processed(engine: Engine, indexes: Indexes, row_ids: list[int]) -> None:
    """Process the replay rows here (other workers may take some); give up politely after a while."""
    deadline = time.monotonic() + REPLAY_TIMEOUT_S
    worker = new_worker_id("replay")
    while True:
        drain(engine=engine, indexes=indexes, worker_id=worker, batch_size=REPLAY_BATCH)
        with Session(engine) as session:
            left = session.exec(
                select(func.count())
                .select_from(OutboxEvent)
                .where(col(OutboxEvent.id).in_(row_ids), col(OutboxEvent.processed_at).is_(None))
            ).one()
        if not left:
            return
        if time.monotonic() > deadline:
            log.warning("replay not finished; the sync worker will complete it", pending=left)
            return
        time.sleep(0.2)


def _snapshot(engine: Engine, since: datetime) -> tuple["array[int]", set[int]]:
    """In one statement (one snapshot): ids of rows pending now, and of rows created since `since`."""
    c = OUTBOX.c
    pending: array[int] = array("q")
    recent: set[int] = set()
    stmt = select(c.id, c.processed_at.is_(None), c.created_at >= since).where(
        or_(c.processed_at.is_(None), c.created_at >= since)
    )
    with engine.connect() as conn:
        for row_id, is_pending, is_recent in conn.execution_options(yield_per=10_000).execute(stmt):
            if is_pending:
                pending.append(row_id)
            if is_recent:
                recent.add(row_id)
    return pending, recent


def _mark_superseded(engine: Engine, ids: "array[int]") -> int:
    """Mark rows pending at the start done (the new index has their changes), except rows a worker holds."""
    c, done, now = OUTBOX.c, 0, utcnow()
    for start in range(0, len(ids), _ID_CHUNK):
        with engine.begin() as conn:
            result = conn.execute(
                update(OUTBOX)
                .where(
                    c.id.in_(ids[start : start + _ID_CHUNK].tolist()),
                    c.processed_at.is_(None),
                    (c.claimed_by.is_(None)) | (c.claimed_until < now),
                )
                .values(processed_at=now, claimed_by="reindex", claimed_until=None)
            )
            done += int(result.rowcount)
    return done


def _count_services(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(Service)).one())


def _delete_quietly(targets: list[tuple[meilisearch.Client, str]]) -> None:
    """Delete these indexes (all sent, then awaited); a failure is logged, not raised."""
    tasks = []
    for client, uid in targets:
        try:
            tasks.append((client, uid, client.delete_index(uid).task_uid))
        except Exception as exc:
            log.warning("could not delete index; delete it by hand", index=uid, error=str(exc)[:200])
    for client, uid, task_uid in tasks:
        try:
            wait_succeeded(client, task_uid, timeout_s=LOAD_TASK_TIMEOUT_S)
        except Exception as exc:
            if getattr(exc, "code", None) != "index_not_found":
                log.warning("could not delete index; delete it by hand", index=uid, error=str(exc)[:200])


@contextmanager
def _progress(total: int, *, show: bool) -> Iterator[Tick]:
    """A rich progress bar on a terminal; otherwise a log line every 10 %."""
    if show:
        columns = (
            TextColumn("indexing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, transient=False) as bar:
            task = bar.add_task("indexing", total=total)
            yield lambda n: bar.advance(task, n)
        return
    state = {"done": 0, "next": 0.1}

    def log_tick(n: int) -> None:
        state["done"] += n
        if total and state["done"] / total >= state["next"]:
            log.info("reindex progress", services=int(state["done"]), total=total)
            state["next"] += 0.1

    yield log_tick
