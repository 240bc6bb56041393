"""Drift check: compare what the database says the indexes should hold with what they hold.

Walks the services in id order (memory stays flat), builds their documents, fetches the indexed
documents of the same services from the flat index and from every shard, and compares a hash of each
document's content (Meilisearch-added fields excluded): the flat index must hold every document, and each
shard exactly those whose point its box holds (a copy in another shard is "extra"). Documents whose
service no longer exists are found by a final scan of each index that holds more documents than the walk
matched. Services with outbox rows still pending are in flight, not drift.
`enqueue_fix` writes outbox rows for the drifted services; the sync path repairs them.
"""

import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import meilisearch
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core.errors import DomainError
from core.i18n import N_
from core.outbox import OutboxEvent, record_change
from directory.listings.models import Service
from search.client import index_exists, iter_documents
from search.documents import documents_for
from search.layout import Indexes
from search.loading import service_id_batches
from search.placement import located, shard_clients
from search.shards import route

# Fields Meilisearch can add to a returned document; never part of what we sent.
MEILI_FIELDS = frozenset(
    {
        "_rankingScore",
        "_rankingScoreDetails",
        "_formatted",
        "_matchesPosition",
        "_geoDistance",
        "_vectors",
        "_federation",
    }
)
BATCH_SIZE = 1000
FLOAT_DECIMALS = 9  # coordinates: 9 decimals of a degree are well under a millimetre
KINDS = ("missing", "extra", "differing")


@dataclass
class CheckReport:
    index_uid: str
    db_documents: int = 0
    index_documents: int = 0  # in the flat index
    shards: int = 0
    db_shard_documents: int = 0  # documents with a point: each belongs in one shard
    shard_documents: int = 0
    missing: int = 0
    extra: int = 0
    differing: int = 0
    pending_services: int = 0
    examples: dict[str, list[str]] = field(default_factory=lambda: {kind: [] for kind in KINDS})
    drifted_services: set[uuid.UUID] = field(default_factory=set)
    by_index: dict[str, int] = field(default_factory=dict)  # drift per index uid

    @property
    def drift(self) -> int:
        return self.missing + self.extra + self.differing

    def add(self, kind: str, doc_id: str, service_id: uuid.UUID | None, limit: int, uid: str) -> None:
        setattr(self, kind, getattr(self, kind) + 1)
        self.by_index[uid] = self.by_index.get(uid, 0) + 1
        if len(self.examples[kind]) < limit:
            self.examples[kind].append(doc_id)
        if service_id is not None:
            self.drifted_services.add(service_id)


def content_hash(doc: dict[str, Any]) -> str:
    """A stable hash of a document as sent: key order and Meilisearch's own fields do not count, nor the
    last bits of a float (Meilisearch's JSON parser reads 41.839999999999996 back as 41.84)."""
    clean = {k: _rounded(v) for k, v in doc.items() if k not in MEILI_FIELDS}
    text = json.dumps(clean, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, FLOAT_DECIMALS)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def check(*, engine: Engine, indexes: Indexes, batch_size: int = BATCH_SIZE, examples: int = 5) -> CheckReport:
    """Every index of the layout: the flat one must hold every document, each shard exactly the documents
    whose point its box holds."""
    if not index_exists(indexes.home, indexes.flat):
        raise DomainError(N_("index %(flat)s does not exist; run `python -m search reindex`", flat=indexes.flat))
    shard_map = indexes.current_map()
    report = CheckReport(index_uid=indexes.flat, shards=len(shard_map.shards) if shard_map else 0)
    pending = _pending_services(engine)
    report.pending_services = len(pending)
    matched: dict[str, int] = {}
    for ids in service_id_batches(engine, batch_size):
        with Session(engine) as session:
            docs, _ = documents_for(session, ids)
        held = located(indexes, shard_map, ids, fields=None, everywhere=True)
        expected = {indexes.flat: docs, **(route(shard_map, docs) if shard_map is not None else {})}
        report.db_documents += len(docs)
        report.db_shard_documents += sum(len(d) for uid, d in expected.items() if uid != indexes.flat)
        for uid, found in held.items():
            matched[uid] = matched.get(uid, 0) + len(found)
            _compare(report, uid, expected.get(uid, []), found, pending, examples)
    clients = {indexes.flat: indexes.home, **shard_clients(indexes, shard_map)}
    for uid, client in clients.items():
        count = client.index(uid).get_stats().number_of_documents
        if uid == indexes.flat:
            report.index_documents = count
        else:
            report.shard_documents += count
        if count > matched.get(uid, 0):
            _find_orphans(report, engine, client, uid, pending, examples)
    return report


def _compare(
    report: CheckReport,
    uid: str,
    docs: list[dict[str, Any]],
    indexed: dict[str, dict[str, Any]],
    pending: set[uuid.UUID],
    examples: int,
) -> None:
    expected = {str(d["id"]): d for d in docs}
    for doc_id, doc in expected.items():
        sid = uuid.UUID(str(doc["service_id"]))
        if sid in pending:
            continue
        if doc_id not in indexed:
            report.add("missing", doc_id, sid, examples, uid)
        elif content_hash(indexed[doc_id]) != content_hash(doc):
            report.add("differing", doc_id, sid, examples, uid)
    for doc_id, doc in indexed.items():
        owner = _service_id(doc)
        if doc_id not in expected and owner not in pending:
            report.add("extra", doc_id, owner, examples, uid)


def _find_orphans(
    report: CheckReport,
    engine: Engine,
    client: meilisearch.Client,
    uid: str,
    pending: set[uuid.UUID],
    examples: int,
) -> None:
    """Indexed documents whose service is gone (or that name no service at all)."""
    page: list[tuple[str, uuid.UUID | None]] = []
    for doc in iter_documents(client, uid, fields=["id", "service_id"]):
        page.append((str(doc["id"]), _service_id(doc)))
        if len(page) >= BATCH_SIZE:
            _orphans_in(report, engine, uid, page, pending, examples)
            page = []
    _orphans_in(report, engine, uid, page, pending, examples)


def _orphans_in(
    report: CheckReport,
    engine: Engine,
    uid: str,
    page: list[tuple[str, uuid.UUID | None]],
    pending: set[uuid.UUID],
    examples: int,
) -> None:
    known = _existing_services(engine, {sid for _, sid in page if sid is not None})
    for doc_id, sid in page:
        if sid is None or (sid not in known and sid not in pending):
            report.add("extra", doc_id, sid, examples, uid)


def enqueue_fix(*, engine: Engine, report: CheckReport) -> int:
    """Write outbox rows for every drifted service; returns how many."""
    services = sorted(report.drifted_services)
    with Session(engine) as session:
        record_change(session, services)
        session.commit()
    return len(services)


def _service_id(doc: dict[str, Any]) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(doc.get("service_id")))
    except ValueError:
        return None


def _pending_services(engine: Engine) -> set[uuid.UUID]:
    with Session(engine) as session:
        stmt = select(OutboxEvent.entity_id).where(col(OutboxEvent.processed_at).is_(None)).distinct()
        return set(session.exec(stmt).all())


def _existing_services(engine: Engine, ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    wanted = list(ids)
    if not wanted:
        return set()
    with Session(engine) as session:
        return set(session.exec(select(Service.id).where(col(Service.id).in_(wanted))).all())
