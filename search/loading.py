"""The bulk load of a reindex: build every service's documents in batches and send them to the new flat
index and the new shards, a few tasks in flight, checking every task.

Building documents (database reads plus the builders) costs more CPU than Meilisearch spends indexing
them, so with `workers` > 1 batches are built in processes. Each batch is also routed there: the flat index
gets the batch's NDJSON body, and each shard a body of the documents whose point falls in its box.

Bodies are gathered per index across batches, in spool files on disk (the loader's memory stays small), and
sent once big: Meilisearch pays a cost per indexing batch that grows with the index (word prefixes and
facets are post-processed over the whole index). Sending each build batch as it came made Meilisearch do
about twice the work of a raw ingest of the same documents at 100k (many small batches, the flat index's
cost growing with every one); a raw ingest enqueues everything at once and Meilisearch merges queued tasks.
So the flat index's body is sent as soon as Meilisearch has finished its previous one (it is never left
idle), and otherwise grows until 128 MB (its payloads enqueued back to back, merged into one batch); a
shard gets 4 MB bodies, so shards are indexed while later batches are built.
"""

import multiprocessing
import tempfile
import threading
import time
import uuid
from array import array
from collections import deque
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import BinaryIO

import meilisearch
import orjson
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col
from sqlmodel import select as sql_select

from core.db import make_engine
from core.settings import Settings
from directory.listings.models import Location, Service, ServiceAtLocation
from search.client import wait_succeeded
from search.documents import HIDDEN_STATUSES, documents_for
from search.index_spec import PRIMARY_KEY
from search.layout import Indexes
from search.shards import ShardMap, point_of

# A spool is read back and sent in payloads of this size: enqueued back to back, Meilisearch merges them into
# one batch anyway, and the loader holds a few of them at most (64 MB payloads took a single-layout
# reindex process to 504 MB at 100k).
MAX_PAYLOAD_BYTES = 16 * 2**20
SHARD_PAYLOAD_BYTES = 4 * 2**20  # a shard's gathered documents are sent once this big, to index while building
FLAT_PAYLOAD_BYTES = 128 * 2**20  # the flat index's gathered documents are sent once this big, or
FLAT_EAGER_BYTES = 8 * 2**20  # ... once this big if Meilisearch has finished the flat index's previous task
SPOOLED_BYTES = 1024 * 2**20  # at most this much gathered on disk for all shards together
# Document payloads queued in Meilisearch before the loader waits for the oldest. Generous: while the loader
# waits it builds nothing, and Meilisearch merges queued tasks of one index into big batches anyway.
MAX_IN_FLIGHT_BYTES = 384 * 2**20
LOAD_TASK_TIMEOUT_S = 900.0
_BUILD_SLICE = 500

Tick = Callable[[int], None]
Built = tuple[int, int, bytes, dict[str, bytes]]  # services, documents, flat body, shard bodies


class ReindexCancelled(Exception):
    pass


def service_id_batches(engine: Engine, size: int) -> Iterator[list[uuid.UUID]]:
    """Every service id in id order, `size` at a time (keyset pagination: memory stays flat)."""
    last: uuid.UUID | None = None
    while True:
        stmt = sql_select(Service.id).order_by(col(Service.id)).limit(size)
        if last is not None:
            stmt = stmt.where(col(Service.id) > last)
        with Session(engine) as session:
            ids = list(session.exec(stmt).all())
        if not ids:
            return
        yield ids
        last = ids[-1]


