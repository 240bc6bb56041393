"""Outgoing mail: SMTP when configured, otherwise .eml files in DATA_DIR/mail (shown at /dev/mail).

Use cases return `Mail` values and send them with `deliver` only after their transaction committed (the
web layer does it after the response), so a rolled-back change never sends mail, SMTP trouble stays out
of database transactions, and the reply time is the same whether or not an address has an account (no
account enumeration by timing). Callers pass only a subject, a link and neutral text: no personal details
go into any e-mail.
"""

import smtplib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from core.clock import utcnow
from core.i18n import LANGUAGES, gettext
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


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


def in_both_languages(
    *,
    to: str,
    subject: str,
    paragraphs: Sequence[str],
    values: Mapping[str, object] | None = None,
    words: Mapping[str, str] | None = None,
) -> Mail:
    """A mail in English, then in Spanish. Accounts hold no language choice, and a timer's mail follows no
    request, so every mail carries both (as US social-services notices often do). `paragraphs` and `subject`
    are message ids marked with `N_`; `values` fill their placeholders as they are (links, names), `words`
    are message ids themselves and are translated too (a role, a status). A value may also be a function of
    the language (a list whose lines hold translated words)."""

    def text(lang: str, message: str) -> str:
        given = {k: v(lang) if callable(v) else v for k, v in (values or {}).items()}
        filled = {**given, **{k: gettext(lang, w) for k, w in (words or {}).items()}}
        translated = gettext(lang, message)
        return translated % filled if "%(" in translated else translated

    langs = list(LANGUAGES)
    subjects = list(dict.fromkeys(text(lang, subject) for lang in langs))
    bodies = ["\n\n".join(text(lang, p) for p in paragraphs) for lang in langs]
    headed = [bodies[0]] + [f"— {LANGUAGES[lang]} —\n\n{b}" for lang, b in zip(langs[1:], bodies[1:], strict=True)]
    body = "\n\n".join(headed) + "\n"
    return Mail(to=to, subject=" / ".join(subjects), body=body)


def deliver(settings: Settings, mails: Iterable[Mail]) -> int:
    """Send each mail; a failure is logged (without the address) and neither stops the others nor undoes
    the change it reports."""
    sent = 0
    for mail in mails:
        try:
            send_mail(settings, to=mail.to, subject=mail.subject, body=mail.body)
            sent += 1
        except OSError as exc:
            log.error("mail delivery failed", subject=mail.subject, error=str(exc))
    return sent


def absolute(settings: Settings, path: str) -> str:
    """The full URL of a site path, for links in e-mails."""
    return f"{settings.base_url.rstrip('/')}{path}"
