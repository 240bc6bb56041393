"""Edge rules for values that reach a calendar, `zoneinfo`, datetime arithmetic or a response header.

Every way data comes in (forms, JSON API, query strings, imports) checks these before a value is used,
so a far-future date, a 300-character "time zone" or a name with a line break is a 422 naming the field,
never an OverflowError, an OSError from the zone loader or a broken calendar file later on.
The checks raise ValueError with a sentence meant for the person who typed the value; pydantic turns
that into a field error, and hand-written parsers wrap it in `ValidationFailed`.
"""

import re
import zoneinfo
from datetime import date, datetime
from functools import lru_cache
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, GetJsonSchemaHandler, ValidationInfo, field_validator
from pydantic.json_schema import JsonSchemaValue

from core.i18n import N_

# Years a date or instant may have. Wide enough for any real schedule, consent or appointment, and far
# enough from datetime's limits (1..9999) that any UTC offset or a few years of arithmetic stays in range.
FIRST_YEAR = 1900
LAST_YEAR = 2999
MAX_ZONE_NAME = 64  # the longest IANA name is about 30 characters
_ZONE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$")
# C0 controls, DEL, C1 controls and the Unicode line/paragraph separators. Multi-line text keeps \n and \t.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_EXCEPT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
# The same two rules as JSON Schema patterns (ECMA-262 syntax), for the OpenAPI document.
_LINE_CHARS = r"[^\u0000-\u001f\u007f-\u009f\u2028\u2029]"
_TEXT_CHARS = r"[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029]"
_VISIBLE = r"[^\s\u0000-\u001f\u007f-\u009f\u2028\u2029]"
# (multi-line?, required?) -> pattern; a required value has a visible character after any leading blanks.
_PATTERNS = {
    (False, False): rf"^{_LINE_CHARS}*$",
    (True, False): rf"^{_TEXT_CHARS}*$",
    (False, True): rf"^ *{_VISIBLE}{_LINE_CHARS}*$",
    (True, True): rf"^[\t\n\r ]*{_VISIBLE}{_TEXT_CHARS}*$",
}


def check_year(value: date) -> None:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(N_("Give a date between the years %(first)s and %(last)s.", first=FIRST_YEAR, last=LAST_YEAR))


def check_instant(value: datetime) -> datetime:
    """A date-time in the supported years (checked on the wall-clock value, so no offset can overflow)."""
    check_year(value)
    return value


def check_day(value: date) -> date:
    check_year(value)
    return value


@lru_cache(maxsize=1024)
def is_zone_name(name: str) -> bool:
    """An IANA zone the server knows. The shape is checked before the zone loader sees it: that loader
    reads files named after its argument and fails with OSError on an over-long one."""
    if not name or len(name) > MAX_ZONE_NAME or not _ZONE_NAME.match(name):
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def check_zone(name: str) -> str:
    if not is_zone_name(name):
        raise ValueError(N_("Choose a time zone such as America/Chicago."))
    return name


def has_control_characters(text: str, *, multiline: bool = False) -> bool:
    return bool((_CONTROL_EXCEPT_LINES if multiline else _CONTROL).search(text))


def check_line(text: str) -> str:
    """One line of text (a name, a title, a phone number): no line breaks or other control characters."""
    if has_control_characters(text):
        raise ValueError(N_("Use a single line without line breaks or control characters."))
    return text


def check_text(text: str) -> str:
    """Free text that may span lines: line breaks and tabs are fine, other control characters are not."""
    if has_control_characters(text, multiline=True):
        raise ValueError(N_("Remove the control characters from this text."))
    return text


def one_line(text: str) -> str:
    """Whatever is stored, as one line fit for a header or a calendar property: controls become spaces."""
    return " ".join(_CONTROL.sub(" ", text).split())


def clean_text(text: str) -> str:
    """Whatever is stored, as multi-line text: CRLF/CR become LF, other controls become spaces."""
    return _CONTROL_EXCEPT_LINES.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))


class TextInput(BaseModel):
    """Base of input models: every text field is one line, except those named in MULTILINE, and no text
    field takes other control characters. A new field is thereby single-line unless said otherwise."""

    MULTILINE: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        # Document the rule too, so API clients (and the contract test's generated requests) know it.
        schema = handler.resolve_ref_schema(handler(core_schema))
        for name, prop in schema.get("properties", {}).items():
            for option in prop.get("anyOf", [prop]):
                if option.get("type") == "string" and "pattern" not in option and "format" not in option:
                    # Input is stripped of surrounding white space, so a required text needs a visible character.
                    required = option.get("minLength", 0) > 0
                    option["pattern"] = _PATTERNS[name in cls.MULTILINE, required]
        return schema

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str):
            return check_text(value) if info.field_name in cls.MULTILINE else check_line(value)
        return value


# pydantic field types: the same rules in input models.
def _iso_text(value: Any) -> Any:
    # Pydantic alone also reads a bare number as seconds since 1970; an API documenting ISO 8601 must not.
    if isinstance(value, int | float) or (isinstance(value, str) and not _ISO_DATE.match(value)):
        raise ValueError(N_("Give an ISO 8601 date and time, e.g. 2026-01-31T18:00:00Z."))
    return value


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# A date and time given by a client: ISO 8601 text only, in the supported years.
Instant = Annotated[datetime, BeforeValidator(_iso_text), AfterValidator(check_instant)]
Day = Annotated[date, AfterValidator(check_day)]
ZoneName = Annotated[str, AfterValidator(check_zone)]
Line = Annotated[str, AfterValidator(check_line)]
Text = Annotated[str, AfterValidator(check_text)]