def listing_points(engine: Engine) -> tuple["array[float]", "array[float]"]:
    """Latitudes and longitudes of the visible listings' places: what the shard map is balanced on.

    Close to the documents' points, not equal (a confidential point is rounded in its document, an
    online-only meeting has none): the map only needs to be balanced, routing uses each document's point.
    """
    lat, lng = col(Location.latitude), col(Location.longitude)
    stmt = (
        select(lat, lng)
        .join(ServiceAtLocation, col(ServiceAtLocation.location_id) == col(Location.id))
        .join(Service, col(Service.id) == col(ServiceAtLocation.service_id))
        .where(lat.is_not(None), lng.is_not(None), col(Service.status).not_in(sorted(HIDDEN_STATUSES)))
    )
    lats: array[float] = array("d")
    lngs: array[float] = array("d")
    with engine.connect() as conn:
        for y, x in conn.execution_options(yield_per=20_000).execute(stmt):
            if -90 <= y <= 90 and -180 <= x <= 180 and not (y == 0 and x == 0):
                lats.append(y)
                lngs.append(x)
    return lats, lngs


class Loader:
    """Gathers bodies per index in spool files and sends them with a bounded number of payload bytes in
    flight; raises unless every task succeeds."""

    def __init__(self, indexes: Indexes, flat: str, shard_map: ShardMap) -> None:
        self.indexes, self.flat = indexes, flat
        self.clients = {s.uid: indexes.server(s.group) for s in shard_map.shards} | {flat: indexes.home}
        self.spool = tempfile.TemporaryDirectory(prefix="reindex-spool-")  # removed when collected, too
        self.sizes: dict[str, int] = {}  # bytes gathered per index
        self.last_task: dict[str, int] = {}  # the latest task sent to each index
        self.in_flight: deque[tuple[meilisearch.Client, int, int]] = deque()
        self.queued = 0  # bytes of the payloads in flight

    def add(self, flat_body: bytes, shard_bodies: dict[str, bytes]) -> None:
        self._gather(self.flat, flat_body, FLAT_PAYLOAD_BYTES)
        for uid, body in shard_bodies.items():
            self._gather(uid, body, SHARD_PAYLOAD_BYTES)
        while sum(size for uid, size in self.sizes.items() if uid != self.flat) > SPOOLED_BYTES:
            self._flush(max((uid for uid in self.sizes if uid != self.flat), key=self.sizes.__getitem__))

    def finish(self) -> None:
        for uid in list(self.sizes):
            self._flush(uid)
        while self.in_flight:
            self._wait_one()
        self.spool.cleanup()

    def _path(self, uid: str) -> Path:
        return Path(self.spool.name, uid)

    def _gather(self, uid: str, body: bytes, limit: int) -> None:
        if not body:
            return
        with self._path(uid).open("ab") as out:
            out.write(body)
        self.sizes[uid] = self.sizes.get(uid, 0) + len(body)
        if self.sizes[uid] >= limit or (uid == self.flat and self.sizes[uid] >= FLAT_EAGER_BYTES and self._idle(uid)):
            self._flush(uid)

    def _idle(self, uid: str) -> bool:
        """Meilisearch has finished every task sent to this index: sending now keeps it busy, while a body
        gathered as long as it is busy makes one batch instead of several."""
        if uid not in self.last_task:
            return True
        return self.clients[uid].get_task(self.last_task[uid]).status not in ("enqueued", "processing")

    def _flush(self, uid: str) -> None:
        if not self.sizes.pop(uid, 0):
            return
        path = self._path(uid)
        with path.open("rb") as spooled:
            self._send(self.clients[uid], uid, spooled)
        path.unlink()

    def _send(self, client: meilisearch.Client, uid: str, spooled: BinaryIO) -> None:
        index = client.index(uid)
        for payload in file_payloads(spooled):
            task_uid = index.add_documents_ndjson(payload, primary_key=PRIMARY_KEY).task_uid
            self.last_task[uid] = task_uid
            self.in_flight.append((client, task_uid, len(payload)))
            self.queued += len(payload)
        while self.queued > MAX_IN_FLIGHT_BYTES:
            self._wait_one()

    def _wait_one(self) -> None:
        client, task_uid, size = self.in_flight.popleft()
        wait_succeeded(client, task_uid, timeout_s=LOAD_TASK_TIMEOUT_S, interval_ms=100)
        self.queued -= size


