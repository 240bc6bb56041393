"""The managed Meilisearch: started for real, keyed, loopback-only, and gone after stop."""

import os
import stat
import time

import httpx
import meilisearch
import pytest

from core.errors import ConfigurationError
from core.settings import Settings
from search.embedded import MeiliServer, connect, master_key, start_embedded


def test_document_written_is_found_again(meili_client: meilisearch.Client, index_prefix: str) -> None:
    index = meili_client.index(f"{index_prefix}_smoke")
    task = index.add_documents([{"id": "1", "name": "Tuesday Night Serenity Group"}], primary_key="id")
    assert meili_client.wait_for_task(task.task_uid).status == "succeeded"
    hits = index.search("serenity")["hits"]
    assert [h["id"] for h in hits] == ["1"]


def test_server_is_loopback_and_requires_the_key(meili_server: MeiliServer) -> None:
    assert meili_server.url.startswith("http://127.0.0.1:")
    assert httpx.get(f"{meili_server.url}/indexes").status_code == 401
    ok = httpx.get(f"{meili_server.url}/indexes", headers={"Authorization": f"Bearer {meili_server.api_key}"})
    assert ok.status_code == 200


def test_master_key_is_generated_once_with_private_mode(tmp_path) -> None:
    first = master_key(tmp_path)
    assert master_key(tmp_path) == first and len(first) >= 32
    mode = stat.S_IMODE(os.stat(tmp_path / "meili_master_key").st_mode)
    assert mode == 0o600


def test_stop_leaves_no_process(tmp_path) -> None:
    server = start_embedded(Settings(data_dir=tmp_path))
    assert server.process is not None
    pid = server.process.pid
    server.stop()
    time.sleep(0.1)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_unreachable_meili_url_is_one_clear_error(tmp_path) -> None:
    with pytest.raises(ConfigurationError, match=r"MEILI_URL http://127\.0\.0\.1:9 is unreachable"):
        connect(Settings(data_dir=tmp_path, meili_url="http://127.0.0.1:9"))


def test_missing_binary_says_what_to_do(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr("search.embedded.NPM_BINARY", tmp_path / "nope")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ConfigurationError, match="make run"):
        start_embedded(Settings(data_dir=tmp_path, meili_binary=tmp_path / "missing"))
