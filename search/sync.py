"""Outbox sync: claim pending outbox rows, push the changed services' documents, mark the rows done.

Claiming never hands one row to two workers, across threads and processes:
- PostgreSQL: a short transaction takes a transaction-scoped advisory lock (claims run one at a time, so
  the "service already leased" test below cannot race), selects the rows `FOR UPDATE SKIP LOCKED` and
  stamps `claimed_by` / `claimed_until`.
- SQLite: one `UPDATE … WHERE entity_id IN (SELECT … ORDER BY id LIMIT n)` stamps the lease. SQLite runs
  one writer at a time, so the statement is atomic.
A batch takes every claimable row of the services it picked (coalescing), and never a service another
worker holds a live lease on: two workers building one service from different snapshots could finish in
the wrong order and leave the older version in the index.

Rows are marked processed only after every Meilisearch task of the batch reported "succeeded". A failed
batch releases its rows: attempts + 1, last_error, `claimed_by` cleared and `claimed_until` set to now +
backoff, so the lease column doubles as "not before" (0.5 s doubling per attempt, capped at 30 s).
"""

import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, func, or_, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.clock import utcnow
from core.logging import get_logger
from core.outbox import OutboxEvent
from core.workers import PeriodicWorker
from search.documents import documents_for
from search.layout import Indexes
from search.placement import apply_writes, located, plan_writes
from search.shards import route

log = get_logger(__name__)

OUTBOX: Table = OutboxEvent.metadata.tables["outbox_event"]
LEASE = timedelta(seconds=180)
TASK_TIMEOUT_S = 60.0  # a batch waits for at most two tasks: the lease outlives a slow batch
BATCH_SIZE = 500
POLL_INTERVAL = 0.2
BACKOFF_CAP = 30.0
_PG_CLAIM_LOCK = 0x5EA4C45  # advisory lock key serializing claim transactions


@dataclass(frozen=True)
class ClaimedRow:
    id: int
    entity: str
    entity_id: uuid.UUID
    attempts: int


@dataclass(frozen=True)
class SyncResult:
    claimed: int = 0
    processed: int = 0
    error: str | None = None


def backoff_seconds(attempts: int) -> float:
    return min(BACKOFF_CAP, 0.5 * 2 ** max(0, attempts - 1))


def new_worker_id(prefix: str = "sync") -> str:
    return f"{prefix}:{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _claimable(now: datetime) -> ColumnElement[bool]:
    c = OUTBOX.c
    return and_(c.processed_at.is_(None), or_(c.claimed_until.is_(None), c.claimed_until < now))


def has_pending(engine: Engine) -> bool:
    """Is there a row a worker could claim now? A read, so idle polling never takes SQLite's write lock."""
    with engine.connect() as conn:
        return conn.execute(select(OUTBOX.c.id).where(_claimable(utcnow())).limit(1)).first() is not None


def claim(
    engine: Engine, *, worker_id: str, limit: int = BATCH_SIZE, lease: timedelta = LEASE
) -> tuple[str, list[ClaimedRow]]:
    """Lease up to `limit` services' pending rows; returns the claim token and the rows it now holds."""
    c = OUTBOX.c
    now = utcnow()
    token = f"{worker_id}#{uuid.uuid4().hex[:8]}"[-100:]
    held = select(c.entity_id).where(c.processed_at.is_(None), c.claimed_until >= now)
    first = select(c.entity_id).where(_claimable(now), c.entity_id.not_in(held)).order_by(c.id).limit(limit)
    target = and_(_claimable(now), c.entity_id.in_(first))
    stamp = {"claimed_by": token, "claimed_until": now + lease}
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(select(func.pg_advisory_xact_lock(_PG_CLAIM_LOCK)))
            ids = conn.execute(select(c.id).where(target).with_for_update(skip_locked=True)).scalars().all()
            if ids:
                conn.execute(update(OUTBOX).where(c.id.in_(ids)).values(**stamp))
        else:
            conn.execute(update(OUTBOX).where(target).values(**stamp))
        found = conn.execute(
            select(c.id, c.entity, c.entity_id, c.attempts).where(c.claimed_by == token).order_by(c.id)
        ).all()
    return token, [ClaimedRow(id=r[0], entity=r[1], entity_id=r[2], attempts=r[3]) for r in found]


def _finish(engine: Engine, token: str) -> int:
    c = OUTBOX.c
    with engine.begin() as conn:
        result = conn.execute(
            update(OUTBOX)
            .where(c.claimed_by == token, c.processed_at.is_(None))
            .values(processed_at=utcnow(), claimed_until=None)
        )
    return int(result.rowcount)


def _release(engine: Engine, token: str, rows: list[ClaimedRow], error: str) -> None:
    c = OUTBOX.c
    not_before = utcnow() + timedelta(seconds=backoff_seconds(max(r.attempts for r in rows) + 1))
    with engine.begin() as conn:
        conn.execute(
            update(OUTBOX)
            .where(c.claimed_by == token, c.processed_at.is_(None))
            .values(attempts=c.attempts + 1, last_error=error[:2000], claimed_by=None, claimed_until=not_before)
        )


