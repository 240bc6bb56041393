"""Outgoing mail: SMTP when configured, otherwise .eml files in DATA_DIR/mail (shown at /dev/mail).

Callers pass only a subject, a link and neutral text: no personal details go into any e-mail.
"""

import smtplib
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from core.clock import utcnow
from core.logging import get_logger
from core.settings import Settings

log = get_logger(__name__)


def mail_dir(settings: Settings) -> Path:
    return settings.data_dir / "mail"


def build_message(settings: Settings, *, to: str, subject: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="directory.local")
    msg.set_content(body)
    return msg


def send_mail(settings: Settings, *, to: str, subject: str, body: str) -> None:
    msg = build_message(settings, to=to, subject=subject, body=body)
    if settings.smtp_host:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
            if settings.smtp_starttls:
                try:
                    smtp.starttls()
                except smtplib.SMTPNotSupportedError:
                    log.warning("smtp server does not offer STARTTLS; sending without it")
            if settings.smtp_username and settings.smtp_password:
                smtp.login(settings.smtp_username, settings.smtp_password)
            smtp.send_message(msg)
        log.info("mail sent", subject=subject)
        return
    folder = mail_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{utcnow().strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}.eml"
    (folder / name).write_bytes(bytes(msg))
    log.info("mail written to folder", subject=subject, file=name)
