"""The one rule for links, whichever way they come in (forms, JSON API, HSDS and Meeting Guide imports)
and whichever way they go out (public pages, the HSDS API, the Meeting Guide feed).

A web link (a service's or organization's website, a meeting's conference link) is an absolute http(s)
URL with a host, no user name or password in it, no spaces and no control characters. Nothing else is
accepted: not `javascript:`, `data:`, `vbscript:`, `file:`, relative paths or protocol-relative `//host`.
Phone numbers are stored as such and only turned into `tel:` links by `tel_href` at rendering time, so no
stored value ever chooses its own scheme (`mailto:` links are built by templates from our own values only).
Output applies the same rule again, so a value stored before this rule existed is never emitted as a link.
"""

import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator

MAX_URL_LENGTH = 2000
WEB_SCHEMES = frozenset({"http", "https"})
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")
_PHONE_KEEP = re.compile(r"[^0-9+*#,;().-]")  # digits, pauses and RFC 3966 visual separators


def web_url_problem(value: str, *, secure: bool = False) -> str | None:
    """Why `value` is not an acceptable web link, or None when it is."""
    wanted = "https://" if secure else "http:// or https://"
    if len(value) > MAX_URL_LENGTH:
        return f"A web address has at most {MAX_URL_LENGTH} characters."
    if _SPACE_OR_CONTROL.search(value):
        return "A web address cannot contain spaces or line breaks."
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:  # e.g. an unbalanced [ in the host
        return f"Give a full web address starting with {wanted}"
    scheme = parts.scheme.lower()
    if scheme not in WEB_SCHEMES or (secure and scheme != "https"):
        return f"Give a full web address starting with {wanted}"
    if not host:
        return "The web address needs a host name, e.g. https://example.org/"
    if parts.username is not None or parts.password is not None:
        return "A web address cannot contain a user name or password."
    return None


def is_web_url(value: object, *, secure: bool = False) -> bool:
    return isinstance(value, str) and web_url_problem(value, secure=secure) is None


def check_web_url(value: str) -> str:
    if problem := web_url_problem(value):
        raise ValueError(problem)
    return value


def check_secure_url(value: str) -> str:
    if problem := web_url_problem(value, secure=True):
        raise ValueError(problem)
    return value


def web_href(value: object) -> str | None:
    """A stored link as an href, or None when it breaks the rule (templates and feeds then leave it out)."""
    return value if isinstance(value, str) and is_web_url(value) else None


def tel_href(number: object) -> str | None:
    """`tel:` + the dialable characters of a stored phone number (spaces and letters dropped), or None when
    nothing dialable is left."""
    digits = _PHONE_KEEP.sub("", str(number or ""))
    return f"tel:{digits}" if sum(c.isdigit() for c in digits) >= 3 else None


# pydantic field types for input models.
WebUrl = Annotated[str, AfterValidator(check_web_url)]
SecureUrl = Annotated[str, AfterValidator(check_secure_url)]
