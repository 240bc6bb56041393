"""Meilisearch: index specs, document builders, queries, outbox sync, reindex and search views.

What this domain contributes to the app (read only by `core.app`; the imports sit inside the functions so
that importing any search module stays cheap). Its own commands run as `python -m search`.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter

    from accounts.navigation import MenuItem
    from core.workers import WorkerFactory


def routers() -> "list[APIRouter]":
    from search.api import router as api_router
    from search.views import router as pages_router

    return [api_router, pages_router]


def workers() -> "list[WorkerFactory]":
    """The outbox sync, which first builds a missing or outdated index (only when settings.embedded_workers)."""
    from search.runtime import start_sync_worker

    return [start_sync_worker]


def commands() -> "list[typer.Typer]":
    return []


def menu() -> "list[MenuItem]":
    return []  # search pages are public: no staff menu links