def load(
    engine: Engine,
    loader: Loader,
    shard_map: ShardMap,
    *,
    batch_size: int,
    workers: int,
    tick: Tick,
    stop: threading.Event | None,
) -> tuple[int, int, float]:
    """Build and send every service's documents; returns services, documents and the seconds the loader
    spent building (or awaiting) documents."""
    services = documents = 0
    building = 0.0
    batches = built_batches(engine, shard_map, batch_size, workers)
    try:
        while True:
            if stop is not None and stop.is_set():
                raise ReindexCancelled("reindex cancelled")
            started = time.monotonic()
            batch = next(batches, None)
            building += time.monotonic() - started
            if batch is None:
                break
            count, docs, flat_body, shard_bodies = batch
            loader.add(flat_body, shard_bodies)
            services, documents = services + count, documents + docs
            tick(count)
    finally:
        batches.close()  # a pool shuts down here, cancelling what it had not built yet
    loader.finish()
    return services, documents, building


def built_batches(engine: Engine, shard_map: ShardMap, batch_size: int, workers: int) -> Generator[Built]:
    """Built batches in id order; `workers` > 1 builds in processes (one worker: in this process, as the
    app's startup build does)."""
    if workers <= 1:
        for ids in service_id_batches(engine, batch_size):
            yield (len(ids), *encoded(engine, ids, shard_map))
        return
    url = engine.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("spawn")  # no fork: the parent may be a threaded server
    initargs = (url, shard_map.to_json())
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_builder, initargs=initargs) as pool:
        pending: deque[tuple[int, Future[tuple[int, bytes, dict[str, bytes]]]]] = deque()
        try:
            for ids in service_id_batches(engine, batch_size):
                pending.append((len(ids), pool.submit(_build_encoded, ids)))
                if len(pending) > 2 * workers:
                    count, future = pending.popleft()
                    yield (count, *future.result())
            while pending:
                count, future = pending.popleft()
                yield (count, *future.result())
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


_BUILDER: tuple[Engine, ShardMap] | None = None


def _init_builder(url: str, shard_map: str) -> None:
    global _BUILDER
    _BUILDER = (make_engine(Settings(), url), ShardMap.from_json(shard_map))


def _build_encoded(ids: list[uuid.UUID]) -> tuple[int, bytes, dict[str, bytes]]:
    assert _BUILDER is not None
    engine, shard_map = _BUILDER
    return encoded(engine, ids, shard_map)


def encoded(engine: Engine, ids: list[uuid.UUID], shard_map: ShardMap) -> tuple[int, bytes, dict[str, bytes]]:
    """A batch's documents as NDJSON for the flat index and per shard, built a slice at a time: only one
    slice's rows and dicts live at once."""
    count, flat = 0, []
    shards: dict[str, list[bytes]] = {}
    for start in range(0, len(ids), _BUILD_SLICE):
        with Session(engine) as session:
            docs = documents_for(session, ids[start : start + _BUILD_SLICE])[0]
        count += len(docs)
        for doc in docs:
            line = orjson.dumps(doc) + b"\n"
            flat.append(line)
            point = point_of(doc) if shard_map.sharded else None
            if point is not None:
                shards.setdefault(shard_map.shard_for(*point).uid, []).append(line)
    return count, b"".join(flat), {uid: b"".join(lines) for uid, lines in shards.items()}


def file_payloads(source: BinaryIO, limit: int = MAX_PAYLOAD_BYTES) -> Iterator[bytes]:
    """NDJSON read from a file, split on line ends into bodies under Meilisearch's payload limit (100 MB by
    default); one body in memory at a time."""
    rest = b""
    while chunk := source.read(limit - len(rest)):
        body = rest + chunk if rest else chunk
        cut = body.rfind(b"\n") + 1 or len(body)  # a line longer than the limit goes as is (and is refused)
        rest = body[cut:]
        yield body if cut == len(body) else body[:cut]
    if rest:
        yield rest
