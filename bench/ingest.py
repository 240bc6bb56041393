"""Reindex (in its own process) versus a raw batched ingest of the same documents into scratch indexes laid
out as the live ones: one index, or a flat index plus the shards of the live map (same routing)."""

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.procs import RssSampler, app_env
from core.settings import PROJECT_ROOT
from search.client import make_client, wait_succeeded
from search.index_spec import INDEX_SETTINGS, apply_settings, settings_without_geo
from search.layout import Indexes
from search.loading import Loader
from search.shards import ShardMap, point_of

PAGE = 1000


def run_reindex(
    data_dir: Path,
    prefix: str,
    app_pid: int,
    batch_size: int,
    workers: int = 0,
    shard_size: int | None = None,
    meili_pid: int | None = None,
) -> dict[str, Any]:
    """`python -m bench.reindex_child` against the running app's Meilisearch; samples the app's and
    Meilisearch's RSS meanwhile."""
    with RssSampler(app_pid) as app_rss, RssSampler(meili_pid) as meili_rss:
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "bench.reindex_child", str(batch_size), *([str(workers)] if workers else [])],
            cwd=PROJECT_ROOT,
            env=app_env(data_dir, prefix, shard_size),
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.monotonic() - started
    if done.returncode != 0:
        raise RuntimeError(f"reindex failed ({done.returncode}): {done.stderr[-2000:]}")
    result = dict(json.loads(done.stdout.strip().splitlines()[-1]))
    result.update(
        wall_seconds=round(wall, 2),
        app_peak_rss_mb=round(app_rss.peak, 1),
        meilisearch_peak_rss_mb=round(meili_rss.peak, 1),
    )
    return result


def export_documents(meili_url: str, api_key: str, uid: str, path: Path) -> int:
    """Every document of the live index to NDJSON (what the reindex sent), page by page."""
    count = 0
    with (
        httpx.Client(base_url=meili_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=120) as http,
        path.open("w", encoding="utf-8") as out,
    ):
        while True:
            resp = http.post(f"/indexes/{uid}/documents/fetch", json={"offset": count, "limit": PAGE})
            resp.raise_for_status()
            docs = resp.json()["results"]
            for doc in docs:
                out.write(json.dumps(doc, ensure_ascii=False) + "\n")
            count += len(docs)
            if len(docs) < PAGE:
                return count


def _chunks(path: Path, size: int) -> Iterator[bytes]:
    lines: list[bytes] = []
    with path.open("rb") as src:
        for line in src:
            lines.append(line)
            if len(lines) >= size:
                yield b"".join(lines)
                lines = []
    if lines:
        yield b"".join(lines)


def raw_ingest(
    meili_url: str, api_key: str, path: Path, prefix: str, batch_size: int, shard_map: ShardMap | None
) -> float:
    """Create scratch indexes with the live ones' settings, send every batch, wait for every task; seconds.

    One index: `INDEX_SETTINGS` from the start, a batch per task. Shards: a flat index without `_geo` and one
    index per shard of the live map with `_geo`, each document routed as the reindex routes it, shard
    bodies gathered as the reindex gathers them (`search.loading.Loader`).
    """
    client = make_client(meili_url, api_key, timeout=120)
    started = time.monotonic()
    if shard_map is None or not shard_map.sharded:
        uid = f"{prefix}_scratch"
        apply_settings(client, uid)
        tasks = [
            client.index(uid).add_documents_ndjson(body, primary_key="id").task_uid
            for body in _chunks(path, batch_size)
        ]
        for task in tasks:
            wait_succeeded(client, task, timeout_s=3600)
        seconds = time.monotonic() - started
        wait_succeeded(client, client.delete_index(uid).task_uid, timeout_s=600)
        return round(seconds, 2)
    scratch = replace(
        shard_map,
        shards=tuple(replace(s, uid=f"{prefix}_scratch_{n:03d}") for n, s in enumerate(shard_map.shards)),
        _by_uid={},
    )
    indexes = Indexes(prefix=f"{prefix}_scratch", home=client)
    flat = f"{prefix}_scratch_flat"
    targets = [(flat, settings_without_geo())] + [(s.uid, INDEX_SETTINGS) for s in scratch.shards]
    for task in [client.index(uid).update_settings(wanted).task_uid for uid, wanted in targets]:
        wait_succeeded(client, task, timeout_s=600)
    loader = Loader(indexes, flat, scratch)
    for body in _chunks(path, batch_size):
        loader.add(body, _routed(body, scratch))
    loader.finish()
    seconds = time.monotonic() - started
    for task in [client.delete_index(uid).task_uid for uid, _ in targets]:
        wait_succeeded(client, task, timeout_s=600)
    return round(seconds, 2)


def _routed(body: bytes, shard_map: ShardMap) -> dict[str, bytes]:
    lines: dict[str, list[bytes]] = {}
    for line in body.splitlines(keepends=True):
        point = point_of(orjson.loads(line))
        if point is not None:
            lines.setdefault(shard_map.shard_for(*point).uid, []).append(line)
    return {uid: b"".join(chunk) for uid, chunk in lines.items()}
