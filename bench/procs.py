"""The app under test as a subprocess (`python -m core serve`), and process memory from /proc (no psutil)."""

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from core.settings import PROJECT_ROOT


def _status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def rss_mb(pid: int) -> float:
    return _status_kb(pid, "VmRSS") / 1024


def peak_rss_mb(pid: int) -> float:
    """The process's high-water mark (VmHWM) since it started."""
    return _status_kb(pid, "VmHWM") / 1024


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


class RssSampler:
    """Samples a process's resident memory every 100 ms in a thread; `peak` is the highest sample."""

    def __init__(self, pid: int | None, interval: float = 0.1) -> None:
        self.pid, self.interval, self.peak = pid, interval, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while self.pid is not None and not self._stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            self._stop.wait(self.interval)


@dataclass
class App:
    proc: subprocess.Popen[bytes]
    base_url: str
    data_dir: Path
    log_path: Path
    shard_size: int | None = None
    started: float = field(default_factory=time.monotonic)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def meili_pid(self) -> int | None:
        found = children(self.pid)
        return found[0] if found else None

    def meili(self) -> tuple[str, str]:
        """URL and master key of the app's embedded Meilisearch (published in the data directory)."""
        url = (self.data_dir / "meilisearch" / "url").read_text().strip()
        return url, (self.data_dir / "meili_master_key").read_text().strip()


def app_env(data_dir: Path, prefix: str, shard_size: int | None = None) -> dict[str, str]:
    """The app's environment: this data directory and index prefix; `shard_size` 0 = the one-index layout."""
    unset = ("DATABASE_URL", "MEILI_URL", "MEILI_MASTER_KEY", "MEILI_SHARD_URLS", "SEARCH_SHARD_MAX_DOCUMENTS")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(
        DATA_DIR=str(data_dir),
        EMBEDDED_WORKERS="true",
        MEILI_INDEX_PREFIX=prefix,
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    if shard_size is not None:
        env["SEARCH_SHARD_MAX_DOCUMENTS"] = str(shard_size)
    return env


def start_app(data_dir: Path, port: int, prefix: str, shard_size: int | None = None, timeout: float = 120.0) -> App:
    log_path = data_dir / "app.log"
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "core", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=PROJECT_ROOT,
            env=app_env(data_dir, prefix, shard_size),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    app = App(
        proc=proc, base_url=f"http://127.0.0.1:{port}", data_dir=data_dir, log_path=log_path, shard_size=shard_size
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited with {proc.returncode}; see {log_path}")
        try:
            if httpx.get(f"{app.base_url}/healthz", timeout=2).status_code == 200:
                return app
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop_app(app)
    raise RuntimeError(f"the app did not answer /healthz within {timeout:.0f}s; see {log_path}")


def stop_app(app: App, timeout: float = 60.0) -> None:
    if app.proc.poll() is not None:
        return
    app.proc.send_signal(signal.SIGINT)  # uvicorn shuts down gracefully: workers, then Meilisearch
    try:
        app.proc.wait(timeout)
    except subprocess.TimeoutExpired:
        app.proc.kill()
        app.proc.wait(timeout)
