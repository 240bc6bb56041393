"""The domains the app is made of, in the order their routers, workers and commands are added.

Each domain package declares in its `__init__.py` what it contributes: `routers()`, `workers()` (factories
started by the app's lifespan when settings.embedded_workers), `commands()` (Typer apps merged into the
root CLI) and `menu()` (links of the staff menu, see accounts.navigation). Only the app factory
(`core.app`) and the root CLI (`core.cli`) read these declarations; no
domain imports either of them.
"""

from typing import TYPE_CHECKING, Protocol

import accounts
import directory
import referrals
import search

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter

    from accounts.navigation import MenuItem
    from core.workers import WorkerFactory


class Domain(Protocol):
    def routers(self) -> "list[APIRouter]": ...

    def workers(self) -> "list[WorkerFactory]": ...

    def commands(self) -> "list[typer.Typer]": ...

    def menu(self) -> "list[MenuItem]": ...


DOMAINS: tuple[Domain, ...] = (accounts, directory, search, referrals)
