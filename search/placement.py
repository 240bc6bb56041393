"""Put some services' documents where they belong, and nowhere else.

Every document goes to the flat index; a document with a point also goes to the one shard whose box holds
it (`search.shards`). Before writing, the services' documents are looked up in the flat index and in the
shards its copies' points route to (one multi-search per server), so a listing that moved, lost a location
or was hidden is deleted where its copy is. The shards are written before the flat index, so the flat
index never says a copy is somewhere it is not; the drift check looks in every shard for anything else.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import meilisearch
from meilisearch.errors import MeilisearchApiError

from search.client import iter_documents, service_filter, wait_succeeded
from search.filters import in_clause
from search.index_spec import MAX_TOTAL_HITS, PRIMARY_KEY
from search.layout import Indexes
from search.shards import ShardMap, route

Document = dict[str, Any]
FILTER_CHUNK = 500  # services per `service_id IN [...]` filter


class IndexMissing(Exception):
    pass


@dataclass
class Write:
    """What one index must receive: documents to add (replacing whole ones) and ids to delete."""

    client: meilisearch.Client
    uid: str
    add: list[Document] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)


def shard_clients(indexes: Indexes, shard_map: ShardMap | None) -> dict[str, meilisearch.Client]:
    """Each shard's uid and the client of the server that holds it."""
    if shard_map is None:
        return {}
    return {s.uid: indexes.server(s.group) for s in shard_map.shards}


def located(
    indexes: Indexes,
    shard_map: ShardMap | None,
    service_ids: Sequence[Any],
    *,
    fields: Sequence[str] | None = ("id",),
    shards: Iterable[str] = (),
    everywhere: bool = False,
) -> dict[str, dict[str, Document]]:
    """The documents these services have in the flat index and in shards, by index uid and document id
    (`fields` None: whole documents).

    Shards looked in: those the flat index's copies route to (where the previous write put them), plus
    `shards`; `everywhere` looks in every shard (the drift check and its repair: a search of every shard
    opens every index, which Meilisearch keeps only a few of open at a time).
    """
    wanted = None if fields is None else [*fields, "_geo"]
    flat = _flat_documents(indexes, service_ids, wanted)
    routed = route(shard_map, flat.values()) if shard_map is not None else {}
    clients = shard_clients(indexes, shard_map)
    asked = set(clients) if everywhere else (set(routed) | set(shards)) & set(clients)
    found: dict[str, dict[str, Document]] = {indexes.flat: flat, **{uid: {} for uid in sorted(asked)}}
    chunks = _chunks(service_ids)
    by_server: dict[int, tuple[meilisearch.Client, list[tuple[str, list[Any]]]]] = {}
    for uid in sorted(asked):
        for chunk in chunks:
            by_server.setdefault(id(clients[uid]), (clients[uid], []))[1].append((uid, chunk))
    for client, asks in by_server.values():
        _search_shards(client, asks, fields, found)
    return found


def _chunks(service_ids: Sequence[Any]) -> list[list[Any]]:
    return [list(service_ids[n : n + FILTER_CHUNK]) for n in range(0, len(service_ids), FILTER_CHUNK)]


def _flat_documents(indexes: Indexes, service_ids: Sequence[Any], fields: list[str] | None) -> dict[str, Document]:
    found: dict[str, Document] = {}
    try:
        for chunk in _chunks(service_ids):
            for doc in iter_documents(indexes.home, indexes.flat, filter=service_filter(chunk), fields=fields):
                found[str(doc["id"])] = doc
    except MeilisearchApiError as exc:
        if exc.code == "index_not_found":
            raise IndexMissing(f"index {indexes.flat} does not exist yet; run `python -m search reindex`") from exc
        raise
    return found


def _search_shards(
    client: meilisearch.Client,
    asks: list[tuple[str, list[Any]]],
    fields: Sequence[str] | None,
    found: dict[str, dict[str, Document]],
) -> None:
    """One multi-search for many (shard, services) pairs; a shard with more hits than one page is read whole."""
    queries = [
        {
            "indexUid": uid,
            "q": "",
            "filter": service_filter(chunk),
            "limit": MAX_TOTAL_HITS,
            "attributesToRetrieve": _list(fields) or ["*"],
        }
        for uid, chunk in asks
    ]
    results = client.multi_search(queries)["results"]
    for (uid, chunk), result in zip(asks, results, strict=True):
        hits = result.get("hits", [])
        if len(hits) >= MAX_TOTAL_HITS:
            hits = list(iter_documents(client, uid, filter=service_filter(chunk), fields=_list(fields)))
        for doc in hits:
            found[uid][str(doc["id"])] = doc


def _list(fields: Sequence[str] | None) -> list[str] | None:
    return None if fields is None else list(fields)


def plan_writes(
    indexes: Indexes,
    shard_map: ShardMap | None,
    docs: Sequence[Document],
    keep: Iterable[str],
    held: dict[str, dict[str, Document]],
) -> list[Write]:
    """Shards first, the flat index last. `keep`: ids that must stay in the flat index (documents of these
    services that exist); anything else the indexes hold for them goes."""
    routed = route(shard_map, docs) if shard_map is not None else {}
    clients = shard_clients(indexes, shard_map)
    writes = []
    for uid in sorted(set(routed) | {u for u, ids in held.items() if ids and u != indexes.flat}):
        mine = routed.get(uid, [])
        wanted = {str(d["id"]) for d in mine}
        stale = sorted(set(held.get(uid, {})) - wanted)
        client = clients.get(uid)
        if client is not None and (mine or stale):
            writes.append(Write(client, uid, list(mine), stale))
    keep_ids = set(keep) | {str(d["id"]) for d in docs}
    flat_stale = sorted(set(held.get(indexes.flat, {})) - keep_ids)
    if docs or flat_stale:
        writes.append(Write(indexes.home, indexes.flat, list(docs), flat_stale))
    return writes


def apply_writes(writes: Sequence[Write], *, flat: str, timeout_s: float) -> None:
    """The shards' writes (all sent, then awaited), then the flat index's; raise unless every task succeeded.

    The flat index's copy says which shard holds a listing (`located`), so it changes only once the shards
    have: a write that fails half-way is retried from what the flat index still says.
    """
    _apply([w for w in writes if w.uid != flat], timeout_s)
    _apply([w for w in writes if w.uid == flat], timeout_s)


def _apply(writes: Sequence[Write], timeout_s: float) -> None:
    tasks: list[tuple[meilisearch.Client, int]] = []
    for write in writes:
        index = write.client.index(write.uid)
        if write.add:
            tasks.append((write.client, index.add_documents(write.add, primary_key=PRIMARY_KEY).task_uid))
        if write.delete:
            tasks.append((write.client, index.delete_documents(filter=in_clause("id", write.delete)).task_uid))
    for client, task_uid in tasks:
        wait_succeeded(client, task_uid, timeout_s=timeout_s)
