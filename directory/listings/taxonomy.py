"""Our open category tree ("Community Directory Categories") and the support-group fellowships.

Pure data, no I/O. Codes are short, stable slugs; the database ids of the taxonomy and its terms are
uuid5 values derived from the codes, so every install (and every re-load) gets the same ids.
Spanish names live here rather than as extra `taxonomy_term` rows: HSDS allows one term per code.
"""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import NamedTuple

from core.i18n import N_

TAXONOMY_NAMESPACE = uuid.UUID("6f1c7e52-4b0a-5d3e-9a61-2c8d0f4b7e19")
TAXONOMY_NAME = "Community Directory Categories"
TAXONOMY_DESCRIPTION = "Open category tree for support groups, food, transport, treatment and other help."
TAXONOMY_VERSION = "1"
TAXONOMY_ID = uuid.uuid5(TAXONOMY_NAMESPACE, "taxonomy")


def term_id(code: str) -> uuid.UUID:
    """The stable database id of a term."""
    return uuid.uuid5(TAXONOMY_NAMESPACE, f"term:{code}")


@dataclass(frozen=True, slots=True)
class Term:
    code: str
    name: str
    name_es: str
    description: str
    parent: str | None = None

    @property
    def id(self) -> uuid.UUID:
        return term_id(self.code)

    @property
    def parent_id(self) -> uuid.UUID | None:
        return term_id(self.parent) if self.parent else None


_SG = "support-groups"
_TR = "treatment"

# Parents come before their children (the loader inserts in this order).
TERMS: tuple[Term, ...] = (
    Term(_SG, "Support groups", "Grupos de apoyo", "Mutual-help meetings, in person and online."),
    Term("aa", "Alcoholics Anonymous (AA)", "Alcohólicos Anónimos (AA)", "AA meetings.", _SG),
    Term("na", "Narcotics Anonymous (NA)", "Narcóticos Anónimos (NA)", "NA meetings.", _SG),
    Term("smart-recovery", "SMART Recovery", "SMART Recovery", "Science-based self-help meetings.", _SG),
    Term(
        "al-anon",
        "Al-Anon and Alateen",
        "Al-Anon y Alateen",
        "Meetings for families and friends of people who drink.",
        _SG,
    ),
    Term(
        "other-twelve-step",
        "Other 12-step groups",
        "Otros grupos de 12 pasos",
        "Cocaine, Crystal Meth, Gamblers and Overeaters Anonymous and similar fellowships.",
        _SG,
    ),
    Term(
        "peer-led-recovery",
        "Peer-led recovery groups",
        "Grupos de recuperación dirigidos por pares",
        "All-recovery, Recovery Dharma, Celebrate Recovery and other peer-led groups.",
        _SG,
    ),
    Term(
        "mental-health-peer-support",
        "Mental health peer support",
        "Apoyo entre pares en salud mental",
        "Peer support groups for depression, bipolar disorder and other mental health conditions.",
        _SG,
    ),
    Term("grief-support", "Grief support", "Apoyo en el duelo", "Groups for people who have lost someone.", _SG),
    Term("food", "Food", "Alimentos", "Groceries and meals."),
    Term("food-bank", "Food bank", "Banco de alimentos", "Large-scale food distribution to households.", "food"),
    Term("food-pantry", "Food pantry", "Despensa de alimentos", "Groceries to take home.", "food"),
    Term("free-meals", "Free meals", "Comidas gratis", "Hot meals served on site.", "food"),
    Term("transport", "Transportation", "Transporte", "Getting to appointments, meetings and services."),
    Term(
        "rides-to-treatment",
        "Rides to treatment",
        "Transporte a tratamiento",
        "Rides to treatment, meetings and recovery appointments.",
        "transport",
    ),
    Term(
        "medical-transport",
        "Medical transportation",
        "Transporte médico",
        "Non-emergency rides to medical appointments, often covered by Medicaid.",
        "transport",
    ),
    Term(
        "transit-passes",
        "Transit passes",
        "Pases de transporte público",
        "Free or reduced-fare bus and train passes.",
        "transport",
    ),
    Term(
        _TR,
        "Substance use treatment",
        "Tratamiento por uso de sustancias",
        "Professional treatment for alcohol and drug use.",
    ),
    Term("outpatient", "Outpatient treatment", "Tratamiento ambulatorio", "Counseling while living at home.", _TR),
    Term(
        "intensive-outpatient",
        "Intensive outpatient (IOP)",
        "Tratamiento ambulatorio intensivo",
        "Several hours of treatment a day, several days a week.",
        _TR,
    ),
    Term("residential", "Residential treatment", "Tratamiento residencial", "Live-in treatment programs.", _TR),
    Term(
        "withdrawal-management",
        "Withdrawal management (detox)",
        "Manejo de la abstinencia (desintoxicación)",
        "Medically supervised withdrawal.",
        _TR,
    ),
    Term(
        "mat",
        "Medication for opioid use disorder (MOUD/MAT)",
        "Medicamentos para el trastorno por uso de opioides",
        "Medication-assisted treatment with buprenorphine, methadone or naltrexone.",
        _TR,
    ),
    Term(
        "buprenorphine",
        "Buprenorphine (Suboxone)",
        "Buprenorfina (Suboxone)",
        "Buprenorphine prescribing and induction.",
        "mat",
    ),
    Term("methadone", "Methadone", "Metadona", "Opioid treatment programs dispensing methadone.", "mat"),
    Term("naltrexone", "Naltrexone (Vivitrol)", "Naltrexona (Vivitrol)", "Oral or injectable naltrexone.", "mat"),
    Term("mental-health", "Mental health", "Salud mental", "Mental health care and crisis help."),
    Term(
        "mental-health-counseling",
        "Mental health counseling",
        "Consejería de salud mental",
        "Therapy and counseling with a licensed professional.",
        "mental-health",
    ),
    Term(
        "crisis-services",
        "Crisis services",
        "Servicios de crisis",
        "Crisis lines, mobile crisis teams and walk-in crisis centers.",
        "mental-health",
    ),
    Term("housing", "Housing", "Vivienda", "Shelter and housing."),
    Term(
        "emergency-shelter",
        "Emergency shelter",
        "Refugio de emergencia",
        "Short-term shelter, including confidential domestic-violence shelters.",
        "housing",
    ),
    Term("sober-living", "Sober living", "Vivienda sobria", "Alcohol- and drug-free recovery residences.", "housing"),
    Term("clothing", "Clothing", "Ropa", "Free clothing, coats and interview clothes."),
    Term(
        "harm-reduction",
        "Harm reduction",
        "Reducción de daños",
        "Naloxone, syringe services, test strips and safer-use supplies.",
    ),
    Term(
        "peer-run-organizations",
        "Peer-run organizations",
        "Organizaciones dirigidas por pares",
        "Recovery community centers and organizations run by people with lived experience.",
    ),
    Term(
        "peer-coaching",
        "Peer recovery coaching",
        "Acompañamiento de pares en la recuperación",
        "One-on-one support from a peer recovery coach or peer support specialist.",
    ),
    Term(
        "online-communities",
        "Online communities",
        "Comunidades en línea",
        "Forums, chat rooms and apps for people in recovery and their families.",
    ),
)

