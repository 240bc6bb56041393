"""Structured logging with structlog; stdlib loggers (uvicorn, alembic) go through the same chain.

Every record, whichever library wrote it, is redacted (`core.redaction`) and rendered to one line in
the thread that logged it, which is cheap because no traceback or local variable is ever rendered.
Writing that line is left to a background thread behind a bounded queue: a slow or blocked stderr
never blocks the event loop, and when the queue is full, lines are dropped (and counted) rather than
making requests wait.
"""

import atexit
import logging
import queue
import sys
from logging.handlers import QueueHandler, QueueListener
from typing import Any

import structlog

from core.redaction import redact

QUEUE_SIZE = 10_000


class _StderrWriter(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is when the line is written (a test's capture may have swapped it)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


class _DroppingQueueHandler(QueueHandler):
    """Formats in the caller's thread (see `prepare`), hands the line over without ever waiting."""

    dropped = 0

    def enqueue(self, record: logging.LogRecord) -> None:
        try:
            self.queue.put_nowait(record)
        except queue.Full:
            _DroppingQueueHandler.dropped += 1


_listener: QueueListener | None = None
_queue: "queue.Queue[logging.LogRecord]" = queue.Queue(QUEUE_SIZE)


def configure_logging(level: str = "INFO", json: bool = False) -> None:
    global _listener
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = _DroppingQueueHandler(_queue)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[redact, structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    writer = _StderrWriter()
    writer.setFormatter(logging.Formatter("%(message)s"))
    if _listener is not None:
        _listener.stop()  # writes what the previous configuration queued
    _listener = QueueListener(_queue, writer)
    _listener.start()
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Uvicorn's own logging set-up (when a server is started without `log_config=None`, as tests and embedders
    # may) gives its loggers a handler of their own that writes unredacted; route them through ours instead.
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # Access logs would record query strings, which can hold a seeker's location: never log them.
    logging.getLogger("uvicorn.access").disabled = True
    # httpx logs every request at INFO: one line per search (and per Meilisearch call) is noise, not news.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, root.level))


def flush_logs() -> None:
    """Wait until every line logged so far is written (tests, and before the process exits)."""
    if _listener is not None:
        _queue.join()
    sys.stderr.flush()


def dropped_lines() -> int:
    return _DroppingQueueHandler.dropped


@atexit.register
def _stop() -> None:
    if _listener is not None:
        _listener.stop()


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.stdlib.get_logger(name)
