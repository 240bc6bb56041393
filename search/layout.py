"""Where the listings live in Meilisearch: the index names, the servers, and the current shard map.

- `<prefix>_listings` ("flat"): every document. With shards it has no `_geo` in its settings, so its
  edits touch no geo R-tree; searches without a place and the online list use it. Without shards (the
  one-index layout, `search_shard_max_documents` = 0) it also answers place searches, with `_geo`.
- `<prefix>_geo_<generation>_<n>`: the regional shards, each the documents with a point in one box of
  the shard map (`search.shards`), with `_geo`. Place searches ask only the shards their circle touches.
- `<prefix>_layout`: one document holding the shard map. A reindex swaps it together with the flat index
  in one atomic swap, so the new shards and the new flat index go live at the same moment.

The flat and layout indexes live on the home server (MEILI_URL or the embedded one). Shards live on the
shard servers (`meili_shard_urls`) in regional groups, or on the home server when none are configured.
"""

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import meilisearch
from meilisearch.errors import MeilisearchApiError

from core.errors import ConfigurationError
from core.settings import Settings
from search.embedded import MeiliServer, wait_healthy
from search.index_spec import index_name
from search.shards import ShardMap

LAYOUT_ID = "layout"
DEFAULT_SHARD_SIZE: int = Settings.model_fields["search_shard_max_documents"].default
MAP_TTL_SECONDS = 1.0  # how long the app trusts its copy of the map (a reindex keeps old shards longer)


class MultiSearch(Protocol):
    """What search needs of a client: `SearchHttp` in the app; a `meilisearch.Client` works too."""

    def multi_search(self, queries: list[dict[str, Any]]) -> Any: ...


def layout_name(prefix: str) -> str:
    return f"{prefix}_layout"


def shard_name(prefix: str, generation: str, number: int) -> str:
    return f"{prefix}_geo_{generation}_{number:03d}"


def shard_prefix(prefix: str) -> str:
    """Every shard of every generation starts with this (old generations are found by it)."""
    return f"{prefix}_geo_"


def is_missing_index(exc: Exception) -> bool:
    return getattr(exc, "code", None) == "index_not_found"


def read_map(client: MultiSearch, prefix: str) -> ShardMap | None:
    """The live shard map; None when there is no layout yet (or an older version wrote it)."""
    query = {"indexUid": layout_name(prefix), "q": "", "limit": 1, "attributesToRetrieve": ["map"]}
    try:
        hits = client.multi_search([query])["results"][0]["hits"]
    except Exception as exc:
        if is_missing_index(exc):
            return None
        raise
    if not hits:
        return None
    try:
        return ShardMap.from_json(hits[0]["map"])
    except (ValueError, KeyError, TypeError):
        return None


def layout_document(shard_map: ShardMap) -> dict[str, Any]:
    return {"id": LAYOUT_ID, "map": shard_map.to_json()}


LAYOUT_SETTINGS: dict[str, Any] = {"searchableAttributes": ["id"], "filterableAttributes": []}


@dataclass(frozen=True)
class Indexes:
    """The writers' view (sync, reindex, check): index names, one admin client per server, the shard size."""

    prefix: str
    home: meilisearch.Client
    groups: tuple[meilisearch.Client, ...] = ()  # shard servers; empty: the home server holds the shards
    max_documents: int = DEFAULT_SHARD_SIZE  # per shard, for the next reindex; 0 = one index with `_geo`

    @property
    def flat(self) -> str:
        return index_name(self.prefix)

    @property
    def layout(self) -> str:
        return layout_name(self.prefix)

    @property
    def group_count(self) -> int:
        return max(1, len(self.groups))

    def server(self, group: int) -> meilisearch.Client:
        """The client of a shard group (a map made for more groups than configured is rebuilt first)."""
        return self.groups[group % len(self.groups)] if self.groups else self.home

    def servers(self) -> list[meilisearch.Client]:
        """Every distinct server, the home server first."""
        found = [self.home, *self.groups]
        return [c for n, c in enumerate(found) if all(c is not other for other in found[:n])]

    def current_map(self) -> ShardMap | None:
        try:
            return read_map(self.home, self.prefix)
        except MeilisearchApiError as exc:
            if is_missing_index(exc):
                return None
            raise

    def expects(self, shard_map: ShardMap) -> bool:
        """Was this map made for the configured shard size and servers? (else a reindex rebuilds it)"""
        if not self.max_documents:
            return not shard_map.sharded
        return (
            shard_map.sharded and shard_map.max_documents == self.max_documents and shard_map.groups == self.group_count
        )


def shard_servers(settings: Settings, *, check: bool = True) -> list[MeiliServer]:
    """The configured shard servers (MEILI_SHARD_URLS, keys in MEILI_SHARD_KEYS), checked now unless told not."""
    keys = list(settings.meili_shard_keys)
    servers = []
    for n, url in enumerate(settings.meili_shard_urls):
        url = url.rstrip("/")
        try:
            if check:
                wait_healthy(url, timeout=3.0)
        except ConfigurationError as exc:
            raise ConfigurationError(f"shard server {url} (MEILI_SHARD_URLS) is unreachable ({exc})") from exc
        key = keys[n] if n < len(keys) else (settings.meili_master_key or "")
        servers.append(MeiliServer(url=url, api_key=key))
    return servers


def indexes_for(settings: Settings, home: MeiliServer, shard_group_servers: Sequence[MeiliServer] = ()) -> Indexes:
    from search.client import client_for

    return Indexes(
        prefix=settings.meili_index_prefix,
        home=client_for(home),
        groups=tuple(client_for(s) for s in shard_group_servers),
        max_documents=settings.search_shard_max_documents,
    )


@dataclass
class SearchTarget:
    """The readers' view: search clients (home and per shard group) and the shard map, re-read every second.

    A search that meets a shard deleted since the map was read (a reindex finished meanwhile) asks for a
    fresh map and runs again (`search.query.search`).
    """

    prefix: str
    home: MultiSearch
    groups: Sequence[MultiSearch] = ()
    ttl: float = MAP_TTL_SECONDS
    monotonic: Callable[[], float] = time.monotonic
    _map: ShardMap | None = field(default=None, repr=False)
    _read_at: float | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def flat(self) -> str:
        return index_name(self.prefix)

    def server(self, group: int) -> MultiSearch:
        return self.groups[group % len(self.groups)] if self.groups else self.home

    def shard_map(self, *, refresh: bool = False) -> ShardMap | None:
        with self._lock:
            now = self.monotonic()
            if refresh or self._read_at is None or now - self._read_at >= self.ttl:
                self._map = read_map(self.home, self.prefix)
                self._read_at = now
            return self._map
