"""Full reindex with no downtime: new index → settings → batched load → check tasks → swap → delete old → replay.

The new index is loaded with every setting but `_geo`, which is declared after the load: Meilisearch
rewrites its geo R-tree whole on every batch, so declaring it last builds the tree once.

Search keeps answering from the live index throughout; the swap is one atomic Meilisearch task. The index is
never emptied and refilled.

Changes made while the new index loads are not lost. First, one query notes which outbox rows are visible
(committed) at the start; the load reads the database after that, so the new index holds their changes.
- Rows visible and pending at the start are marked processed (superseded) after the swap, unless a worker
  holds them, which then finishes them itself.
- Every service with an outbox row created since the start, processed or not, is re-synced to the new live
  index: every row not visible at the start and created since the start minus a margin (transactions that
  were open at the start commit later), through new outbox rows, i.e. the ordinary sync path with its
  claims; the reindex waits until they are done. Rows visible at the start need no replay.
"""

import multiprocessing
import threading
import time
import uuid
from array import array
from collections import deque
from collections.abc import Callable, Generator, Iterator
from collections.abc import Set as AbstractSet
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import meilisearch
import orjson
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from sqlalchemy import func, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core.clock import utcnow
from core.db import make_engine
from core.logging import get_logger
from core.outbox import OutboxEvent
from core.settings import Settings
from directory.listings.models import Service
from search.client import create_index, wait_succeeded
from search.documents import documents_for
from search.index_spec import PRIMARY_KEY, apply_settings, index_name, settings_without_geo
from search.sync import OUTBOX, drain, new_worker_id

log = get_logger(__name__)

# Meilisearch pays fixed costs per indexing batch that grow with the index (the geo R-tree is rewritten
# whole, word prefixes and facets are post-processed), so fewer, larger batches load much faster.
BATCH_SIZE = 20_000
MAX_PAYLOAD_BYTES = 64 * 2**20
MAX_IN_FLIGHT = 16  # document tasks queued before the loader waits: Meilisearch merges queued tasks into big batches
LOAD_TASK_TIMEOUT_S = 900.0
REPLAY_MARGIN = timedelta(minutes=10)  # longest write transaction we guard against
REPLAY_TIMEOUT_S = 120.0
REPLAY_BATCH = 2000  # services per sync batch while replaying: fewer, larger Meilisearch tasks
_ID_CHUNK = 1000
_BUILD_SLICE = 500

Tick = Callable[[int], None]


@dataclass(frozen=True)
class ReindexResult:
    index_uid: str
    services: int
    documents: int
    seconds: float
    superseded: int
    replayed: int
    build_seconds: float = 0.0  # of `seconds`, spent reading the database and building documents


class ReindexCancelled(Exception):
    pass


def reindex(
    *,
    engine: Engine,
    client: meilisearch.Client,
    prefix: str,
    batch_size: int = BATCH_SIZE,
    workers: int = 1,
    progress: bool = False,
    stop: threading.Event | None = None,
) -> ReindexResult:
    """Rebuild the live index from the database; see the module docstring for the steps and guarantees."""
    live = index_name(prefix)
    since = utcnow() - REPLAY_MARGIN
    pending_at_start, visible = _snapshot(engine, since)
    started, clock = utcnow(), time.monotonic()
    temp = f"{live}_{started:%Y%m%d%H%M%S%f}"
    log.info("reindex started", index=live, building=temp)
    try:
        apply_settings(client, temp, settings_without_geo())
        with _progress(_count_services(engine), show=progress) as tick:
            services, documents, building = _load(
                engine, client, temp, batch_size=batch_size, workers=workers, tick=tick, stop=stop
            )
        apply_settings(client, temp, timeout_ms=int(LOAD_TASK_TIMEOUT_S * 1000))  # `_geo` now: one R-tree build
        create_index(client, live)
        wait_succeeded(client, client.swap_indexes([{"indexes": [live, temp]}]).task_uid, timeout_s=LOAD_TASK_TIMEOUT_S)
    finally:
        _delete_quietly(client, temp)  # after the swap this is the previous live index
    superseded = _mark_superseded(engine, pending_at_start)
    replayed = replay(engine=engine, client=client, index_uid=live, since=since, exclude=visible)
    result = ReindexResult(
        index_uid=live,
        services=services,
        documents=documents,
        seconds=round(time.monotonic() - clock, 3),
        build_seconds=round(building, 3),
        superseded=superseded,
        replayed=replayed,
    )
    log.info("reindex done", **asdict(result))
    return result


