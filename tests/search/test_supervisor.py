"""The embedded Meilisearch is started again after it dies, loses no edit, and never outlives the app."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.app import create_app
from core.settings import Settings
from directory.listings.schemas import AddressIn, ListingIn, LocationIn, OrganizationIn
from directory.listings.service import upsert_listing
from search.client import client_for, iter_documents
from search.embedded import MeiliServer, find_binary
from search.index_spec import index_name
from search.supervisor import MeiliSupervisor
from tests.search.test_sync import all_processed, wait_until

pytestmark = pytest.mark.usefixtures("taxonomy")

ROOT = Path(__file__).resolve().parents[2]


def listing(n: int, name: str) -> ListingIn:
    return ListingIn(
        key=f"supervised:{n}",
        organization=OrganizationIn(key="supervised-org", name="Supervised Neighbors"),
        name=name,
        timezone="America/Chicago",
        categories=["food-pantry"],
        locations=[
            LocationIn(
                key=f"supervised-place:{n}",
                latitude=41.88 + n / 1000,
                longitude=-87.63,
                address=AddressIn(address_1=f"{n} W Lake St", city="Chicago", state_province="IL", postal_code="60601"),
            )
        ],
    )


def meili_pids(data_dir: Path) -> set[int]:
    """Live (not zombie) Meilisearch processes started on this data directory."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if (
            state != "Z"
            and any(b"meilisearch" in part for part in cmdline[:1])
            and str(data_dir).encode() in b" ".join(cmdline)
        ):
            found.add(int(entry.name))
    return found


def health(client: TestClient) -> dict[str, str]:
    body: dict[str, str] = client.get("/healthz").json()
    return body


@contextmanager
def app_with_own_meili(settings: Settings, engine: Engine, **overrides: object) -> Iterator[tuple[FastAPI, TestClient]]:
    app = create_app(settings.model_copy(update=overrides), engine=engine)  # meili=None: the app starts its own
    with TestClient(app) as client:
        yield app, client


def test_sigkilled_meilisearch_is_back_within_10_s_and_every_edit_reaches_the_index(
    engine: Engine, settings: Settings
) -> None:
    names = {n: f"Supervised Pantry {n}" for n in range(20)}
    names.update({n: f"Renamed Supervised Pantry {n}" for n in range(0, 20, 4)})
    uid = index_name(settings.meili_index_prefix)
    with app_with_own_meili(settings, engine, embedded_workers=True) as (app, client):
        server: MeiliServer = app.state.meili
        meili = client_for(server, timeout=5)
        with Session(engine) as session:
            upsert_listing(session=session, listing=listing(100, "First Supervised Pantry"))
        wait_until(lambda: all_processed(engine), timeout=60, what="the index build and the first edit")
        started, errors = threading.Event(), []

        def edit() -> None:  # edits through the service layer, each with its outbox row
            try:
                with Session(engine) as session:
                    for n in range(20):
                        upsert_listing(session=session, listing=listing(n, f"Supervised Pantry {n}"))
                        if n == 5:
                            started.set()
                        time.sleep(0.03)
                    for n in range(0, 20, 4):
                        upsert_listing(session=session, listing=listing(n, names[n]))
                        time.sleep(0.03)
            except Exception as exc:  # surfaced by the assertion below
                errors.append(exc)

        editor = threading.Thread(target=edit)
        editor.start()
        assert started.wait(30)
        old = server.process
        assert old is not None
        old.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        wait_until(lambda: old.poll() is not None, timeout=5, what="the child to die")
        wait_until(
            lambda: server.process is not old and health(client)["search"] == "ok",
            timeout=10 - (time.monotonic() - killed_at),
            what="Meilisearch to be back",
        )
        assert time.monotonic() - killed_at < 10
        assert server.process is not None and server.process.poll() is None
        assert meili_pids(settings.data_dir) == {server.process.pid}  # the old one is gone, one new one
        editor.join(60)
        assert not editor.is_alive() and errors == []
        wait_until(lambda: all_processed(engine), timeout=60, what="the outbox to drain")
        docs = list(iter_documents(meili, uid, fields=["name"]))
        assert sorted(d["name"] for d in docs) == sorted([*names.values(), "First Supervised Pantry"])
        assert app.state.meili_supervisor.restarts == 1


def _wrapper(path: Path, binary: Path, *, works: bool) -> None:
    """A stand-in for the binary that either runs the real one or fails at once, swapped atomically."""
    tmp = path.with_suffix(".new")
    tmp.write_text(f'#!/bin/sh\nexec "{binary}" "$@"\n' if works else "#!/bin/sh\necho broken >&2\nexit 3\n")
    tmp.chmod(0o755)
    tmp.replace(path)


