"""The search package's in-process worker for the embedded default (settings.embedded_workers).

`start_sync_worker` is the factory the search package declares (`search.workers()`); the app's lifespan
calls it, and it runs the outbox sync in a daemon thread; first, if the live index does not exist (a
fresh `make run`), that thread builds it with a full reindex, logging progress, so the directory becomes
searchable without a separate command while the app already serves pages. An index built by an older
version (its filterable fields differ from `INDEX_SETTINGS`) is rebuilt the same way; it keeps answering
until the new one is swapped in.
"""

import threading

import meilisearch
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from core.logging import get_logger
from search.client import client_for, index_exists
from search.index_spec import index_name, settings_outdated
from search.reindex import ReindexCancelled, reindex
from search.sync import SyncWorker, backoff_seconds

log = get_logger(__name__)


def start_sync_worker(app: FastAPI) -> SyncWorker:
    engine: Engine = app.state.engine
    prefix: str = app.state.settings.meili_index_prefix
    client = client_for(app.state.meili)

    def bootstrap(stop: threading.Event) -> None:
        failures = 0
        while not stop.is_set():
            try:
                build_index_if_needed(engine=engine, client=client, prefix=prefix, stop=stop)
                return
            except Exception as exc:  # Meilisearch hiccup: try again rather than serve an index-less app
                failures += 1
                log.warning("initial search index build failed; retrying", error=str(exc)[:300])
                stop.wait(backoff_seconds(failures))

    return SyncWorker(engine=engine, client=client, index_uid=index_name(prefix), bootstrap=bootstrap).start()


def build_index_if_needed(
    *, engine: Engine, client: meilisearch.Client, prefix: str, stop: threading.Event | None = None
) -> bool:
    """Run a full reindex when the live index does not exist or has outdated settings; returns whether it did."""
    uid = index_name(prefix)
    if not index_exists(client, uid):
        log.info("search index missing; building it in the background", index=uid)
    elif settings_outdated(client, uid):
        log.info("search index built by another version; rebuilding it in the background", index=uid)
    else:
        return False
    try:
        result = reindex(engine=engine, client=client, prefix=prefix, stop=stop)
    except ReindexCancelled:
        log.info("initial search index build cancelled by shutdown", index=uid)
        return False
    log.info("search index ready", index=uid, documents=result.documents, seconds=result.seconds)
    return True
