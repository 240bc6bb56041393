"""One base for the in-process background loops (search outbox sync, Meilisearch supervisor, referral timers,
freshness reminders).

A worker runs `step()` again and again until it is stopped; `step()` returns how long to wait before the
next call. It runs in a daemon thread (`start()`, the embedded default inside the web process) or in the
calling thread (`run()`, a separate worker process such as `python -m search sync`). Waiting on the stop
event rather than sleeping makes `stop()` end a long wait at once.
"""

import threading
from collections.abc import Callable
from typing import ClassVar, Protocol, Self

from fastapi import FastAPI


class Stoppable(Protocol):
    def stop(self) -> None: ...


# What a domain declares for the app factory: given the app (its engine, settings and Meilisearch in
# `app.state`), start a worker and return it; the lifespan stops it on shutdown.
WorkerFactory = Callable[[FastAPI], Stoppable]


class PeriodicWorker:
    thread_name: ClassVar[str] = "worker"
    stop_timeout: ClassVar[float] = 10.0

    def __init__(self, *, first_wait: float = 0.0) -> None:
        self.first_wait = first_wait
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def step(self) -> float:
        """Do one pass; return the seconds to wait before the next one. Must not raise."""
        raise NotImplementedError

    def before(self) -> None:
        """Runs once in the worker's thread before the first pass (e.g. building a missing index)."""

    def after(self) -> None:
        """Runs once in the worker's thread after the last pass."""

    @property
    def stopping(self) -> threading.Event:
        return self._stop

    def finish(self) -> None:
        """End the loop from inside a pass (the worker has nothing left to do); `stop()` still joins it."""
        self._stop.set()

    def run(self) -> None:
        """Loop in the calling thread until `stop()`."""
        self.before()
        wait = self.first_wait
        while not self._stop.wait(wait):
            wait = self.step()
        self.after()

    def start(self) -> Self:
        self._thread = threading.Thread(target=self.run, name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    def wait(self) -> None:
        """Block until the worker's thread ends (a worker process waiting for Ctrl-C)."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=1.0)

    def stop(self, timeout: float | None = None) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread.is_alive() and thread is not threading.current_thread():
            thread.join(self.stop_timeout if timeout is None else timeout)
