"""Warm referrals between peers and organizations: consent, the workflow, timers, metrics, FHIR export.

What this domain contributes to the app (read only by `core.app`; the imports sit inside the functions so
that importing any referrals module stays cheap). Its own commands run as `python -m referrals`.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter

    from accounts.navigation import MenuItem
    from core.workers import WorkerFactory


def routers() -> "list[APIRouter]":
    from referrals.api import router as api_router
    from referrals.views import router as pages_router

    return [pages_router, api_router]


def workers() -> "list[WorkerFactory]":
    """Reminders, expiry, follow-ups and the retention purge (only when settings.embedded_workers)."""
    from referrals.timers import start_timer_worker

    return [start_timer_worker]


def commands() -> "list[typer.Typer]":
    return []


def menu() -> "list[MenuItem]":
    """Referral pages in the staff menu (my referrals, the inbox, metrics, notifications)."""
    from referrals.navigation import menu as referral_menu

    return referral_menu()
