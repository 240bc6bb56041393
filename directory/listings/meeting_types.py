"""The one registry of Meeting Guide meeting types: every code of the standard, with every label it
publishes (`meeting_type_labels`), the codes that name a language, and the legacy codes feeds still
send. The importer, the served feed, the workspace form, the pages and search all read it from here.

A code that is not in the list (a feed's own "LGBTQIA") is kept on the meeting and shown as the code.
"""

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

from directory.listings.meeting_type_labels import LABELS, LANGUAGES


class MeetingType(NamedTuple):
    en: str
    es: str
    labels: Mapping[str, str]  # language -> label, for every language in LANGUAGES


TYPES: Mapping[str, MeetingType] = MappingProxyType(
    {code: MeetingType(names["en"], names["es"], MappingProxyType(dict(names))) for code, names in LABELS.items()}
)
LABEL_LANGUAGES: tuple[str, ...] = LANGUAGES

CODES: frozenset[str] = frozenset(TYPES)
TYPE_CODE = re.compile(r"[A-Za-z0-9-]{1,10}")  # the shape of a type code, known or a feed's own
TEMPORARILY_CLOSED = "TC"
# Codes feeds still send that are no longer in the list: accepted, used as a hint, not stored.
LEGACY_CODES: Mapping[str, str] = MappingProxyType({"ONL": "Online (attendance now comes from conference_url)"})


def label(code: str, language: str = "en") -> str:
    """The code's label in `language` (English when the standard has none in it); an unknown code as is."""
    entry = TYPES.get(code)
    if entry is None:
        return code
    return entry.labels.get(language) or entry.en


def by_label(language: str = "en") -> list[tuple[str, str]]:
    """(code, label) for every type, in the order of their labels: how a form lists them."""
    return sorted(((code, label(code, language)) for code in TYPES), key=lambda pair: pair[1].casefold())


# Meeting types that only name the meeting's language, with that language's ISO 639 code.
TYPE_LANGUAGES: Mapping[str, str] = MappingProxyType({
    "AF": "af", "AM": "am", "AR": "ar", "ASL": "asl", "BG": "bg", "DA": "da", "DE": "de", "EL": "el", "EN": "en",
    "FA": "fa", "FI": "fi", "FR": "fr", "HE": "he", "HI": "hi", "HR": "hr", "HU": "hu", "IS": "is", "ITA": "it",
    "JA": "ja", "KA": "ka", "KOR": "ko", "LT": "lt", "ML": "ml", "MT": "mt", "NE": "ne", "NL": "nl", "NO": "no",
    "POL": "pl", "POR": "pt", "PUN": "pa", "RUS": "ru", "S": "es", "SK": "sk", "SL": "sl", "SV": "sv", "TH": "th",
    "TL": "tl", "TUR": "tr", "UK": "uk",
})  # fmt: skip


def language_codes(types: list[str]) -> list[str]:
    """The ISO codes of the languages a meeting's type codes name, in their order."""
    return list(dict.fromkeys(TYPE_LANGUAGES[t] for t in types if t in TYPE_LANGUAGES))
