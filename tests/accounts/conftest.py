"""Fixtures for the account tests (shared with the workspace tests through `tests.accounts.fixtures`)."""

from tests.accounts.fixtures import smtp, smtp_settings, web

__all__ = ["smtp", "smtp_settings", "web"]
