"""Development-only mailbox: lists the .eml files written to DATA_DIR/mail when no SMTP server is set.

The mail holds password-reset and invitation links, so reading it is taking over accounts: the page
exists only when the operator turned it on (DEV_MAIL_PAGE, which `make run` sets) while no SMTP server is
configured, and only for a signed-in network admin. Everyone else gets the same 404 as for a page that
does not exist, so the page does not even reveal that it is there.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from accounts.deps import Auth, get_auth
from accounts.models import User
from core.deps import AppSettings
from core.errors import NotFound
from core.i18n import N_
from core.logging import get_logger
from core.mail import mail_dir
from core.settings import Settings
from core.web import render

log = get_logger(__name__)
router = APIRouter(tags=["dev"], include_in_schema=False)
_NAME = re.compile(r"^[A-Za-z0-9T._-]{1,100}\.eml$")
MAX_LISTED = 200


@dataclass(frozen=True)
class StoredMail:
    name: str
    to: str
    subject: str
    date: datetime
    body: str


def mailbox_reader(auth: Annotated[Auth, Depends(get_auth)], settings: AppSettings) -> User:
    if not settings.dev_mail_enabled or auth.user is None or not auth.user.is_network_admin:
        raise NotFound(N_("Not found."))
    return auth.user


MailboxReader = Annotated[User, Depends(mailbox_reader)]


def announce(settings: Settings) -> None:
    """Say at start-up, where the operator looks, that mail is kept here rather than sent."""
    if settings.dev_mail_enabled:
        log.warning(
            f"development mailbox ON: mail is not sent but kept in {mail_dir(settings)} and shown at "
            f"{settings.base_url.rstrip('/')}/dev/mail to signed-in network admins only "
            "(`python -m core create-admin` makes one; DEV_MAIL_PAGE=false turns the page off; "
            "SMTP_HOST sends real mail instead)"
        )
    elif settings.dev_mail_page:
        log.info("development mailbox off because SMTP_HOST is set")


def _read(path: Path) -> StoredMail:
    msg = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert isinstance(msg, EmailMessage)
    part = msg.get_body(preferencelist=("plain",))
    body = part.get_content() if part is not None else ""
    when = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    return StoredMail(path.name, str(msg["To"] or ""), str(msg["Subject"] or ""), when, body)


def stored_mails(settings: Settings) -> list[StoredMail]:
    folder = mail_dir(settings)
    if not folder.is_dir():
        return []
    files = sorted(folder.glob("*.eml"), key=lambda p: p.name, reverse=True)[:MAX_LISTED]
    return [_read(p) for p in files]


@router.get("/dev/mail", response_class=HTMLResponse, name="dev_mail")
def dev_mail(request: Request, settings: AppSettings, _reader: MailboxReader) -> HTMLResponse:
    return render(request, "dev/mail.html", {"mails": stored_mails(settings), "selected": None})


@router.get("/dev/mail/{filename}", response_class=HTMLResponse, name="dev_mail_message")
def dev_mail_message(request: Request, settings: AppSettings, _reader: MailboxReader, filename: str) -> HTMLResponse:
    path = mail_dir(settings) / filename
    if not _NAME.match(filename) or not path.is_file():
        raise NotFound(N_("No such message."))
    return render(request, "dev/mail.html", {"mails": stored_mails(settings), "selected": _read(path)})
