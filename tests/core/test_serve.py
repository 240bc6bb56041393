"""End to end like `make run`: migrate, seed, serve, browse the sample data, Ctrl-C leaves no process."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "core", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )


def _wait_up(url: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else "server exited"
        try:
            if httpx.get(f"{url}/healthz", timeout=1).json() == {"database": "ok", "search": "ok"}:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("server did not come up")


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def test_migrate_seed_serve_browse_and_ctrl_c(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MEILI_URL", "TEST_DATABASE_URL")}
    env["DATA_DIR"] = str(tmp_path)
    env["DEV_MAIL_PAGE"] = "true"  # as `make run` sets it
    env.pop("BASE_URL", None)
    _cli("migrate", env=env)
    seeded = _cli("seed", "--size", "50", env=env)
    assert "loaded" in seeded.stdout
    again = _cli("seed", "--if-empty", env=env)
    assert "already present" in again.stdout
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "core", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_up(url, proc)
        meili_pids = _children(proc.pid)
        assert meili_pids, "the embedded Meilisearch should be a child of the app"
        orgs = httpx.get(f"{url}/organizations").text
        org_link = re.search(r'href="(/organizations/[0-9a-f-]{36})"', orgs)
        assert org_link, "the organization list links to organization pages"
        org_page = httpx.get(url + org_link.group(1))
        assert org_page.status_code == 200
        service_link = re.search(r'href="[^"]*(/services/[0-9a-f-]{36})"', org_page.text)
        assert service_link
        assert httpx.get(url + service_link.group(1)).status_code == 200
        assert httpx.get(f"{url}/dev/mail").status_code == 404  # on, but not for anonymous visitors
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    said = proc.stderr.read() if proc.stderr else ""
    # The start-up says plainly where the mailbox is (at the port served: BASE_URL follows --port) and who may read it.
    assert f"{url}/dev/mail to signed-in network admins only" in said, said
    time.sleep(0.5)
    for pid in meili_pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        raise AssertionError(f"Meilisearch {pid} survived Ctrl-C")
