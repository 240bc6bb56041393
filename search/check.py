"""Drift check: compare what the database says the index should hold with what it holds.

Walks the services in id order (memory stays flat), builds their documents, fetches the indexed
documents of the same services, and compares a hash of each document's content (Meilisearch-added fields
excluded). Documents whose service no longer exists are found by a final scan when the index holds more
documents than the walk matched. Services with outbox rows still pending are in flight, not drift.
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
from core.outbox import OutboxEvent, record_change
from directory.listings.models import Service
from search.client import index_exists, iter_documents, service_filter
from search.documents import documents_for
from search.reindex import service_id_batches

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
KINDS = ("missing", "extra", "differing")


@dataclass
class CheckReport:
    index_uid: str
    db_documents: int = 0
    index_documents: int = 0
    missing: int = 0
    extra: int = 0
    differing: int = 0
    pending_services: int = 0
    examples: dict[str, list[str]] = field(default_factory=lambda: {kind: [] for kind in KINDS})
    drifted_services: set[uuid.UUID] = field(default_factory=set)

    @property
    def drift(self) -> int:
        return self.missing + self.extra + self.differing

    def add(self, kind: str, doc_id: str, service_id: uuid.UUID | None, limit: int) -> None:
        setattr(self, kind, getattr(self, kind) + 1)
        if len(self.examples[kind]) < limit:
            self.examples[kind].append(doc_id)
        if service_id is not None:
            self.drifted_services.add(service_id)


def content_hash(doc: dict[str, Any]) -> str:
    """A stable hash of a document as sent: key order and Meilisearch's own fields do not count."""
    clean = {k: v for k, v in doc.items() if k not in MEILI_FIELDS}
    text = json.dumps(clean, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def check(
    *, engine: Engine, client: meilisearch.Client, index_uid: str, batch_size: int = BATCH_SIZE, examples: int = 5
) -> CheckReport:
    if not index_exists(client, index_uid):
        raise DomainError(f"index {index_uid} does not exist; run `python -m search reindex`")
    report = CheckReport(index_uid=index_uid)
    pending = _pending_services(engine)
    report.pending_services = len(pending)
    matched = 0
    for ids in service_id_batches(engine, batch_size):
        with Session(engine) as session:
            docs, _ = documents_for(session, ids)
        report.db_documents += len(docs)
        indexed = {str(d["id"]): d for d in iter_documents(client, index_uid, filter=service_filter(ids))}
        matched += len(indexed)
        _compare(report, docs, indexed, pending, examples)
    report.index_documents = client.index(index_uid).get_stats().number_of_documents
    if report.index_documents > matched:
        _find_orphans(report, engine, client, pending, examples)
    return report


def _compare(
    report: CheckReport,
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
            report.add("missing", doc_id, sid, examples)
        elif content_hash(indexed[doc_id]) != content_hash(doc):
            report.add("differing", doc_id, sid, examples)
    for doc_id, doc in indexed.items():
        owner = _service_id(doc)
        if doc_id not in expected and owner not in pending:
            report.add("extra", doc_id, owner, examples)


def _find_orphans(
    report: CheckReport, engine: Engine, client: meilisearch.Client, pending: set[uuid.UUID], examples: int
) -> None:
    """Indexed documents whose service is gone (or that name no service at all)."""
    page: list[tuple[str, uuid.UUID | None]] = []
    for doc in iter_documents(client, report.index_uid, fields=["id", "service_id"]):
        page.append((str(doc["id"]), _service_id(doc)))
        if len(page) >= BATCH_SIZE:
            _orphans_in(report, engine, page, pending, examples)
            page = []
    _orphans_in(report, engine, page, pending, examples)


def _orphans_in(
    report: CheckReport,
    engine: Engine,
    page: list[tuple[str, uuid.UUID | None]],
    pending: set[uuid.UUID],
    examples: int,
) -> None:
    known = _existing_services(engine, {sid for _, sid in page if sid is not None})
    for doc_id, sid in page:
        if sid is None or (sid not in known and sid not in pending):
            report.add("extra", doc_id, sid, examples)


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