_BY_CODE: Mapping[str, Term] = MappingProxyType({t.code: t for t in TERMS})
CATEGORY_CODES: frozenset[str] = frozenset(_BY_CODE)
TERM_IDS: Mapping[str, uuid.UUID] = MappingProxyType({t.code: t.id for t in TERMS})


def term(code: str) -> Term:
    """The term with this code; KeyError if there is none."""
    return _BY_CODE[code]


def ancestors(code: str) -> list[str]:
    """The code itself first, then its parent, up to the root."""
    chain: list[str] = []
    current: str | None = code
    while current is not None:
        chain.append(current)
        current = _BY_CODE[current].parent
    return chain


def children(code: str) -> list[str]:
    """Direct children of a term, in tree order."""
    return [t.code for t in TERMS if t.parent == code]


class Fellowship(NamedTuple):
    label: str
    category: str


# Fellowship code -> (label, category code). The code is what `meeting.fellowship` stores; the label is
# an English message id (translated where the language is known).
FELLOWSHIPS: Mapping[str, Fellowship] = MappingProxyType(
    {
        "aa": Fellowship(N_("Alcoholics Anonymous"), "aa"),
        "na": Fellowship(N_("Narcotics Anonymous"), "na"),
        "smart": Fellowship(N_("SMART Recovery"), "smart-recovery"),
        "al-anon": Fellowship(N_("Al-Anon"), "al-anon"),
        "alateen": Fellowship(N_("Alateen"), "al-anon"),
        "ca": Fellowship(N_("Cocaine Anonymous"), "other-twelve-step"),
        "cma": Fellowship(N_("Crystal Meth Anonymous"), "other-twelve-step"),
        "ga": Fellowship(N_("Gamblers Anonymous"), "other-twelve-step"),
        "oa": Fellowship(N_("Overeaters Anonymous"), "other-twelve-step"),
        "slaa": Fellowship(N_("Sex and Love Addicts Anonymous"), "other-twelve-step"),
        "aca": Fellowship(N_("Adult Children of Alcoholics"), "other-twelve-step"),
        "nar-anon": Fellowship(N_("Nar-Anon"), "other-twelve-step"),
        "recovery-dharma": Fellowship(N_("Recovery Dharma / Refuge Recovery"), "peer-led-recovery"),
        "celebrate-recovery": Fellowship(N_("Celebrate Recovery"), "peer-led-recovery"),
        "peer-led": Fellowship(N_("Peer-led recovery group"), "peer-led-recovery"),
        "mental-health-peer": Fellowship(N_("Mental health peer support (e.g. DBSA)"), "mental-health-peer-support"),
        "grief": Fellowship(N_("Grief support group"), "grief-support"),
    }
)
