"""Serving built documents like static files: built once per data version, answered by ETag/Last-Modified.

Public feeds are fetched on every page view of every site that embeds them, yet they change only when a
listing does. A route therefore asks `VersionedCache.get` for the document of the current data version
(building it only when that version is new), and `static_response` answers a conditional GET with 304,
otherwise sends the body gzipped once in advance (when the client accepts gzip) with Cache-Control.
"""

import gzip
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from core.outbox import data_version

GZIP_LEVEL = 6  # the size gain of level 9 is ~1 % on JSON, for twice the time
# How long a write made by another process (an import from the command line, another web worker) may take
# to show in the data version. Readers keep a feed for minutes (Cache-Control) anyway.
VERSION_TTL = 1.0


@dataclass(frozen=True, slots=True)
class StaticBody:
    body: bytes
    gzipped: bytes
    etag: str
    last_modified: datetime
    media_type: str

    @classmethod
    def of(cls, body: bytes, *, media_type: str, last_modified: datetime) -> "StaticBody":
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'  # from the content: equal on every web process
        stamp = last_modified if last_modified.tzinfo else last_modified.replace(tzinfo=UTC)
        return cls(body, gzip.compress(body, GZIP_LEVEL, mtime=0), etag, stamp.replace(microsecond=0), media_type)


def is_not_modified(request: Request, body: StaticBody) -> bool:
    """RFC 9110: If-None-Match wins when present; If-Modified-Since is only looked at without it."""
    match = request.headers.get("if-none-match")
    if match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in match.split(",")}
        return "*" in tags or body.etag in tags
    since = request.headers.get("if-modified-since")
    if since is None:
        return False
    try:
        when = parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False  # an unreadable date is ignored, as the RFC asks
    return when.tzinfo is not None and _utc(body.last_modified).replace(microsecond=0) <= when


def _utc(when: datetime) -> datetime:
    # HTTP dates are GMT; PostgreSQL hands timestamps back in the session's zone, SQLite without one.
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def static_response(request: Request, body: StaticBody, *, max_age: int) -> Response:
    headers = {
        "ETag": body.etag,
        "Last-Modified": format_datetime(_utc(body.last_modified), usegmt=True),
        "Cache-Control": f"public, max-age={max_age}",
        "Vary": "Accept-Encoding",
    }
    if is_not_modified(request, body):
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", "").lower():
        headers["Content-Encoding"] = "gzip"  # the gzip middleware leaves an encoded body alone
        return Response(body.gzipped, media_type=body.media_type, headers=headers)
    return Response(body.body, media_type=body.media_type, headers=headers)


def cached_response(
    request: Request, *, key: Hashable, version: Hashable, last_modified: datetime, build: Callable[[], bytes],
    media_type: str = "application/json", max_age: int,
) -> Response:  # fmt: skip
    """The document under `key` for this data version (built only when the version is new), answered as
    `static_response` does. The app keeps one `VersionedCache` as `app.state.static_cache`."""
    cache: VersionedCache = request.app.state.static_cache

    def make() -> StaticBody:
        return StaticBody.of(build(), media_type=media_type, last_modified=last_modified)

    return static_response(request, cache.get(key, version, make), max_age=max_age)


class VersionedCache:
    """Built values by key, each kept with the data version it was built from (least recently used dropped).

    One lock per key: concurrent requests for a document that is being built wait for that build instead
    of all building it; documents under other keys are served meanwhile. While a new version is being
    built, the other readers get the previous version at once (a feed build takes seconds on a busy
    server, and a reader is better served by the feed as it was a moment ago than by waiting).
    """

    def __init__(self, max_items: int = 256, max_bytes: int = 256 * 1024 * 1024) -> None:
        self.max_items, self.max_bytes = max_items, max_bytes
        self._items: OrderedDict[Hashable, tuple[Hashable, StaticBody]] = OrderedDict()
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: Hashable, version: Hashable, build: Callable[[], StaticBody]) -> StaticBody:
        found = self._fresh(key, version)
        if found is not None:
            return found
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        if not lock.acquire(blocking=False):
            with self._guard:
                stale = self._items.get(key)
            if stale is not None:  # another request is building the new version: serve the previous one
                return stale[1]
            lock.acquire()
        try:
            found = self._fresh(key, version)  # built by the request we waited for
            if found is None:
                found = build()
                self._keep(key, version, found)
            return found
        finally:
            lock.release()

    def _keep(self, key: Hashable, version: Hashable, body: StaticBody) -> None:
        with self._guard:
            self._items[key] = (version, body)
            self._items.move_to_end(key)
            while len(self._items) > self.max_items or (len(self._items) > 1 and self._bytes() > self.max_bytes):
                old, _ = self._items.popitem(last=False)
                self._locks.pop(old, None)

    def _bytes(self) -> int:
        return sum(len(body.body) + len(body.gzipped) for _, body in self._items.values())

    def _fresh(self, key: Hashable, version: Hashable) -> StaticBody | None:
        with self._guard:
            item = self._items.get(key)
            if item is None or item[0] != version:
                return None
            self._items.move_to_end(key)
            return item[1]

    def peek(self, key: Hashable, version: Hashable) -> StaticBody | None:
        """The document of this version when it is already built; never waits and never builds."""
        return self._fresh(key, version)

    def clear(self) -> None:
        with self._guard:
            self._items.clear()


Version = tuple[int, datetime | None]
_commits = 0  # commits made by this process's sessions; a change means the data version may have moved


@event.listens_for(OrmSession, "after_commit")
def _count_commit(session: OrmSession) -> None:
    global _commits
    _commits += 1  # a lost increment between two threads still changes the value, which is all that counts


class CurrentVersion:
    """The data version (core/outbox.py `data_version`) without a query on every request.

    A public feed is read on every page view of every site that embeds it; under load each query costs the
    request several waits for the interpreter lock. The version read is reused until a session of this
    process commits (so this process's own writes show at once) or VERSION_TTL passes (other processes').
    """

    def __init__(self, engine: Engine, ttl: float = VERSION_TTL) -> None:
        self.engine, self.ttl = engine, ttl
        self._last: tuple[Version, float, int] | None = None  # version, when read, commit count then

    def known(self) -> Version | None:
        """The version when the last read still holds, else None (then `read` it)."""
        last = self._last
        if last is None or last[2] != _commits or time.monotonic() - last[1] >= self.ttl:
            return None
        return last[0]

    def read(self) -> Version:
        found = self.known()
        if found is not None:
            return found
        commits, started = _commits, time.monotonic()  # before the query: a commit during it reads again
        with Session(self.engine) as session:
            found = data_version(session)
        self._last = (found, started, commits)
        return found