def test_healthz_says_restarting_while_restarts_fail_and_ok_once_one_succeeds(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    real, wrapper = find_binary(settings), tmp_path / "meili-wrapper"
    _wrapper(wrapper, real, works=True)
    with app_with_own_meili(settings, engine, meili_binary=wrapper, meili_max_restarts=5) as (app, client):
        assert health(client)["search"] == "ok"
        server, supervisor = app.state.meili, app.state.meili_supervisor
        _wrapper(wrapper, real, works=False)
        server.process.send_signal(signal.SIGKILL)
        wait_until(lambda: supervisor.failures >= 2, timeout=10, what="two failed restarts")
        assert health(client) == {"database": "ok", "search": "restarting"}
        assert "exited with code 3" in supervisor.detail
        _wrapper(wrapper, real, works=True)
        wait_until(lambda: health(client)["search"] == "ok", timeout=15, what="a successful restart")
        assert httpx.get(f"{server.url}/health").json() == {"status": "available"}


def test_healthz_says_failed_with_what_to_do_after_repeated_failures(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    real, wrapper = find_binary(settings), tmp_path / "meili-wrapper"
    _wrapper(wrapper, real, works=True)
    with app_with_own_meili(settings, engine, meili_binary=wrapper, meili_max_restarts=2) as (app, client):
        supervisor = app.state.meili_supervisor
        _wrapper(wrapper, real, works=False)
        app.state.meili.process.send_signal(signal.SIGKILL)
        wait_until(lambda: health(client)["search"] == "failed", timeout=15, what="the supervisor to give up")
        body = health(client)
        assert "2 restarts in a row" in body["search_detail"] and "restart the app" in body["search_detail"]
        assert supervisor.failures == 2 and meili_pids(settings.data_dir) == set()
        _wrapper(wrapper, real, works=True)
        time.sleep(1.0)  # gave up means gave up: nothing starts it behind the operator's back
        assert health(client)["search"] == "failed" and meili_pids(settings.data_dir) == set()


def test_stopping_the_app_stops_meilisearch_without_a_restart(engine: Engine, settings: Settings) -> None:
    with app_with_own_meili(settings, engine) as (app, client):
        assert health(client)["search"] == "ok"
        first = app.state.meili.process.pid
    time.sleep(1.0)  # longer than the first restart backoff: a restart would have happened by now
    assert meili_pids(settings.data_dir) == set()
    assert app.state.meili_supervisor.restarts == 0
    with pytest.raises(ProcessLookupError):
        os.kill(first, 0)


def test_search_and_sync_follow_a_restart_onto_another_port_when_theirs_was_taken(
    engine: Engine, settings: Settings
) -> None:
    def found(client: TestClient, words: str) -> list[str]:
        response = client.get("/api/v1/search", params={"q": words})
        assert response.status_code == 200, response.text
        return [hit["name"] for hit in response.json()["hits"]]

    with app_with_own_meili(settings, engine, embedded_workers=True) as (app, client):
        with Session(engine) as session:
            upsert_listing(session=session, listing=listing(1, "Harbor Pantry"))
        wait_until(lambda: all_processed(engine), timeout=60, what="the first edit")
        assert found(client, "harbor") == ["Harbor Pantry"]  # the search API's client now exists
        server: MeiliServer = app.state.meili
        app.state.meili_supervisor.stop()  # take over: the port must be taken before the restart
        old_port, old = server.port, server.process
        assert old is not None
        old.kill()
        old.wait(5)
        with socket.socket() as squatter:
            squatter.bind(("127.0.0.1", old_port))
            squatter.listen()
            app.state.meili_supervisor = MeiliSupervisor(server, start_timeout=30).start()
            wait_until(lambda: health(client)["search"] == "ok", timeout=15, what="the restart")
            assert server.port != old_port
            assert (settings.data_dir / "meilisearch" / "url").read_text() == server.url
            assert found(client, "harbor") == ["Harbor Pantry"]
            with Session(engine) as session:
                upsert_listing(session=session, listing=listing(2, "Lighthouse Pantry"))
            wait_until(lambda: all_processed(engine), timeout=60, what="an edit after the move")
            assert found(client, "lighthouse") == ["Lighthouse Pantry"]


CHILD = """
import sys, time
from pathlib import Path
from core.settings import Settings
from search.embedded import start_embedded
from search.supervisor import MeiliSupervisor
server = start_embedded(Settings(data_dir=Path(sys.argv[1])))
MeiliSupervisor(server, start_timeout=30).start()
print("PID", server.process.pid, flush=True)
time.sleep(600)
"""


def test_a_restarted_meilisearch_still_dies_with_its_parent(tmp_path: Path) -> None:
    parent = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        first = next(int(line.split()[1]) for line in parent.stdout if line.startswith("PID "))
        os.kill(first, signal.SIGKILL)
        wait_until(lambda: len(meili_pids(tmp_path) - {first}) == 1, timeout=10, what="the restarted child")
        (restarted,) = meili_pids(tmp_path) - {first}
        parent.kill()  # kill -9 of the app: no chance to clean up
        parent.wait(5)
        # Orphans are reparented to a PID 1 that may never reap them: a zombie is dead, so meili_pids skips it.
        wait_until(lambda: not meili_pids(tmp_path), timeout=10, what="the restarted child to die with its parent")
        assert restarted != first
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(5)


def test_an_external_meilisearch_is_not_supervised(
    engine: Engine, settings: Settings, meili_server: MeiliServer
) -> None:
    app = create_app(settings.model_copy(update={"meili_url": meili_server.url}), engine=engine)
    with TestClient(app) as client:
        assert app.state.meili_supervisor is None
        assert health(client) == {"database": "ok", "search": "ok"}
