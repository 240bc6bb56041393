"""The one background-loop base: passes run until stopped, a long wait ends at once on stop."""

import threading
import time

from core.workers import PeriodicWorker


class Counting(PeriodicWorker):
    thread_name = "counting"

    def __init__(self, *, first_wait: float = 0.0, interval: float = 0.01, stop_after: int | None = None) -> None:
        super().__init__(first_wait=first_wait)
        self.interval, self.stop_after = interval, stop_after
        self.calls: list[str] = []
        self.passes = 0

    def before(self) -> None:
        self.calls.append(f"before:{threading.current_thread().name}")

    def step(self) -> float:
        self.passes += 1
        if self.stop_after is not None and self.passes >= self.stop_after:
            self.stop()
        return self.interval

    def after(self) -> None:
        self.calls.append("after")


def test_run_loops_in_the_calling_thread_until_stopped() -> None:
    worker = Counting(stop_after=3)
    worker.run()
    assert worker.passes == 3
    assert worker.calls == [f"before:{threading.current_thread().name}", "after"]


def test_a_thread_worker_waits_first_then_steps_and_stops_promptly() -> None:
    worker = Counting(first_wait=0.2, interval=3600)  # after the first pass it would sleep for an hour
    worker.start()
    time.sleep(0.05)
    assert worker.passes == 0  # still in its first wait
    deadline = time.monotonic() + 5
    while worker.passes == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert worker.passes == 1
    started = time.monotonic()
    worker.stop()
    assert time.monotonic() - started < 2
    assert worker.calls == ["before:counting", "after"]
    assert worker._thread is not None and not worker._thread.is_alive()
