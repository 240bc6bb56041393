"""Outgoing mail as data: use cases return `Mail` values and the web layer sends them after the response.

Sending after the response keeps the reply time the same whether or not an address has an account
(no account enumeration by timing) and keeps SMTP trouble out of database transactions.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from core.logging import get_logger
from core.mail import send_mail
from core.settings import Settings

log = get_logger(__name__)


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


def deliver(settings: Settings, mails: Iterable[Mail]) -> int:
    """Send each mail; a failure is logged (without the address) and does not stop the others."""
    sent = 0
    for mail in mails:
        try:
            send_mail(settings, to=mail.to, subject=mail.subject, body=mail.body)
            sent += 1
        except OSError as exc:
            log.error("mail delivery failed", subject=mail.subject, error=str(exc))
    return sent


def absolute(settings: Settings, path: str) -> str:
    return f"{settings.base_url.rstrip('/')}{path}"
