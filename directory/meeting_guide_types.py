"""Meeting Guide meeting type codes we understand, with English and Spanish labels.

Our own registry, written from the published list of codes (code4recovery spec). The app never reads the
standard's files at run time; tests check that every code here exists in the standard's `types.json` and
that the registry covers all of them.
"""

from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple


class MeetingType(NamedTuple):
    en: str
    es: str


TYPES: Mapping[str, MeetingType] = MappingProxyType({
    "11": MeetingType("11th Step Meditation", "Meditación del Paso 11"),
    "12x12": MeetingType("12 Steps & 12 Traditions", "12 Pasos y 12 Tradiciones"),
    "A": MeetingType("Secular", "Secular"),
    "ABSI": MeetingType("As Bill Sees It", "Como lo ve Bill"),
    "AF": MeetingType("Afrikaans", "Afrikáans"),
    "AL": MeetingType("Concurrent with Alateen", "Al mismo tiempo que Alateen"),
    "AL-AN": MeetingType("Concurrent with Al-Anon", "Al mismo tiempo que Al-Anon"),
    "AM": MeetingType("Amharic", "Amárico"),
    "AR": MeetingType("Arabic", "Árabe"),
    "ASL": MeetingType("American Sign Language", "Lengua de señas americana"),
    "B": MeetingType("Big Book", "Libro Grande"),
    "BA": MeetingType("Babysitting Available", "Cuidado de niños disponible"),
    "BE": MeetingType("Newcomer", "Principiantes"),
    "BG": MeetingType("Bulgarian", "Búlgaro"),
    "BI": MeetingType("Bisexual", "Bisexual"),
    "BRK": MeetingType("Breakfast", "Desayuno"),
    "C": MeetingType("Closed", "Cerrada"),
    "CAN": MeetingType("Candlelight", "A la luz de las velas"),
    "CF": MeetingType("Child-Friendly", "Se admiten niños"),
    "D": MeetingType("Discussion", "Discusión"),
    "DA": MeetingType("Danish", "Danés"),
    "DB": MeetingType("Digital Basket", "Canasta digital"),
    "DD": MeetingType("Dual Diagnosis", "Diagnóstico dual"),
    "DE": MeetingType("German", "Alemán"),
    "DR": MeetingType("Daily Reflections", "Reflexiones diarias"),
    "EL": MeetingType("Greek", "Griego"),
    "EN": MeetingType("English", "Inglés"),
    "FA": MeetingType("Persian", "Persa"),
    "FF": MeetingType("Fragrance Free", "Sin fragancias"),
    "FI": MeetingType("Finnish", "Finlandés"),
    "FR": MeetingType("French", "Francés"),
    "G": MeetingType("Gay", "Gay"),
    "GR": MeetingType("Grapevine", "La Viña"),
    "H": MeetingType("Birthday", "Cumpleaños"),
    "HE": MeetingType("Hebrew", "Hebreo"),
    "HI": MeetingType("Hindi", "Hindi"),
    "HR": MeetingType("Croatian", "Croata"),
    "HU": MeetingType("Hungarian", "Húngaro"),
    "IS": MeetingType("Icelandic", "Islandés"),
    "ITA": MeetingType("Italian", "Italiano"),
    "JA": MeetingType("Japanese", "Japonés"),
    "KA": MeetingType("Georgian", "Georgiano"),
    "KOR": MeetingType("Korean", "Coreano"),
    "L": MeetingType("Lesbian", "Lesbiana"),
    "LGBTQ": MeetingType("LGBTQ", "LGBTQ"),
    "LIT": MeetingType("Literature", "Literatura"),
    "LS": MeetingType("Living Sober", "Viviendo sobrio"),
    "LT": MeetingType("Lithuanian", "Lituano"),
    "M": MeetingType("Men", "Hombres"),
    "MED": MeetingType("Meditation", "Meditación"),
    "ML": MeetingType("Malayalam", "Malayalam"),
    "MT": MeetingType("Maltese", "Maltés"),
    "N": MeetingType("Native American", "Nativo americano"),
    "NB": MeetingType("Non-Binary", "No binario"),
    "NDG": MeetingType("Indigenous", "Indígena"),
    "NE": MeetingType("Nepali", "Nepalí"),
    "NL": MeetingType("Dutch", "Neerlandés"),
    "NO": MeetingType("Norwegian", "Noruego"),
    "O": MeetingType("Open", "Abierta"),
    "OUT": MeetingType("Outdoor", "Al aire libre"),
    "P": MeetingType("Professionals", "Profesionales"),
    "POA": MeetingType("Proof of Attendance", "Constancia de asistencia"),
    "POC": MeetingType("People of Color", "Personas de color"),
    "POL": MeetingType("Polish", "Polaco"),
    "POR": MeetingType("Portuguese", "Portugués"),
    "PUN": MeetingType("Punjabi", "Panyabí"),
    "RUS": MeetingType("Russian", "Ruso"),
    "S": MeetingType("Spanish", "Español"),
    "SEN": MeetingType("Seniors", "Personas mayores"),
    "SK": MeetingType("Slovak", "Eslovaco"),
    "SL": MeetingType("Slovenian", "Esloveno"),
    "SM": MeetingType("Smoking Permitted", "Se permite fumar"),
    "SP": MeetingType("Speaker", "Orador"),
    "ST": MeetingType("Step Study", "Estudio de los pasos"),
    "SV": MeetingType("Swedish", "Sueco"),
    "T": MeetingType("Transgender", "Transgénero"),
    "TC": MeetingType("Location Temporarily Closed", "Lugar cerrado temporalmente"),
    "TH": MeetingType("Thai", "Tailandés"),
    "TL": MeetingType("Tagalog", "Tagalo"),
    "TR": MeetingType("Tradition Study", "Estudio de las tradiciones"),
    "TUR": MeetingType("Turkish", "Turco"),
    "UK": MeetingType("Ukrainian", "Ucraniano"),
    "W": MeetingType("Women", "Mujeres"),
    "X": MeetingType("Wheelchair Access", "Acceso para silla de ruedas"),
    "XB": MeetingType("Wheelchair-Accessible Bathroom", "Baño accesible para silla de ruedas"),
    "XT": MeetingType("Cross Talk Permitted", "Se permite la conversación cruzada"),
    "Y": MeetingType("Young People", "Gente joven"),
})  # fmt: skip

CODES: frozenset[str] = frozenset(TYPES)
TEMPORARILY_CLOSED = "TC"
# Codes feeds still send that are no longer in the list: accepted, used as a hint, not stored.
LEGACY_CODES: Mapping[str, str] = MappingProxyType({"ONL": "Online (attendance now comes from conference_url)"})


def label(code: str, language: str = "en") -> str:
    entry = TYPES.get(code)
    if entry is None:
        return code
    return entry.es if language == "es" else entry.en


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
