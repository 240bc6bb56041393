"""Syncing feed sources: fetch with a conditional GET, skip what did not change, import what did, and keep
the outcome (counts, warnings and errors by row) on the source for its admin page.

An unchanged feed writes no meeting: the server answers 304 to our ETag / Last-Modified, or the body hashes
the same as last time. A daily worker syncs every source that is due (each has its own interval).
"""

import dataclasses
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core.clock import utcnow
from core.logging import get_logger
from core.workers import PeriodicWorker
from directory.hsds.report import ImportReport
from directory.meeting_guide.importer import FeedError, parse_feed, to_listing
from directory.sources.apply import apply_feed
from directory.sources.models import FeedSource

log = get_logger(__name__)
TIMEOUT = 30.0
UPLOAD_PREFIX = "upload:"  # workspace uploads are sources too, but there is nothing to fetch


@dataclass(frozen=True)
class Fetched:
    body: bytes | None  # None: the server said 304 Not Modified
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class SyncOutcome:
    code: str
    status: str  # imported | unchanged | not-modified | failed
    summary: str
    report: ImportReport | None = None


def fetch(source: FeedSource, *, client: httpx.Client | None = None, conditional: bool = True) -> Fetched:
    """The feed's body; over HTTP with If-None-Match / If-Modified-Since from the last successful sync."""
    if not source.location.startswith(("http://", "https://")):
        try:
            return Fetched(Path(source.location).read_bytes())
        except OSError as exc:
            raise FeedError(f"cannot read {source.location}: {exc}") from exc
    headers = {"Accept": "application/json"}
    if conditional and source.etag:
        headers["If-None-Match"] = source.etag
    if conditional and source.last_modified_header:
        headers["If-Modified-Since"] = source.last_modified_header
    try:
        if client is not None:
            response = client.get(source.location, headers=headers, timeout=TIMEOUT, follow_redirects=True)
        else:
            response = httpx.get(source.location, headers=headers, timeout=TIMEOUT, follow_redirects=True)
    except httpx.HTTPError as exc:
        raise FeedError(f"cannot read {source.location}: {exc}") from exc
    if response.status_code == 304:
        return Fetched(None)
    if response.status_code != 200:
        raise FeedError(f"{source.location} answered HTTP {response.status_code}")
    return Fetched(response.content, response.headers.get("etag"), response.headers.get("last-modified"))


def sync_source(
    *, session: Session, source: FeedSource, now: datetime | None = None, force: bool = False,
    client: httpx.Client | None = None,
) -> SyncOutcome:  # fmt: skip
    """Sync one source; the outcome is also kept on the source (its last sync, counts and problems)."""
    now = now or utcnow()
    try:
        fetched = fetch(source, client=client, conditional=not force)
    except FeedError as exc:
        return _finish(session, source, now, "failed", exc.message, None)
    if fetched.body is None:
        return _finish(session, source, now, "not-modified", "the server says the feed has not changed", None)
    digest = hashlib.sha256(fetched.body).hexdigest()
    if digest == source.content_hash and not force:
        return _finish(session, source, now, "unchanged", "the feed is the same as at the last sync", None)
    name = source.location.rsplit("/", 1)[-1] or source.code
    report = ImportReport(actor=f"feed:{source.code}")
    try:
        data = parse_feed(fetched.body, name)
    except FeedError as exc:
        return _finish(session, source, now, "failed", exc.message, None)
    apply_feed(session=session, feed=source, data=data, name=name, report=report, strict=source.strict,
               fellowship=source.fellowship, timezone=source.timezone, to_listing=to_listing)  # fmt: skip
    if not report.ok:
        session.rollback()
        return _finish(session, source, now, "failed", report.summary(), report)
    source.content_hash, source.etag, source.last_modified_header = digest, fetched.etag, fetched.last_modified
    source.last_changed_at = now
    return _finish(session, source, now, "imported", report.summary(), report)


def _finish(
    session: Session, source: FeedSource, now: datetime, status: str, summary: str, report: ImportReport | None
) -> SyncOutcome:
    source.last_sync_at, source.last_status, source.last_summary = now, status, summary[:2000]
    if report is not None:
        counts = report.counts.get("meeting")
        source.last_counts = {**(dataclasses.asdict(counts) if counts else {}), "skipped": len(report.skipped_rows),
                              "meetings": report.rows_read}  # fmt: skip
        source.last_problems = [_problem(p) for p in report.problems]
    elif status == "failed":
        source.last_problems = [{"row": None, "field": None, "message": summary, "severity": "error"}]
    session.add(source)
    session.commit()
    log.info("feed sync", source=source.code, status=status)
    return SyncOutcome(source.code, status, summary, report)


def _problem(problem: Any) -> dict[str, Any]:
    return {"row": problem.row, "field": problem.field, "message": problem.message, "severity": problem.severity}


def due_sources(*, session: Session, now: datetime) -> list[FeedSource]:
    """Sources to fetch now: never synced, or synced longer ago than their interval."""
    found = []
    for source in session.exec(select(FeedSource).order_by(col(FeedSource.code))):
        if source.location.startswith(UPLOAD_PREFIX):
            continue
        last = source.last_sync_at
        if last is not None and last.tzinfo is None:
            last = last.replace(tzinfo=now.tzinfo)
        if last is None or last + timedelta(hours=source.interval_hours) <= now:
            found.append(source)
    return found


def sync_due(*, session: Session, now: datetime | None = None) -> list[SyncOutcome]:
    now = now or utcnow()
    return [sync_source(session=session, source=source, now=now) for source in due_sources(session=session, now=now)]


class FeedSyncWorker(PeriodicWorker):
    """Checks every hour which sources are due (daily by default) and syncs them, in the web process."""

    thread_name = "feed-sync"

    def __init__(self, *, engine: Engine, interval: float = 3600.0, delay: float = 120.0) -> None:
        super().__init__(first_wait=delay)
        self.engine, self.interval = engine, interval

    def step(self) -> float:
        try:
            with Session(self.engine, expire_on_commit=False) as session:
                sync_due(session=session)
        except Exception as exc:
            log.warning("feed sync failed; retrying next time", error=type(exc).__name__)
        return self.interval


def start_feed_sync_worker(app: FastAPI) -> FeedSyncWorker:
    return FeedSyncWorker(engine=app.state.engine).start()
