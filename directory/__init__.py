"""Organizations, services, locations, schedules, meetings and taxonomy (Open Referral HSDS 3.0 aligned).

Sub-packages: `listings` (tables, schemas, reading and writing listings, public pages), `edits` (the
listing-change engine), `workspace` (organization screens and bulk upload), `stewardship` (moderation,
claims, suggestions, freshness), `meeting_guide` and `hsds` (data exchange), `sources` (feeds we aggregate:
registered Meeting Guide feed sources and their syncs).

What this domain contributes to the app and the root CLI (read only by `core.app` and `core.cli`; the
imports sit inside the functions so that importing any directory module stays cheap).
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter

    from accounts.navigation import MenuItem
    from core.workers import WorkerFactory


def routers() -> "list[APIRouter]":
    from directory.hsds.api import router as hsds_router
    from directory.listings.views import router as listings_router
    from directory.meeting_guide.views import router as meeting_guide_router
    from directory.sources.views import router as feed_sources_router
    from directory.stewardship.access_views import router as access_router
    from directory.stewardship.public_views import router as suggestions_router
    from directory.stewardship.views import router as moderation_router
    from directory.workspace.api import router as workspace_api_router
    from directory.workspace.views import router as workspace_router

    return [
        listings_router,
        hsds_router,
        meeting_guide_router,
        workspace_router,
        workspace_api_router,
        moderation_router,
        suggestions_router,
        access_router,
        feed_sources_router,
    ]


def workers() -> "list[WorkerFactory]":
    """Daily freshness reminders, feed-source syncs and the hourly suggestion digest for moderators (started
    only when settings.embedded_workers)."""
    from directory.sources.sync import start_feed_sync_worker
    from directory.stewardship.digest import start_suggestion_digest_worker
    from directory.stewardship.freshness import start_freshness_worker

    return [start_freshness_worker, start_feed_sync_worker, start_suggestion_digest_worker]


def commands() -> "list[typer.Typer]":
    from directory.hsds.commands import app as hsds_commands
    from directory.meeting_guide.commands import app as meeting_guide_commands
    from directory.sources.cli import app as feeds_commands
    from directory.stewardship.commands import app as stewardship_commands

    return [hsds_commands, meeting_guide_commands, stewardship_commands, feeds_commands]


def menu() -> "list[MenuItem]":
    """The organization pages, moderation and the network admin's pages in the staff menu."""
    from directory.navigation import menu as directory_menu

    return directory_menu()
