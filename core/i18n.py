"""English and Spanish: choosing the language per request and translating templates with Babel catalogs.

The language comes from `?lang=` in the URL (so a visitor's choice survives in links and forms without a
cookie) or else from `Accept-Language`. The header middleware (`core.security`) stores it on the request
state; the template `_()` reads it from there, so one shared Jinja environment serves both languages safely.
"""

from collections.abc import Mapping
from datetime import date, datetime, time
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.support import NullTranslations, Translations
from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from starlette.requests import Request

from core.settings import PROJECT_ROOT

LOCALE_DIR = PROJECT_ROOT / "locale"
DEFAULT_LANG = "en"
LANGUAGES: Mapping[str, str] = {"en": "English", "es": "Español"}


class Message(str):
    """An English message with the values of its placeholders, as services raise it: it reads as the English
    text everywhere (logs, JSON), and a template's `_()` translates the template and fills it again."""

    template: str
    params: Mapping[str, Any]

    def __new__(cls, template: str, params: Mapping[str, Any]) -> "Message":
        made = super().__new__(cls, template % params)
        made.template, made.params = template, dict(params)
        return made


def N_(message: str, **params: Any) -> str:
    """Marks a message for extraction; it is translated later, where the language is known. With `params`
    (`N_("Use at least %(n)d characters.", n=12)`) it stays translatable after the values are filled in."""
    return Message(message, params) if params else message


def translate(lang: str, message: str) -> str:
    """`message` in `lang`: a catalog entry, a `Message` filled again, or the text itself when not in the catalog."""
    catalog = translations(lang)
    if isinstance(message, Message):
        # A value that is a Message itself (a word such as "a reason") is translated too.
        params = {k: translate(lang, v) if isinstance(v, Message) else v for k, v in message.params.items()}
        return catalog.ugettext(message.template) % params
    return catalog.ugettext(message)


# The error page titles of core.web.TITLES, repeated here so the catalog holds them.
_ERROR_TITLES = (
    N_("Bad request"),
    N_("Please sign in"),
    N_("Not allowed"),
    N_("Not found"),
    N_("Method not allowed"),
    N_("Conflict"),
    N_("Too large"),
    N_("Please check your input"),
    N_("Too many requests"),
    N_("Something went wrong"),
    N_("Temporarily unavailable"),
    N_("Error"),
)


@lru_cache(maxsize=len(LANGUAGES))
def translations(lang: str) -> NullTranslations:
    if lang == DEFAULT_LANG:
        return NullTranslations()
    return Translations.load(str(LOCALE_DIR), [lang], domain="messages")


def gettext(lang: str, message: str, **variables: Any) -> str:
    text = translations(lang).ugettext(message)
    return text % variables if variables else text


def ngettext(lang: str, singular: str, plural: str, n: int, **variables: Any) -> str:
    text = translations(lang).ungettext(singular, plural, n)
    return text % {"num": n, **variables}


def negotiate(query_lang: str | None, accept_language: str | None) -> tuple[str, bool]:
    """The language to use and whether it came from the URL (then links must carry it on)."""
    if query_lang is not None and query_lang in LANGUAGES:
        return query_lang, True
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, position, primary))
    return (min(ranked)[2], False) if ranked else (DEFAULT_LANG, False)


def request_lang(request: Request | None) -> str:
    if request is None:
        return DEFAULT_LANG
    return str(request.scope.get("state", {}).get("lang", DEFAULT_LANG))


def lang_params(request: Request) -> dict[str, str]:
    """`{"lang": "es"}` when the visitor chose the language in the URL, so links keep it; else nothing."""
    state = request.scope.get("state", {})
    return {"lang": str(state["lang"])} if state.get("lang_in_url") else {}


def path_with(request: Request, name: str, query: Mapping[str, Any] | None = None, **path_params: Any) -> str:
    """A site-relative URL of a named route, with the query and the visitor's chosen language."""
    path = str(request.app.url_path_for(name, **path_params))
    pairs = _pairs(query or {}) + list(lang_params(request).items())
    return f"{path}?{urlencode(pairs)}" if pairs else path


