"""The search package's in-process worker for the embedded default (settings.embedded_workers).

`start_sync_worker` is the factory the search package declares (`search.workers()`); the app's lifespan
calls it, and it runs the outbox sync in a daemon thread; first, if the live index does not exist (a
fresh `make run`), that thread builds it with a full reindex, logging progress, so the directory becomes
searchable without a separate command while the app already serves pages. An index built by an older
version (its settings differ from ours, or it has no shard map), or laid out for another shard size or
other shard servers, is rebuilt the same way; it keeps answering until the new one is swapped in.
"""

import threading

from fastapi import FastAPI
from sqlalchemy.engine import Engine

from core.logging import get_logger
from search.client import index_exists
from search.index_spec import INDEX_SETTINGS, settings_outdated, settings_without_geo
from search.layout import Indexes, indexes_for, shard_servers
from search.reindex import ReindexCancelled, reindex
from search.sync import SyncWorker, backoff_seconds

log = get_logger(__name__)


def start_sync_worker(app: FastAPI) -> SyncWorker:
    engine: Engine = app.state.engine
    settings = app.state.settings
    indexes = indexes_for(settings, app.state.meili, shard_servers(settings))

    def bootstrap(stop: threading.Event) -> None:
        failures = 0
        while not stop.is_set():
            try:
                build_index_if_needed(engine=engine, indexes=indexes, stop=stop)
                return
            except Exception as exc:  # Meilisearch hiccup: try again rather than serve an index-less app
                failures += 1
                log.warning("initial search index build failed; retrying", error=str(exc)[:300])
                stop.wait(backoff_seconds(failures))

    return SyncWorker(engine=engine, indexes=indexes, bootstrap=bootstrap).start()


def rebuild_reason(indexes: Indexes) -> str | None:
    """Why the live indexes cannot serve as they are (None: they can)."""
    if not index_exists(indexes.home, indexes.flat):
        return "search index missing"
    shard_map = indexes.current_map()
    if shard_map is None:
        return "search index built by another version"
    if not indexes.expects(shard_map):
        return "search shard settings changed"
    flat_settings = settings_without_geo() if shard_map.sharded else INDEX_SETTINGS
    if settings_outdated(indexes.home, indexes.flat, flat_settings):
        return "search index built by another version"
    for shard in shard_map.shards:
        client = indexes.server(shard.group)
        if not index_exists(client, shard.uid) or settings_outdated(client, shard.uid):
            return "search shard missing or built by another version"
    return None


def build_index_if_needed(*, engine: Engine, indexes: Indexes, stop: threading.Event | None = None) -> bool:
    """Run a full reindex when the live indexes are missing, outdated or laid out for other settings; returns
    whether it did. Until the new indexes are swapped in, the old ones keep answering."""
    reason = rebuild_reason(indexes)
    if reason is None:
        return False
    log.info(f"{reason}; building it in the background", index=indexes.flat)
    try:
        result = reindex(engine=engine, indexes=indexes, stop=stop)
    except ReindexCancelled:
        log.info("initial search index build cancelled by shutdown", index=indexes.flat)
        return False
    log.info("search index ready", index=indexes.flat, documents=result.documents, seconds=result.seconds)
    return True
