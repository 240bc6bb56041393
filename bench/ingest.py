"""Reindex (in its own process) versus a raw batched ingest of the same documents into a scratch index."""

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from bench.procs import RssSampler, app_env
from core.settings import PROJECT_ROOT
from search.client import make_client, wait_succeeded
from search.index_spec import apply_settings

PAGE = 1000


def run_reindex(data_dir: Path, prefix: str, app_pid: int, batch_size: int, workers: int = 0) -> dict[str, Any]:
    """`python -m bench.reindex_child` against the running app's Meilisearch; samples the app's RSS meanwhile."""
    with RssSampler(app_pid) as app_rss:
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "bench.reindex_child", str(batch_size), *([str(workers)] if workers else [])],
            cwd=PROJECT_ROOT,
            env=app_env(data_dir, prefix),
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.monotonic() - started
    if done.returncode != 0:
        raise RuntimeError(f"reindex failed ({done.returncode}): {done.stderr[-2000:]}")
    result = dict(json.loads(done.stdout.strip().splitlines()[-1]))
    result.update(wall_seconds=round(wall, 2), app_peak_rss_mb=round(app_rss.peak, 1))
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


def raw_ingest(meili_url: str, api_key: str, path: Path, uid: str, batch_size: int) -> float:
    """Create the scratch index with the same settings, send every batch, wait for every task; seconds."""
    client = make_client(meili_url, api_key, timeout=120)
    started = time.monotonic()
    apply_settings(client, uid)
    tasks: list[int] = []
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/x-ndjson"}
    with httpx.Client(base_url=meili_url, headers=headers, timeout=300) as http:
        for body in _chunks(path, batch_size):
            resp = http.post(f"/indexes/{uid}/documents", params={"primaryKey": "id"}, content=body)
            resp.raise_for_status()
            tasks.append(int(resp.json()["taskUid"]))
    for task in tasks:
        wait_succeeded(client, task, timeout_s=3600)
    seconds = time.monotonic() - started
    wait_succeeded(client, client.delete_index(uid).task_uid, timeout_s=600)
    return round(seconds, 2)
