"""Visitor-facing labels for codes stored on listings, in English and Spanish.

Meeting type codes and their labels come from the one registry, `directory.meeting_guide_types`. Other
labels are English message ids marked with `N_` and translated through the gettext catalog, so
`pybabel extract` picks them up.
"""

from collections.abc import Mapping
from types import MappingProxyType

from core.i18n import N_, gettext
from directory.meeting_guide_types import TYPE_LANGUAGES as REGISTRY_TYPE_LANGUAGES
from directory.meeting_guide_types import TYPES, by_label
from directory.meeting_guide_types import label as type_label
from directory.schemas import ACCESSIBILITY_LABELS, LANGUAGE_NAMES
from directory.taxonomy_tree import FELLOWSHIPS, term

# code: (English, Spanish), in the order of the English labels; read from the one registry of types.
MEETING_TYPES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {code: (TYPES[code].en, TYPES[code].es) for code, _ in by_label("en")}
)
# Meeting types that only name the meeting's language, with that language's ISO code.
TYPE_LANGUAGES: Mapping[str, str] = REGISTRY_TYPE_LANGUAGES

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
# The same English strings as directory.schemas, repeated with N_ so the catalog has them.
_ACCESSIBILITY_MSGIDS = (
    N_("Wheelchair accessible entrance"),
    N_("Wheelchair-accessible restroom"),
    N_("Accessible parking"),
    N_("Elevator"),
    N_("American Sign Language interpretation"),
    N_("Hearing loop"),
    N_("Braille or large-print materials"),
    N_("Fragrance free"),
)
_LANGUAGE_MSGIDS = (
    N_("English"),
    N_("Spanish"),
    N_("Polish"),
    N_("Chinese"),
    N_("Vietnamese"),
    N_("Arabic"),
    N_("Russian"),
    N_("Korean"),
    N_("Tagalog"),
    N_("French"),
    N_("American Sign Language"),
)
_FELLOWSHIP_MSGIDS = (
    N_("Alcoholics Anonymous"),
    N_("Narcotics Anonymous"),
    N_("SMART Recovery"),
    N_("Al-Anon"),
    N_("Alateen"),
    N_("Cocaine Anonymous"),
    N_("Crystal Meth Anonymous"),
    N_("Gamblers Anonymous"),
    N_("Overeaters Anonymous"),
    N_("Recovery Dharma / Refuge Recovery"),
    N_("Celebrate Recovery"),
    N_("Peer-led recovery group"),
    N_("Mental health peer support (e.g. DBSA)"),
    N_("Grief support group"),
)


def meeting_type(code: str | None, lang: str) -> str:
    return type_label(code, lang) if code else ""


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
}
