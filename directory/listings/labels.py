"""Visitor-facing labels for codes stored on listings, in English and Spanish.

Meeting type codes follow the Meeting Guide vocabulary (the codes are the standard's; the wording here
is ours). Other labels are English message ids marked with `N_` and translated through the gettext
catalog, so `pybabel extract` picks them up.
"""

from collections.abc import Mapping
from types import MappingProxyType

from core.i18n import N_, gettext
from directory.listings.schemas import ACCESSIBILITY_LABELS, LANGUAGE_NAMES
from directory.listings.taxonomy import FELLOWSHIPS, term

# code: (English, Spanish)
MEETING_TYPES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "O": ("Open", "Abierta"),
        "C": ("Closed", "Cerrada"),
        "D": ("Discussion", "Discusión"),
        "SP": ("Speaker", "Oradores"),
        "BE": ("Newcomer", "Para recién llegados"),
        "B": ("Big Book", "Libro Grande"),
        "ST": ("Step study", "Estudio de los pasos"),
        "TR": ("Tradition study", "Estudio de las tradiciones"),
        "12x12": ("12 Steps & 12 Traditions", "Doce Pasos y Doce Tradiciones"),
        "LIT": ("Literature", "Literatura"),
        "DR": ("Daily Reflections", "Reflexiones diarias"),
        "ABSI": ("As Bill Sees It", "Como lo ve Bill"),
        "LS": ("Living Sober", "Viviendo sobrio"),
        "GR": ("Grapevine", "La Viña"),
        "11": ("11th step meditation", "Meditación del paso 11"),
        "MED": ("Meditation", "Meditación"),
        "CAN": ("Candlelight", "A la luz de las velas"),
        "BRK": ("Breakfast", "Desayuno"),
        "H": ("Birthday", "Cumpleaños"),
        "A": ("Secular", "Laica"),
        "W": ("Women", "Mujeres"),
        "M": ("Men", "Hombres"),
        "Y": ("Young people", "Jóvenes"),
        "SEN": ("Seniors", "Personas mayores"),
        "LGBTQ": ("LGBTQ", "LGBTQ"),
        "G": ("Gay", "Gay"),
        "L": ("Lesbian", "Lesbianas"),
        "T": ("Transgender", "Personas trans"),
        "NB": ("Non-binary", "Personas no binarias"),
        "BI": ("Bisexual", "Bisexual"),
        "POC": ("People of color", "Personas de color"),
        "N": ("Native American", "Nativos americanos"),
        "NDG": ("Indigenous", "Indígena"),
        "P": ("Professionals", "Profesionales"),
        "DD": ("Dual diagnosis", "Diagnóstico dual"),
        "AL": ("Alongside Alateen", "A la par de Alateen"),
        "AL-AN": ("Alongside Al-Anon", "A la par de Al-Anon"),
        "BA": ("Babysitting available", "Cuidado de niños disponible"),
        "CF": ("Children welcome", "Se admiten niños"),
        "X": ("Wheelchair access", "Acceso para silla de ruedas"),
        "XB": ("Wheelchair-accessible restroom", "Baño accesible para silla de ruedas"),
        "ASL": ("American Sign Language", "Lengua de señas americana"),
        "FF": ("Fragrance free", "Sin fragancias"),
        "SM": ("Smoking allowed", "Se permite fumar"),
        "XT": ("Cross talk allowed", "Se permiten comentarios cruzados"),
        "POA": ("Proof of attendance", "Comprobante de asistencia"),
        "OUT": ("Outdoors", "Al aire libre"),
        "TC": ("Location temporarily closed", "Lugar cerrado temporalmente"),
        "EN": ("English", "Inglés"),
        "S": ("Spanish", "Español"),
        "FR": ("French", "Francés"),
        "POL": ("Polish", "Polaco"),
        "RUS": ("Russian", "Ruso"),
        "KOR": ("Korean", "Coreano"),
        "POR": ("Portuguese", "Portugués"),
        "ITA": ("Italian", "Italiano"),
        "DE": ("German", "Alemán"),
        "JA": ("Japanese", "Japonés"),
        "TL": ("Tagalog", "Tagalo"),
        "AR": ("Arabic", "Árabe"),
        "UK": ("Ukrainian", "Ucraniano"),
    }
)

# Meeting types that only name the meeting's language, with that language's ISO code.
TYPE_LANGUAGES: Mapping[str, str] = MappingProxyType(
    {
        "EN": "en",
        "S": "es",
        "FR": "fr",
        "POL": "pl",
        "RUS": "ru",
        "KOR": "ko",
        "POR": "pt",
        "ITA": "it",
        "DE": "de",
        "JA": "ja",
        "TL": "tl",
        "AR": "ar",
        "UK": "uk",
        "ASL": "asl",
    }
)

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
# The same English strings as directory.listings.schemas, repeated with N_ so the catalog has them.
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
    if not code:
        return ""
    labels = MEETING_TYPES.get(code)
    if labels is None:
        return code
    return labels[1] if lang == "es" else labels[0]


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
