"""Logging set-up: what reaches the log at the default level."""

import logging

import pytest

from core.logging import configure_logging, flush_logs


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
def test_outgoing_http_requests_are_not_logged_one_line_each(level: str, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(level)  # its handler writes to the (captured) stderr
    try:
        logging.getLogger("httpx").info('HTTP Request: POST http://127.0.0.1:7700/multi-search "HTTP/1.1 200 OK"')
        logging.getLogger("search.query").warning("search unavailable")
        flush_logs()  # lines are written by a background thread
        logged = capsys.readouterr().err
        assert "search unavailable" in logged and "multi-search" not in logged
    finally:
        configure_logging("INFO")
