"""Visitor-facing labels for codes stored on listings, in English and Spanish.

Meeting type labels come from the one registry, `directory.listings.meeting_types`. Other labels are
English message ids marked with `N_` where they are declared and translated through the gettext catalog,
so `pybabel extract` picks them up.
"""

from collections.abc import Mapping
from types import MappingProxyType

from core.i18n import N_, gettext
from directory.listings import meeting_types
from directory.listings.codes import ACCESSIBILITY_LABELS, LANGUAGE_NAMES
from directory.listings.taxonomy import FELLOWSHIPS, term

ATTENDANCE: Mapping[str, str] = MappingProxyType(
    {
        "in_person": N_("In person"),
        "online": N_("Online"),
        "hybrid": N_("In person and online"),
        "inactive": N_("Not meeting now"),
    }
)
CAPACITY: Mapping[str, str] = MappingProxyType(
    {
        "accepting": N_("Accepting people"),
        "waitlist": N_("Waitlist"),
        "full": N_("Full"),
    }
)
STATUS: Mapping[str, str] = MappingProxyType(
    {
        "active": N_("Open"),
        "inactive": N_("Inactive"),
        "defunct": N_("Closed for good"),
        "temporarily closed": N_("Temporarily closed"),
    }
)
COST: Mapping[str, str] = MappingProxyType(
    {
        "free": N_("Free"),
        "sliding_scale": N_("Sliding scale"),
        "medicaid": N_("Takes Medicaid"),
        "medicare": N_("Takes Medicare"),
        "insurance": N_("Takes insurance"),
        "self_pay": N_("Self-pay"),
    }
)
KIND: Mapping[str, str] = MappingProxyType({"meeting": N_("Meetings"), "service": N_("Services")})


def meeting_type(code: str | None, lang: str) -> str:
    return meeting_types.label(code, lang) if code else ""


def _translated(table: Mapping[str, str], code: str | None, lang: str) -> str:
    if not code:
        return ""
    return gettext(lang, table[code]) if code in table else code


def attendance(code: str | None, lang: str) -> str:
    return _translated(ATTENDANCE, code, lang)


def capacity(code: str | None, lang: str) -> str:
    return _translated(CAPACITY, code, lang)


def status(code: str | None, lang: str) -> str:
    return _translated(STATUS, code, lang)


def cost(code: str | None, lang: str) -> str:
    return _translated(COST, code, lang)


def kind(code: str | None, lang: str) -> str:
    return _translated(KIND, code, lang)


def accessibility(code: str | None, lang: str) -> str:
    return _translated(ACCESSIBILITY_LABELS, code, lang)


def language(code: str | None, lang: str) -> str:
    return _translated(LANGUAGE_NAMES, code, lang)


def fellowship(code: str | None, lang: str) -> str:
    if not code:
        return ""
    found = FELLOWSHIPS.get(code)
    return gettext(lang, found.label) if found else code


def category(code: str | None, lang: str) -> str:
    if not code:
        return ""
    try:
        found = term(code)
    except KeyError:
        return code
    return found.name_es if lang == "es" else found.name


LABELERS = {
    "meeting_type": meeting_type,
    "attendance": attendance,
    "capacity": capacity,
    "status": status,
    "cost": cost,
    "kind": kind,
    "accessibility": accessibility,
    "language": language,
    "fellowship": fellowship,
    "category": category,
    "region": lambda code, lang: code or "",  # place names are shown as the source wrote them
}
