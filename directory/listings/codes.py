"""Code lists of listing details with their English labels: accessibility features and languages.

Declared once: the input schemas validate against them, the search index and filters use them, and the
labels are marked with `N_` here, so the Spanish catalog holds them (translated where the language is
known, in `directory.listings.labels`).
"""

from core.i18n import N_

ACCESSIBILITY_LABELS: dict[str, str] = {
    "wheelchair": N_("Wheelchair accessible entrance"),
    "accessible_restroom": N_("Wheelchair-accessible restroom"),
    "accessible_parking": N_("Accessible parking"),
    "elevator": N_("Elevator"),
    "asl": N_("American Sign Language interpretation"),
    "hearing_loop": N_("Hearing loop"),
    "braille": N_("Braille or large-print materials"),
    "fragrance_free": N_("Fragrance free"),
}
LANGUAGE_NAMES: dict[str, str] = {
    "en": N_("English"),
    "es": N_("Spanish"),
    "pl": N_("Polish"),
    "zh": N_("Chinese"),
    "vi": N_("Vietnamese"),
    "ar": N_("Arabic"),
    "ru": N_("Russian"),
    "ko": N_("Korean"),
    "tl": N_("Tagalog"),
    "fr": N_("French"),
    "asl": N_("American Sign Language"),
}
