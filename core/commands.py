"""What every command line of the project shares: one-line errors and a checked database engine.

The root CLI (`core.cli`), the domains' commands and the worker processes (`python -m search`,
`python -m referrals`) all use these, so none of them imports the root CLI.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import typer
from pydantic import ValidationError
from sqlalchemy.engine import Engine

from core.errors import ConfigurationError, DomainError
from core.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])


def one_line_errors(fn: F) -> F:
    """Bad configuration or input ends the command with one explanatory line, not a traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ConfigurationError as exc:
            typer.secho(f"error: {exc}", fg="red", err=True)
            raise typer.Exit(2) from None
        except DomainError as exc:
            typer.secho(f"error: {exc.message}", fg="red", err=True)
            raise typer.Exit(1) from None
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
            typer.secho(f"error: invalid setting ({problems})", fg="red", err=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def open_engine(settings: Settings) -> Engine:
    """The configured database, its folder created and the connection checked (a clear error if it fails)."""
    from core.db import check_connection, ensure_data_dir, make_engine

    ensure_data_dir(settings.data_dir)
    engine = make_engine(settings)
    check_connection(engine)
    return engine
