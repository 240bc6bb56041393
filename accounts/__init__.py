"""Accounts, roles, organization membership, sessions, CSRF and API tokens.

What this domain contributes to the app and the root CLI (read only by `core.app` and `core.cli`; the
imports sit inside the functions so that importing any accounts module stays cheap).
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter

    from accounts.navigation import MenuItem
    from core.workers import WorkerFactory


def routers() -> "list[APIRouter]":
    from accounts.admin_views import router as admin_router
    from accounts.devmail import router as devmail_router
    from accounts.navigation import router as navigation_router
    from accounts.views import router as accounts_router

    return [accounts_router, admin_router, devmail_router, navigation_router]


def workers() -> "list[WorkerFactory]":
    return []


def commands() -> "list[typer.Typer]":
    from accounts.commands import app as account_commands

    return [account_commands]


def menu() -> "list[MenuItem]":
    from accounts.navigation import menu as account_menu

    return account_menu()