def _pairs(query: Mapping[str, Any]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for key, value in query.items():
        if key == "lang" or value is None or value == "" or value is False:
            continue
        values = value if isinstance(value, list | tuple) else [value]
        pairs.extend((key, "1" if v is True else str(v)) for v in values if v not in (None, ""))
    return pairs


def switch_language_url(request: Request, lang: str) -> str:
    pairs = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"] + [("lang", lang)]
    return f"{request.url.path}?{urlencode(pairs)}"


# --- Jinja: translations and locale-aware formatting read the language from the request in context ---


def _ctx_lang(ctx: Context) -> str:
    return request_lang(ctx.get("request"))


@pass_context
def _gettext(ctx: Context, message: str) -> str:
    return translations(_ctx_lang(ctx)).ugettext(message)


@pass_context
def _translated(ctx: Context, message: object) -> str:
    """A message from Python (a domain error, a field error) in the reader's language: `{{ message | translated }}`.
    Unlike `_()` it is not a format string afterwards, so a `%` in a filled-in value is shown as it is."""
    if not isinstance(message, str):
        return ""
    return translate(_ctx_lang(ctx), message)


@pass_context
def _ngettext(ctx: Context, singular: str, plural: str, n: int) -> str:
    return translations(_ctx_lang(ctx)).ungettext(singular, plural, n)


@pass_context
def _in_words(ctx: Context, code: object, labels: Mapping[Any, str]) -> str:
    """A stored code in words, in the reader's language: `{{ r.status | in_words(v.statuses) }}`. An unknown code
    is shown as it is rather than hidden."""
    if code is None or code == "":
        return ""
    text = labels.get(code)
    return translations(_ctx_lang(ctx)).ugettext(text) if text else str(code)


@pass_context
def _format_time(ctx: Context, value: time | datetime) -> str:
    return babel_dates.format_time(value, format="short", locale=_ctx_lang(ctx))


@pass_context
def _format_date(ctx: Context, value: date | datetime, fmt: str = "medium") -> str:
    return babel_dates.format_date(value, format=fmt, locale=_ctx_lang(ctx))


@pass_context
def _format_day(ctx: Context, value: date | datetime) -> str:
    """A short day like "Tue, Mar 4" / "mar, 4 mar"."""
    return babel_dates.format_skeleton("MMMEd", value, locale=_ctx_lang(ctx))


@pass_context
def _format_number(ctx: Context, value: float) -> str:
    return babel_numbers.format_decimal(value, locale=_ctx_lang(ctx))


@pass_context
def _format_weekday(ctx: Context, value: date | datetime) -> str:
    return babel_dates.format_date(value, format="EEEE", locale=_ctx_lang(ctx))


@pass_context
def _day_name(ctx: Context, index: int, width: str = "wide", cap: bool = False) -> str:
    """Day name with Monday = 0, as `datetime.weekday()` counts; `cap` for a label that starts a line."""
    name = str(Locale.parse(_ctx_lang(ctx)).days["format"][width][index])
    return name[:1].upper() + name[1:] if cap else name


@pass_context
def _path(ctx: Context, name: str, query: Mapping[str, Any] | None = None, **path_params: Any) -> str:
    return path_with(ctx["request"], name, query, **path_params)


@pass_context
def _bare_path(ctx: Context, name: str, **path_params: Any) -> str:
    """A route's path alone, for GET form actions (the form's own fields, `lang` included, make the query)."""
    return str(ctx["request"].app.url_path_for(name, **path_params))


@pass_context
def _static(ctx: Context, file: str) -> str:
    return str(ctx["request"].app.url_path_for("static", path=file))


def install(env: Environment) -> None:
    """Real per-request translations and formatting helpers on the shared template environment."""
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(
        format_time=_format_time,
        format_date=_format_date,
        format_day=_format_day,
        weekday=_format_weekday,
        number=_format_number,
        in_words=_in_words,
        translated=_translated,
    )
    env.globals.update(
        path=_path,
        bare_path=_bare_path,
        static=_static,
        day_name=_day_name,
        LANGUAGES=LANGUAGES,
        lang_of=request_lang,
        lang_params=lang_params,
        switch_language_url=switch_language_url,
    )
