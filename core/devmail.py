"""Development-only mailbox: lists the .eml files written to DATA_DIR/mail when no SMTP server is set.

Not found (404) when SMTP_HOST is configured or DEV_MAIL_PAGE is off, so production never exposes it.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from core.deps import AppSettings
from core.errors import NotFound
from core.mail import mail_dir
from core.settings import Settings
from core.web import render

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


def _enabled(settings: Settings) -> None:
    if settings.smtp_host or not settings.dev_mail_page:
        raise NotFound("Not found.")


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
def dev_mail(request: Request, settings: AppSettings) -> HTMLResponse:
    _enabled(settings)
    return render(request, "dev/mail.html", {"mails": stored_mails(settings), "selected": None})


@router.get("/dev/mail/{filename}", response_class=HTMLResponse, name="dev_mail_message")
def dev_mail_message(request: Request, settings: AppSettings, filename: str) -> HTMLResponse:
    _enabled(settings)
    path = mail_dir(settings) / filename
    if not _NAME.match(filename) or not path.is_file():
        raise NotFound("No such message.")
    return render(request, "dev/mail.html", {"mails": stored_mails(settings), "selected": _read(path)})
