"""The Spanish catalog covers every string of the public pages, and the committed .mo matches the .po."""

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from core.i18n import LOCALE_DIR, translations
from core.settings import PROJECT_ROOT
from directory.listings.meeting_types import TYPES as MEETING_TYPES

TEMPLATES = PROJECT_ROOT / "templates"
PUBLIC_TEMPLATES = [
    "base.html", "_error.html", "_macros.html", "errors/error.html", "search/home.html", "search/results.html",
    "search/_form.html", "search/_filters.html", "search/_results.html", "search/_hit.html", "search/_understood.html",
    "directory/listings/service.html", "directory/listings/organization.html", "directory/listings/organizations.html",
]  # fmt: skip
PUBLIC_PYTHON = [
    "core/i18n.py", "directory/listings/codes.py", "directory/listings/labels.py", "directory/listings/taxonomy.py",
    "search/views.py", "search/results_page.py", "search/understanding.py",
]  # fmt: skip
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def messages(path: Path, method: str) -> list[str]:
    found = extract_from_file(method, str(path), keywords=KEYWORDS)
    return [msg if isinstance(msg, str) else msg[0] for _, msg, _, _ in found]


@pytest.mark.parametrize("name", PUBLIC_TEMPLATES + PUBLIC_PYTHON)
def test_every_public_string_has_a_spanish_translation(name: str) -> None:
    path = PROJECT_ROOT / name if name.endswith(".py") else TEMPLATES / name
    found = messages(path, "python" if name.endswith(".py") else "jinja2")
    spanish = translations("es")
    missing = [m for m in found if spanish.ugettext(m) == m and m not in SAME_IN_SPANISH]
    assert missing == [], f"untranslated in {name}; run the pybabel steps in babel.cfg"


SAME_IN_SPANISH = {
    "%(miles)s mi",
    "Error",
    "Al-Anon",
    "Alateen",
    "Nar-Anon",
    "SMART Recovery",
    "Celebrate Recovery",
    "Recovery Dharma / Refuge Recovery",
    "ext.",
}


def test_compiled_catalog_matches_the_po_file() -> None:
    with open(LOCALE_DIR / "es" / "LC_MESSAGES" / "messages.po", "rb") as po:
        catalog = read_po(po, locale="es")
    spanish = translations("es")
    stale = [
        m.id for m in catalog if m.id and isinstance(m.id, str) and m.string and spanish.ugettext(m.id) != m.string
    ]
    assert stale == [], "run `pybabel compile -d locale` and commit the .mo"


def test_meeting_type_labels_exist_in_both_languages() -> None:
    assert {"O", "C", "D", "BE", "SP", "ST", "S", "W", "M", "Y", "X", "LGBTQ"} <= set(MEETING_TYPES)
    assert all(t.en and t.es for t in MEETING_TYPES.values())
