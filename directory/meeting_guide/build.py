"""Building the Meeting Guide feeds once per data version: one feed per fellowship, all together, an index.

A feed is the same bytes for every reader until a listing changes, so it is built once per outbox version
(core/outbox.py `data_version`) and kept by the app's `VersionedCache` (core/conditional.py); the routes
in directory/meeting_guide/views.py only look the version up and answer, mostly with a 304 or the cached bytes.
"""

import json
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core.conditional import CurrentVersion, StaticBody, VersionedCache
from directory.listings.models import Meeting, Service
from directory.listings.taxonomy import FELLOWSHIPS
from directory.meeting_guide.feed import feed_batches, served

JSON = "application/json"
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # Last-Modified of a directory that has never changed
ALL = ""  # cache key of the feed of every fellowship
INDEX = "/"  # cache key of the list of feeds

ListingUrl = Callable[[uuid.UUID], str]


class FeedSite:
    """What a feed needs from the app: its database, its cache, the data version and how to write URLs."""

    def __init__(self, *, engine: Engine, cache: VersionedCache, version: CurrentVersion, base_url: str,
                 path_for: Callable[..., str]) -> None:  # fmt: skip
        self.engine, self.cache, self.version, self.base = engine, cache, version, base_url.rstrip("/")
        self.path_for = path_for

    def url(self, name: str, **params: str) -> str:
        return self.base + self.path_for(name, **params)

    def listing_url(self, service_id: uuid.UUID) -> str:
        return self.url("service", service_id=str(service_id))

    def peek(self, key: str) -> StaticBody | None:
        """The built document when the data version is known and it is built: no query, no build, no wait."""
        known = self.version.known()
        return None if known is None else self.cache.peek(("meeting-guide", key, self.base), known[0])

    def cached(self, key: str, build: Callable[[Session, datetime], bytes]) -> StaticBody:
        version, changed = self.version.read()
        stamp = changed or EPOCH

        def make() -> StaticBody:
            with Session(self.engine) as session:
                return StaticBody.of(build(session, stamp), media_type=JSON, last_modified=stamp)

        return self.cache.get(("meeting-guide", key, self.base), version, make)

    def feed(self, fellowship: str = ALL) -> StaticBody:
        return self.cached(fellowship, lambda session, _: feed_bytes(session, self.listing_url, fellowship or None))

    def index(self) -> StaticBody:
        return self.cached(INDEX, lambda session, _: _dumps(self._index(session)))

    def _index(self, session: Session) -> dict[str, Any]:
        counts = meetings_by_fellowship(session)
        return {
            "description": "Meeting Guide feeds of this directory, one per fellowship. The Meeting Guide app and "
            "TSML UI describe meeting types in A.A.'s words, so point them at one fellowship's feed.",
            "feeds": [
                {
                    "fellowship": code,
                    "name": FELLOWSHIPS[code].label,
                    "meetings": counts[code],
                    "url": self.url("meeting_guide_fellowship_feed", fellowship=code),
                }
                for code in FELLOWSHIPS
                if counts.get(code)
            ],
            "all_fellowships": {
                "url": self.url("meeting_guide_feed"),
                "meetings": sum(counts.values()),
                "description": "Every fellowship's meetings in one feed, for our own tools and search engines; "
                "nothing in an entry says which fellowship it belongs to.",
            },
        }


def feed_bytes(session: Session, listing_url: ListingUrl, fellowship: str | None) -> bytes:
    entries = [entry for batch in feed_batches(session, listing_url, fellowship=fellowship) for entry in batch]
    return b"[" + b",".join(_dumps(entry) for entry in finish(entries)) + b"]"


def finish(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What depends on the whole feed: regions every meeting shares, and a zone for a meeting without one."""
    placed = [e for e in entries if e.get("regions")]
    # The format asks to leave out a region all meetings share (a one-state feed starts at the city).
    while placed and all(len(e["regions"]) > 1 for e in placed) and len({e["regions"][0] for e in placed}) == 1:
        for entry in placed:
            entry["regions"] = entry["regions"][1:]
    # TSML UI refuses a whole feed when one entry has no zone ("time zone is not set"): give such an
    # entry (an online meeting by appointment with no place at all) the zone most of the feed uses.
    zones = Counter(e["timezone"] for e in entries if e.get("timezone"))
    if zones:
        common = zones.most_common(1)[0][0]
        for entry in entries:
            entry.setdefault("timezone", common)
    return entries


def meetings_by_fellowship(session: Session) -> dict[str, int]:
    stmt = (
        select(Meeting.fellowship, func.count())
        .join(Service, col(Service.id) == Meeting.service_id)
        .where(*served())
        .group_by(col(Meeting.fellowship))
    )
    return {code: int(n) for code, n in session.exec(stmt)}


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
