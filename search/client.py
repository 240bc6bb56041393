"""Meilisearch client construction and task checking, shared by sync, reindex, check and the CLI.

`wait_for_task` returns failed tasks instead of raising; `wait_succeeded` turns anything but
"succeeded" into `TaskFailed`, so no caller can forget to look at the final status.
"""

import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import httpx
import meilisearch
import orjson
from meilisearch.errors import MeilisearchApiError, MeilisearchError

from core.errors import ConfigurationError
from core.settings import Settings
from search.embedded import MeiliServer, connect, master_key, start_embedded, wait_healthy
from search.filters import in_clause

# Seconds for one HTTP request; a hung server then looks like a down one instead of blocking a worker.
HTTP_TIMEOUT = 30
PAGE = 1000


class SearchRequestFailed(Exception):
    """Meilisearch answered a search with an error status (a bad filter is our bug, a 5xx its trouble)."""

    def __init__(self, status: int, code: str | None, message: str) -> None:
        super().__init__(f"HTTP {status} {code}: {message}")
        self.status, self.code = status, code


class SearchHttp:
    """The search hot path: one httpx client and orjson instead of the `meilisearch` client's requests/json.

    Connections are not kept alive: on a reused connection every response arrived about 40 ms late (the
    Linux delayed-ACK timer; TCP_NODELAY on our side did not help, so the stall is on the server's side),
    46 ms against 4.7 ms per search here. A new loopback connection per search costs well under 1 ms.
    """

    def __init__(self, url: str, api_key: str | None, *, timeout: float) -> None:
        headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {api_key}"} if api_key else {})}
        self.timeout = timeout
        no_reuse = httpx.Limits(max_keepalive_connections=0)
        self._http = httpx.Client(base_url=url, headers=headers, timeout=timeout, limits=no_reuse)

    @property
    def url(self) -> str:
        return str(self._http.base_url).rstrip("/")

    @url.setter
    def url(self, value: str) -> None:  # MeiliServer re-points its followers after a restart on another port
        self._http.base_url = httpx.URL(value)

    def multi_search(self, queries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        resp = self._http.post("/multi-search", content=orjson.dumps({"queries": list(queries)}))
        if resp.status_code != 200:
            try:
                body = orjson.loads(resp.content)
            except orjson.JSONDecodeError:
                body = {}
            raise SearchRequestFailed(resp.status_code, body.get("code"), str(body.get("message", resp.text))[:500])
        result: dict[str, Any] = orjson.loads(resp.content)
        return result

    def close(self) -> None:
        self._http.close()


class TaskFailed(Exception):
    """A Meilisearch task ended in any state but "succeeded" (or could not be awaited)."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


def make_client(url: str, api_key: str, *, timeout: int = HTTP_TIMEOUT) -> meilisearch.Client:
    return meilisearch.Client(url, api_key or None, timeout=timeout)


def client_for(server: MeiliServer, *, timeout: int = HTTP_TIMEOUT) -> meilisearch.Client:
    """A client that follows the server if a restart has to move it to another port (it reads the URL
    from its config on every request)."""
    client = make_client(server.url, server.api_key, timeout=timeout)
    server.followers.add(client.config)
    return client


def wait_succeeded(
    client: meilisearch.Client, task_uid: int, *, timeout_s: float = 60.0, interval_ms: int = 20
) -> None:
    """Wait for one task and raise `TaskFailed` unless it succeeded."""
    try:
        task = client.wait_for_task(task_uid, timeout_in_ms=int(timeout_s * 1000), interval_in_ms=interval_ms)
    except MeilisearchError as exc:
        raise TaskFailed(f"task {task_uid} could not be awaited: {exc}") from exc
    if task.status != "succeeded":
        error = task.error or {}
        message = error.get("message", "no error message")
        raise TaskFailed(f"task {task_uid} ({task.type}) {task.status}: {message}", code=error.get("code"))


def index_exists(client: meilisearch.Client, uid: str) -> bool:
    try:
        client.get_raw_index(uid)
    except MeilisearchApiError as exc:
        if exc.code == "index_not_found":
            return False
        raise
    return True


def create_index(client: meilisearch.Client, uid: str, *, timeout_s: float = 60.0) -> None:
    """Create an empty index keyed by `id`; an index that already exists is fine."""
    task = client.create_index(uid, {"primaryKey": "id"})
    try:
        wait_succeeded(client, task.task_uid, timeout_s=timeout_s)
    except TaskFailed as exc:
        if exc.code != "index_already_exists":
            raise


def delete_index(client: meilisearch.Client, uid: str, *, timeout_s: float = 120.0) -> None:
    wait_succeeded(client, client.delete_index(uid).task_uid, timeout_s=timeout_s)


def service_filter(service_ids: Iterable[uuid.UUID]) -> str:
    return in_clause("service_id", [str(sid) for sid in service_ids])


def iter_documents(
    client: meilisearch.Client, uid: str, *, filter: str | None = None, fields: list[str] | None = None
) -> Iterator[dict[str, Any]]:
    """Every stored document matching `filter`, page by page (offsets are stable while nothing writes)."""
    offset = 0
    index = client.index(uid)
    while True:
        params: dict[str, Any] = {"offset": offset, "limit": PAGE}
        if filter:
            params["filter"] = filter
        if fields:
            params["fields"] = fields
        page = index.get_documents(params)
        for doc in page.results:
            yield dict(doc)
        offset += len(page.results)
        if len(page.results) < PAGE:
            return


def published_server(settings: Settings) -> MeiliServer | None:
    """The embedded Meilisearch a running app started on this data directory, if it answers."""
    path = settings.data_dir / "meilisearch" / "url"
    if not path.is_file():
        return None
    url = path.read_text().strip()
    try:
        wait_healthy(url, timeout=1.0)
    except ConfigurationError:
        return None
    return MeiliServer(url=url, api_key=master_key(settings.data_dir))


@contextmanager
def meili_for_command(settings: Settings) -> Iterator[MeiliServer]:
    """MEILI_URL when set; else the running app's embedded server; else an embedded one for this command."""
    if settings.meili_url:
        yield connect(settings)
        return
    running = published_server(settings)
    if running is not None:
        yield running
        return
    server = start_embedded(settings)
    try:
        yield server
    finally:
        server.stop()
