"""What may reach the log: a processor that every structlog and stdlib record passes before rendering.

The log is read by operators who must not see referred people's names, phone numbers or e-mail
addresses, nor anything that signs someone in (session cookies, tokens, password hashes, keys). A call
site cannot be trusted to remember that, so the rules are applied here, to keys and values, nested:
- a value under a sensitive key (name, phone, email, password, token, cookie, sid, body, headers...) is
  replaced whole, whatever it is;
- every string is scrubbed of e-mail addresses, phone numbers, password hashes, `sid=`/`token=` pairs,
  bearer credentials and long random tokens;
- an object other than plain data is logged as its type name only (a model's repr would show its fields);
- an exception is logged as its type and the project line it came from; never its message (messages
  often quote the input), its traceback text or its frames' local variables.
A person's name inside free text has no pattern to find; it is kept out structurally instead: by key,
by object, and by never logging exception messages. Call sites must not build messages from personal data.
"""

import re
import sys
import traceback
import uuid
from collections.abc import Mapping, MutableMapping
from datetime import date, datetime, time
from enum import Enum
from pathlib import Path
from types import TracebackType
from typing import Any

REDACTED = "[redacted]"
MAX_STRING = 300
MAX_ITEMS = 20
MAX_DEPTH = 4
PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Keys written by the logging set-up itself; their values are still scrubbed like any other string.
_OWN_KEYS = frozenset({"event", "level", "timestamp", "logger", "error", "where", "route", "request_id", "method"})
# A key is sensitive when one of its words is one of these, or it contains one of the longer stems.
_SENSITIVE_WORDS = frozenset(
    {
        "sid",
        "csrf",
        "key",
        "ip",
        "lat",
        "lng",
        "lon",
        "near",
        "q",
        "query",
        "dob",
        "ssn",
        "to",
        "cc",
        "bcc",
        "first",
        "last",
        "given",
        "surname",
        "alias",
        "who",
    }
)
_SENSITIVE_STEMS = (
    "password", "passwd", "secret", "token", "cookie", "session", "authorization", "credential", "hash",
    "mail", "phone", "name", "address", "street", "contact", "person", "body", "form", "json", "header",
    "note", "need", "birth", "latitude", "longitude", "signature", "apikey", "api_key",
)  # fmt: skip

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_SCRUBS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\$(?:argon2(?:id|i|d)?|2[abxy]?|pbkdf2[\w-]*|scrypt|sha(?:256|512)-crypt)\$\S*"), "[hash]"),
    (
        re.compile(r"(?i)\b(sid|session\w*|csrf\w*|\w*token|api_?key|key|password|secret)=[^;&\s\"',]*"),
        r"\1=" + REDACTED,
    ),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 [redacted]"),
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"), "[email]"),
    (re.compile(r"[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{16,}"), "[token]"),
    (re.compile(r"(?<![\w.:/-])\+\d{1,3}[\s.-]?(?:\(?\d{1,4}\)?[\s.-]?){2,5}\d{2,4}(?![\w:-])"), "[phone]"),
    (re.compile(r"(?<![\w.:/-])(?:1[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}(?![\w:-])"), "[phone]"),
)  # fmt: skip
_LONG_RANDOM = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{32,}(?![A-Za-z0-9_-])")


def sensitive_key(key: object) -> bool:
    text = str(key).lower()
    if text in _OWN_KEYS:
        return False
    words = re.split(r"[^a-z0-9]+|_", text)
    return any(w in _SENSITIVE_WORDS for w in words) or any(stem in text for stem in _SENSITIVE_STEMS)


def _random_token(match: re.Match[str]) -> str:
    text = match.group(0)
    if _UUID.match(text) or not (any(c.isdigit() for c in text) and any(c.isalpha() for c in text)):
        return text  # ids of listings and referrals are not secrets; plain long words are not tokens
    return "[token]"


def scrub(text: str) -> str:
    """A string with personal data and credentials replaced, cut to MAX_STRING characters."""
    if len(text) > MAX_STRING:
        text = text[:MAX_STRING] + "…"
    for pattern, replacement in _SCRUBS:
        text = pattern.sub(replacement, text)
    return _LONG_RANDOM.sub(_random_token, text)


def clean(value: Any, depth: int = 0) -> Any:
    """Plain data stays (scrubbed); containers are cleaned item by item; anything else becomes its type."""
    if value is None or isinstance(value, bool | int | float | uuid.UUID | datetime | date | time):
        return value
    if isinstance(value, Enum):
        return clean(value.value, depth)
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, BaseException):
        return type(value).__name__
    if depth >= MAX_DEPTH:
        return f"<{type(value).__name__}>"
    if isinstance(value, Mapping):
        items = list(value.items())[:MAX_ITEMS]
        return {str(k): REDACTED if sensitive_key(k) else clean(v, depth + 1) for k, v in items}
    if isinstance(value, list | tuple | set | frozenset):
        return [clean(v, depth + 1) for v in list(value)[:MAX_ITEMS]]
    return f"<{type(value).__name__}>"


def exception_summary(exc_info: Any) -> tuple[str, str | None] | None:
    """(type name, "package/module.py:line") of the innermost project frame, from any exc_info form."""
    if exc_info is True:
        exc_info = sys.exc_info()
    if isinstance(exc_info, BaseException):
        exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
    if not isinstance(exc_info, tuple) or len(exc_info) != 3 or exc_info[0] is None:
        return None
    return exc_info[0].__name__, project_frame(exc_info[2])


def project_frame(tb: TracebackType | None) -> str | None:
    where = None
    for frame in traceback.extract_tb(tb):
        path = Path(frame.filename)
        if path.is_relative_to(PROJECT_ROOT) and ".venv" not in path.parts:
            where = f"{path.relative_to(PROJECT_ROOT)}:{frame.lineno}"
    return where


def redact(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> dict[str, Any]:
    """structlog processor: the last one before the renderer, for structlog and stdlib records alike."""
    summary = exception_summary(event_dict.pop("exc_info", None))
    event_dict.pop("exception", None)
    event_dict.pop("stack_info", None)
    event_dict.pop("stack", None)
    if summary is not None:
        event_dict.setdefault("error", summary[0])
        if summary[1]:
            event_dict.setdefault("where", summary[1])
    cleaned: dict[str, Any] = {}
    for key, value in event_dict.items():
        if key.startswith("_"):
            cleaned[key] = value  # structlog's own bookkeeping (the record), removed before rendering
        elif sensitive_key(key):
            cleaned[key] = REDACTED
        else:
            cleaned[key] = clean(value)
    return cleaned