def service_id_batches(engine: Engine, size: int) -> Iterator[list[uuid.UUID]]:
    """Every service id in id order, `size` at a time (keyset pagination: memory stays flat)."""
    last: uuid.UUID | None = None
    while True:
        stmt = select(Service.id).order_by(col(Service.id)).limit(size)
        if last is not None:
            stmt = stmt.where(col(Service.id) > last)
        with Session(engine) as session:
            ids = list(session.exec(stmt).all())
        if not ids:
            return
        yield ids
        last = ids[-1]


def _load(
    engine: Engine,
    client: meilisearch.Client,
    uid: str,
    *,
    batch_size: int,
    workers: int,
    tick: Tick,
    stop: threading.Event | None,
) -> tuple[int, int, float]:
    """Send every service's documents in batches, a few tasks in flight; raise unless all succeeded.

    Returns services, documents and the seconds the loader spent building (or awaiting) documents.
    """
    index = client.index(uid)
    in_flight: deque[int] = deque()
    services = documents = 0
    building = 0.0
    batches = _built_batches(engine, batch_size, workers)
    try:
        while True:
            if stop is not None and stop.is_set():
                raise ReindexCancelled("reindex cancelled")
            started = time.monotonic()
            batch = next(batches, None)
            building += time.monotonic() - started
            if batch is None:
                break
            count, docs, body = batch
            for payload in _payloads(body):
                in_flight.append(index.add_documents_ndjson(payload, primary_key=PRIMARY_KEY).task_uid)
            services, documents = services + count, documents + docs
            tick(count)
            while len(in_flight) > MAX_IN_FLIGHT:
                wait_succeeded(client, in_flight.popleft(), timeout_s=LOAD_TASK_TIMEOUT_S, interval_ms=100)
    finally:
        batches.close()  # a pool shuts down here, cancelling what it had not built yet
    while in_flight:
        wait_succeeded(client, in_flight.popleft(), timeout_s=LOAD_TASK_TIMEOUT_S, interval_ms=100)
    return services, documents, building


def _built_batches(engine: Engine, batch_size: int, workers: int) -> Generator[tuple[int, int, bytes]]:
    """(services, documents, NDJSON body) per batch, in id order; `workers` > 1 builds in processes.

    Building documents (database reads through the ORM plus the builders) costs more CPU than
    Meilisearch spends indexing them, so on a machine with spare cores several processes keep the
    index fed. One worker builds in this process (the app's startup build uses that).
    """
    if workers <= 1:
        for ids in service_id_batches(engine, batch_size):
            yield (len(ids), *_encoded(engine, ids))
        return
    url = engine.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("spawn")  # no fork: the parent may be a threaded server
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_builder, initargs=(url,)) as pool:
        pending: deque[tuple[int, Future[tuple[int, bytes]]]] = deque()
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


_BUILDER_ENGINE: Engine | None = None


def _init_builder(url: str) -> None:
    global _BUILDER_ENGINE
    _BUILDER_ENGINE = make_engine(Settings(), url)


def _build_encoded(ids: list[uuid.UUID]) -> tuple[int, bytes]:
    assert _BUILDER_ENGINE is not None
    return _encoded(_BUILDER_ENGINE, ids)


def _encoded(engine: Engine, ids: list[uuid.UUID]) -> tuple[int, bytes]:
    """A batch's documents as NDJSON, built a slice at a time: only one slice's ORM rows and dicts live."""
    count, chunks = 0, []
    for start in range(0, len(ids), _BUILD_SLICE):
        with Session(engine) as session:
            docs = documents_for(session, ids[start : start + _BUILD_SLICE])[0]
        count += len(docs)
        chunks += [orjson.dumps(doc) + b"\n" for doc in docs]
    return count, b"".join(chunks)


def _payloads(body: bytes, limit: int = MAX_PAYLOAD_BYTES) -> Iterator[bytes]:
    """Split NDJSON on line ends into bodies under Meilisearch's payload limit (100 MB by default)."""
    while len(body) > limit:
        cut = body.rindex(b"\n", 0, limit) + 1
        yield body[:cut]
        body = body[cut:]
    if body:
        yield body


def replay(
    *,
    engine: Engine,
    client: meilisearch.Client,
    index_uid: str,
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
        _wait_processed(engine, client, index_uid, row_ids)
    return len(row_ids)


def _wait_processed(engine: Engine, client: meilisearch.Client, index_uid: str, row_ids: list[int]) -> None:
    """Process the replay rows here (other workers may take some); give up politely after a while."""
    deadline = time.monotonic() + REPLAY_TIMEOUT_S
    worker = new_worker_id("replay")
    while True:
        drain(engine=engine, client=client, index_uid=index_uid, worker_id=worker, batch_size=REPLAY_BATCH)
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


def _delete_quietly(client: meilisearch.Client, uid: str) -> None:
    try:
        wait_succeeded(client, client.delete_index(uid).task_uid, timeout_s=LOAD_TASK_TIMEOUT_S)
    except Exception as exc:
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
