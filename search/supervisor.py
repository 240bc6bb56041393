"""Keep the embedded Meilisearch running: start it again when it dies, give up after repeated failures.

The app (core/app.py lifespan) supervises the child it started; an external MEILI_URL is not ours to
restart. A death is noticed within `poll_interval`; the replacement starts after a backoff (0.5 s, 1 s,
2 s, … as the sync worker backs off) with the same command, data directory and master key, and on the
same port unless another process took it meanwhile (then on a free one; the clients made by
`client_for` and the search API follow). A restart counts as a failure until the child has stayed up for
`stable_after` seconds, so a child that crashes at once is not restarted forever: after `max_restarts`
failures in a row the supervisor stops trying and reports "failed" until a person restarts the app.

Nothing is lost meanwhile: edits wait in the outbox and the sync worker, which retries with backoff,
drains it once the server answers again. `MeiliServer.stop()` marks the server as stopping first, so
shutting the app down never triggers a restart.
"""

import time

from core.errors import ConfigurationError
from core.logging import get_logger
from core.workers import PeriodicWorker
from search.embedded import MeiliServer, free_port, port_is_free
from search.sync import backoff_seconds

log = get_logger(__name__)

OK, RESTARTING, FAILED = "ok", "restarting", "failed"


class MeiliSupervisor(PeriodicWorker):
    # The thread lives until stop(): replacements are started from it, and PR_SET_PDEATHSIG ties a
    # child to the thread that started it (see search.embedded._die_with_parent).
    thread_name = "meili-supervisor"
    stop_timeout = 15.0

    def __init__(
        self,
        server: MeiliServer,
        *,
        start_timeout: float,
        max_restarts: int = 5,
        stable_after: float = 60.0,
        poll_interval: float = 0.2,
    ) -> None:
        if server.process is None or not server.command:
            raise ValueError("only an embedded Meilisearch started by this process can be supervised")
        super().__init__(first_wait=poll_interval)
        self.server = server
        self.start_timeout, self.max_restarts = start_timeout, max_restarts
        self.stable_after, self.poll_interval = stable_after, poll_interval
        self.restarts = 0  # successful restarts since the app started
        self.failures = 0  # restarts in a row that did not last `stable_after` seconds
        self.detail = ""
        self._state = OK
        self._up_since = time.monotonic()

    @property
    def status(self) -> str:
        """ok | restarting (down, or coming back) | failed (gave up)."""
        if self._state == OK and not self.server.stopping:
            proc = self.server.process
            if proc is not None and proc.poll() is not None:
                return RESTARTING  # died a moment ago; the supervisor is about to notice
        return self._state

    def step(self) -> float:
        if self.server.stopping:
            self.finish()
            return 0.0
        proc = self.server.process
        if proc is None or proc.poll() is None:
            if self.failures and time.monotonic() - self._up_since >= self.stable_after:
                self.failures = 0
            return self.poll_interval
        self._state = RESTARTING
        log.warning("meilisearch exited; restarting it", code=proc.returncode, pid=proc.pid)
        if not self._restart():
            self.finish()
        return self.poll_interval

    def _restart(self) -> bool:
        """Try until the child is healthy again (True) or we give up or are stopped (False)."""
        while self.failures < self.max_restarts:
            self.failures += 1
            if self.stopping.wait(backoff_seconds(self.failures)) or self.server.stopping:
                return False
            port = self.server.port if port_is_free(self.server.port) else free_port()
            try:
                self.server.launch(self.start_timeout, port=port)
            except ConfigurationError as exc:
                if self.server.stopping:
                    return False
                self.detail = str(exc)[:500]
                log.warning("meilisearch restart failed", attempt=self.failures, error=self.detail)
                continue
            self.restarts += 1
            self._up_since = time.monotonic()
            self._state, self.detail = OK, ""
            pid = self.server.process.pid if self.server.process else None
            log.info("meilisearch restarted", url=self.server.url, pid=pid, attempt=self.failures)
            return True
        self._state = FAILED
        self.detail = (
            f"Meilisearch failed {self.failures} restarts in a row and is no longer restarted; "
            f"see {self.server.log_path} and restart the app ({self.detail})"
        )
        log.error("meilisearch supervisor gave up", detail=self.detail)
        return False


def supervise(server: MeiliServer, *, start_timeout: float, max_restarts: int) -> MeiliSupervisor | None:
    """Start supervising the embedded child; None for an external MEILI_URL (nothing of ours to restart)."""
    if server.process is None or not server.command:
        return None
    return MeiliSupervisor(server, start_timeout=start_timeout, max_restarts=max_restarts).start()
