"""The one registry of Meeting Guide meeting type codes, with English and Spanish labels.

Every code of the published list (code4recovery spec) is here; the app never reads the standard's files
at run time, and tests check that this registry and the standard's `types.json` have the same codes. The
importer, the served feed, the workspace form, the public labels and search all read this module. Labels
are ours: the visitor-facing wording where we had one, otherwise the standard's.
"""

from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple


class MeetingType(NamedTuple):
    en: str
    es: str


TYPES: Mapping[str, MeetingType] = MappingProxyType({
    "11": MeetingType("11th step meditation", "Meditación del paso 11"),
    "12x12": MeetingType("12 Steps & 12 Traditions", "Doce Pasos y Doce Tradiciones"),
    "A": MeetingType("Secular", "Laica"),
    "ABSI": MeetingType("As Bill Sees It", "Como lo ve Bill"),
    "AF": MeetingType("Afrikaans", "Afrikáans"),
    "AL": MeetingType("Alongside Alateen", "A la par de Alateen"),
    "AL-AN": MeetingType("Alongside Al-Anon", "A la par de Al-Anon"),
    "AM": MeetingType("Amharic", "Amárico"),
    "AR": MeetingType("Arabic", "Árabe"),
    "ASL": MeetingType("American Sign Language", "Lengua de señas americana"),
    "B": MeetingType("Big Book", "Libro Grande"),
    "BA": MeetingType("Babysitting available", "Cuidado de niños disponible"),
    "BE": MeetingType("Newcomer", "Para recién llegados"),
    "BG": MeetingType("Bulgarian", "Búlgaro"),
    "BI": MeetingType("Bisexual", "Bisexual"),
    "BRK": MeetingType("Breakfast", "Desayuno"),
    "C": MeetingType("Closed", "Cerrada"),
    "CAN": MeetingType("Candlelight", "A la luz de las velas"),
    "CF": MeetingType("Children welcome", "Se admiten niños"),
    "D": MeetingType("Discussion", "Discusión"),
    "DA": MeetingType("Danish", "Danés"),
    "DB": MeetingType("Digital Basket", "Canasta digital"),
    "DD": MeetingType("Dual diagnosis", "Diagnóstico dual"),
    "DE": MeetingType("German", "Alemán"),
    "DR": MeetingType("Daily Reflections", "Reflexiones diarias"),
    "EL": MeetingType("Greek", "Griego"),
    "EN": MeetingType("English", "Inglés"),
    "FA": MeetingType("Persian", "Persa"),
    "FF": MeetingType("Fragrance free", "Sin fragancias"),
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
    "L": MeetingType("Lesbian", "Lesbianas"),
    "LGBTQ": MeetingType("LGBTQ", "LGBTQ"),
    "LIT": MeetingType("Literature", "Literatura"),
    "LS": MeetingType("Living Sober", "Viviendo sobrio"),
    "LT": MeetingType("Lithuanian", "Lituano"),
    "M": MeetingType("Men", "Hombres"),
    "MED": MeetingType("Meditation", "Meditación"),
    "ML": MeetingType("Malayalam", "Malayalam"),
    "MT": MeetingType("Maltese", "Maltés"),
    "N": MeetingType("Native American", "Nativos americanos"),
    "NB": MeetingType("Non-binary", "Personas no binarias"),
    "NDG": MeetingType("Indigenous", "Indígena"),
    "NE": MeetingType("Nepali", "Nepalí"),
    "NL": MeetingType("Dutch", "Neerlandés"),
    "NO": MeetingType("Norwegian", "Noruego"),
    "O": MeetingType("Open", "Abierta"),
    "OUT": MeetingType("Outdoors", "Al aire libre"),
    "P": MeetingType("Professionals", "Profesionales"),
    "POA": MeetingType("Proof of attendance", "Comprobante de asistencia"),
    "POC": MeetingType("People of color", "Personas de color"),
    "POL": MeetingType("Polish", "Polaco"),
    "POR": MeetingType("Portuguese", "Portugués"),
    "PUN": MeetingType("Punjabi", "Panyabí"),
    "RUS": MeetingType("Russian", "Ruso"),
    "S": MeetingType("Spanish", "Español"),
    "SEN": MeetingType("Seniors", "Personas mayores"),
    "SK": MeetingType("Slovak", "Eslovaco"),
    "SL": MeetingType("Slovenian", "Esloveno"),
    "SM": MeetingType("Smoking allowed", "Se permite fumar"),
    "SP": MeetingType("Speaker", "Oradores"),
    "ST": MeetingType("Step study", "Estudio de los pasos"),
    "SV": MeetingType("Swedish", "Sueco"),
    "T": MeetingType("Transgender", "Personas trans"),
    "TC": MeetingType("Location temporarily closed", "Lugar cerrado temporalmente"),
    "TH": MeetingType("Thai", "Tailandés"),
    "TL": MeetingType("Tagalog", "Tagalo"),
    "TR": MeetingType("Tradition study", "Estudio de las tradiciones"),
    "TUR": MeetingType("Turkish", "Turco"),
    "UK": MeetingType("Ukrainian", "Ucraniano"),
    "W": MeetingType("Women", "Mujeres"),
    "X": MeetingType("Wheelchair access", "Acceso para silla de ruedas"),
    "XB": MeetingType("Wheelchair-accessible restroom", "Baño accesible para silla de ruedas"),
    "XT": MeetingType("Cross talk allowed", "Se permiten comentarios cruzados"),
    "Y": MeetingType("Young people", "Jóvenes"),
})  # fmt: skip

CODES: frozenset[str] = frozenset(TYPES)
TEMPORARILY_CLOSED = "TC"
# Codes feeds still send that are no longer in the list: accepted, used as a hint, not stored.
LEGACY_CODES: Mapping[str, str] = MappingProxyType({"ONL": "Online (attendance now comes from conference_url)"})
# Meeting types that only name the meeting's language, with that language's ISO code.
TYPE_LANGUAGES: Mapping[str, str] = MappingProxyType(
    {
        "AR": "ar",
        "ASL": "asl",
        "DE": "de",
        "EN": "en",
        "FA": "fa",
        "FR": "fr",
        "HE": "he",
        "HI": "hi",
        "ITA": "it",
        "JA": "ja",
        "KOR": "ko",
        "POL": "pl",
        "POR": "pt",
        "RUS": "ru",
        "S": "es",
        "TL": "tl",
        "UK": "uk",
    }
)


def label(code: str, language: str = "en") -> str:
    entry = TYPES.get(code)
    if entry is None:
        return code
    return entry.es if language == "es" else entry.en
