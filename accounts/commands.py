"""Account commands, merged into `python -m core`: create-admin."""

import getpass
from typing import Annotated

import typer
from sqlmodel import Session

from core.commands import one_line_errors, open_engine
from core.settings import get_settings

app = typer.Typer()


@app.command("create-admin")
@one_line_errors
def create_admin(
    email: Annotated[str, typer.Option(prompt=True, help="E-mail address to sign in with.")],
    password: Annotated[str | None, typer.Option(help="Password (prompted when omitted; min. 10 chars).")] = None,
) -> None:
    """Create a network administrator account."""
    from accounts.service import create_admin as create

    secret = password or getpass.getpass("Password: ")
    engine = open_engine(get_settings())
    # expire_on_commit=False: the row is read after its session closed (a DetachedInstanceError otherwise).
    with Session(engine, expire_on_commit=False) as session:
        user = create(session=session, email=email, password=secret)
    engine.dispose()
    typer.echo(f"network admin {user.email} created")