def push_services(
    *,
    session: Session,
    indexes: Indexes,
    service_ids: list[uuid.UUID],
    timeout_s: float = TASK_TIMEOUT_S,
    everywhere: bool = False,
) -> int:
    """Make the indexes hold exactly the current documents of these services; returns the documents sent.

    The flat index gets every document, the shard whose box holds a document's point gets it too, and
    whatever copy the indexes hold beyond that (a removed location, a deactivated listing, a listing that
    moved to another region) is deleted; see `search.placement` (`everywhere`: look for copies in every
    shard, as the drift check's repair does). Raises unless every task succeeded.
    Looking up the held copies first is safe because no other worker holds these services meanwhile (see
    `claim`); the map is read afresh for every batch, so a batch after a reindex writes to the new shards.
    """
    shard_map = indexes.current_map()
    docs, current = documents_for(session, service_ids)
    going = route(shard_map, docs) if shard_map is not None else {}
    held = located(indexes, shard_map, service_ids, shards=going, everywhere=everywhere)
    keep = {doc_id for ids in current.values() for doc_id in ids}
    apply_writes(plan_writes(indexes, shard_map, docs, keep, held), flat=indexes.flat, timeout_s=timeout_s)
    return len(docs)


def sync_batch(
    *, engine: Engine, indexes: Indexes, worker_id: str, batch_size: int = BATCH_SIZE, everywhere: bool = False
) -> SyncResult:
    """Claim one batch, push it, and mark it processed or release it for a later retry."""
    token, rows = claim(engine, worker_id=worker_id, limit=batch_size)
    if not rows:
        return SyncResult()
    service_ids = list(dict.fromkeys(r.entity_id for r in rows if r.entity == "service"))
    if len(service_ids) < len({r.entity_id for r in rows}):
        log.warning(
            "outbox rows for unknown entities are marked done without action",
            entities=sorted({r.entity for r in rows} - {"service"}),
        )
    try:
        if service_ids:
            with Session(engine, expire_on_commit=False) as session:
                push_services(session=session, indexes=indexes, service_ids=service_ids, everywhere=everywhere)
    except Exception as exc:  # whatever went wrong, the rows go back to the queue: nothing is lost
        error = f"{type(exc).__name__}: {exc}"
        _release(engine, token, rows, error)
        log.warning("search sync batch failed; rows stay pending", rows=len(rows), error=error[:300])
        return SyncResult(claimed=len(rows), error=error)
    return SyncResult(claimed=len(rows), processed=_finish(engine, token))


def run_once(*, engine: Engine, indexes: Indexes, worker_id: str | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Sync one batch; returns the number of outbox rows marked processed (0 when idle or on failure)."""
    return sync_batch(
        engine=engine, indexes=indexes, worker_id=worker_id or new_worker_id(), batch_size=batch_size
    ).processed


def drain(
    *,
    engine: Engine,
    indexes: Indexes,
    worker_id: str | None = None,
    batch_size: int = BATCH_SIZE,
    everywhere: bool = False,
) -> int:
    """Sync batches until nothing is claimable or a batch fails; returns the rows processed."""
    worker = worker_id or new_worker_id()
    total = 0
    while True:
        result = sync_batch(
            engine=engine, indexes=indexes, worker_id=worker, batch_size=batch_size, everywhere=everywhere
        )
        total += result.processed
        if result.error or not result.claimed:
            return total


class SyncWorker(PeriodicWorker):
    """Polls the outbox (every 200 ms when idle) and syncs batches; backs off while Meilisearch fails.

    `bootstrap` runs once in the worker thread before polling starts (the app uses it to build a missing
    index); it receives the stop event so it can give up early.
    """

    thread_name = "search-sync"
    stop_timeout = 30.0

    def __init__(
        self,
        *,
        engine: Engine,
        indexes: Indexes,
        worker_id: str | None = None,
        batch_size: int = BATCH_SIZE,
        poll_interval: float = POLL_INTERVAL,
        bootstrap: Callable[[threading.Event], Any] | None = None,
    ) -> None:
        super().__init__()
        self.engine, self.indexes = engine, indexes
        self.worker_id = worker_id or new_worker_id()
        self.batch_size, self.poll_interval, self.bootstrap = batch_size, poll_interval, bootstrap
        self.processed = 0
        self._failures = 0

    def before(self) -> None:
        log.info("search sync worker started", worker=self.worker_id, index=self.indexes.flat)
        if self.bootstrap is not None:
            try:
                self.bootstrap(self.stopping)
            except Exception:
                log.exception("search index bootstrap failed; syncing the outbox anyway")

    def step(self) -> float:
        try:
            result = self._step()
        except Exception as exc:  # the database itself is unreachable or locked: retry later
            log.warning("search sync cannot read the outbox", error=str(exc)[:300])
            result = SyncResult(error=str(exc))
        if result.error:
            self._failures += 1
            return backoff_seconds(self._failures)
        self._failures = 0
        self.processed += result.processed
        return 0.0 if result.claimed else self.poll_interval

    def after(self) -> None:
        log.info("search sync worker stopped", worker=self.worker_id, processed=self.processed)

    def _step(self) -> SyncResult:
        if not has_pending(self.engine):
            return SyncResult()
        return sync_batch(
            engine=self.engine, indexes=self.indexes, worker_id=self.worker_id, batch_size=self.batch_size
        )
