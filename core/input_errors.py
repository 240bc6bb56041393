"""Pydantic's complaints about a form field in words a person can act on, marked for translation (`N_`) so a
page shows them in the reader's language. One table for every HTML form; the JSON API keeps pydantic's own."""

from typing import Any

from pydantic_core import ErrorDetails

from core.i18n import N_

_BY_TYPE: dict[str, str] = {
    "missing": N_("This field is required."),
    "string_type": N_("This field is required."),
    "string_pattern_mismatch": N_("This is not in the expected format."),
    "enum": N_("Choose one of the options."),
    "literal_error": N_("Choose one of the options."),
    "int_parsing": N_("Give a whole number."),
    "int_type": N_("Give a whole number."),
    "float_parsing": N_("Give a number."),
    "bool_parsing": N_("Choose yes or no."),
    "uuid_parsing": N_("Choose from the list."),
    "time_parsing": N_("Give a time like 18:30."),
    "time_type": N_("Give a time like 18:30."),
    "date_parsing": N_("Give a date like 2026-03-31."),
    "date_from_datetime_parsing": N_("Give a date like 2026-03-31."),
    "datetime_parsing": N_("Give a date and time like 2026-03-31 18:30."),
    "datetime_from_date_parsing": N_("Give a date and time like 2026-03-31 18:30."),
    "too_long": N_("Too many entries."),
    "too_short": N_("Choose at least one."),
    "list_type": N_("Choose at least one."),
}


def friendly(error: ErrorDetails) -> str:
    """The message for one pydantic error: a validator's own message (kept translatable), a length limit with
    its number, or the table above; pydantic's English text only for what the table does not know."""
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    if kind == "value_error" and isinstance(ctx.get("error"), ValueError) and ctx["error"].args:
        message = ctx["error"].args[0]
        return message if isinstance(message, str) else str(message)
    if kind == "string_too_long":
        return N_("At most %(count)s characters.", count=ctx.get("max_length"))
    if kind == "string_too_short" and int(ctx.get("min_length") or 1) > 1:
        return N_("At least %(count)s characters.", count=ctx.get("min_length"))
    if kind == "string_too_short":
        return N_("This field is required.")
    if kind in ("greater_than_equal", "greater_than"):
        return N_("Give a number of at least %(limit)s.", limit=ctx.get("ge", ctx.get("gt")))
    if kind in ("less_than_equal", "less_than"):
        return N_("Give a number of at most %(limit)s.", limit=ctx.get("le", ctx.get("lt")))
    return _BY_TYPE.get(kind, str(error["msg"]))
