"""The Spanish catalog covers every string of every page, e-mail and message, and the committed .mo matches the .po.

The files are found by walking templates/ and the application packages, so a new template or module is
covered the day it is added: a template may show no word outside `_()`, and every message marked in a
template or module needs a Spanish entry.
"""

import ast
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from core.i18n import LOCALE_DIR, translations
from core.settings import PROJECT_ROOT
from core.web import templates
from directory.listings.meeting_types import TYPES as MEETING_TYPES
from tests.core.template_text import untranslated_text

TEMPLATES = PROJECT_ROOT / "templates"
# The application packages: every top-level package but the tests and the benchmark.
PACKAGES = sorted(
    p.parent for p in PROJECT_ROOT.glob("*/__init__.py") if p.parent.name not in ("tests", "bench")
)  # fmt: skip
Keywords = dict[str, tuple[int, ...] | None]
TEMPLATE_KEYWORDS: Keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
# In Python the language comes first: core.i18n.gettext(lang, message) and ngettext(lang, singular, plural, n).
PYTHON_KEYWORDS: Keywords = {"_": None, "N_": None, "gettext": (2,), "ngettext": (2, 3)}


def template_names() -> list[str]:
    return sorted(str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.html"))


def module_names() -> list[str]:
    return sorted(str(p.relative_to(PROJECT_ROOT)) for package in PACKAGES for p in package.rglob("*.py"))


def messages(path: Path, method: str, keywords: Keywords) -> list[str]:
    found = extract_from_file(method, str(path), keywords=keywords)
    return [msg if isinstance(msg, str) else msg[0] for _, msg, _, _ in found if msg]


def untranslated(found: list[str]) -> list[str]:
    spanish = translations("es")
    return [m for m in found if spanish.ugettext(m) == m and m not in SAME_IN_SPANISH]


@pytest.mark.parametrize("name", template_names())
def test_every_template_string_has_a_spanish_translation(name: str) -> None:
    path = TEMPLATES / name
    missing = untranslated(messages(path, "jinja2", TEMPLATE_KEYWORDS))
    assert missing == [], f"untranslated in {name}: append Spanish entries to the end of the .po (HELPERS.md)"
    bare = [t for t in untranslated_text(templates.env, path.read_text(encoding="utf-8")) if t not in SAME_IN_SPANISH]
    assert bare == [], f"{name} shows text that does not go through _(): wrap it in {{{{ _('...') }}}}"


@pytest.mark.parametrize("name", module_names())
def test_every_python_message_has_a_spanish_translation(name: str) -> None:
    missing = untranslated(messages(PROJECT_ROOT / name, "python", PYTHON_KEYWORDS))
    assert missing == [], f"untranslated in {name}: append Spanish entries to the end of the .po (HELPERS.md)"


DOMAIN_ERRORS = {"DomainError", "NotFound", "Forbidden", "Conflict", "InvalidTransition", "ValidationFailed",
                 "ServiceUnavailable"}  # fmt: skip


def unmarked_error_messages(source: str) -> list[str]:
    """Messages given to a domain error as a bare literal or f-string: shown to people, but never translated.
    They must be `N_("...")`, with `N_("... %(name)s ...", name=value)` for a value."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in DOMAIN_ERRORS:
            texts = node.args[:1] + [v for k in node.keywords if k.arg == "errors" and isinstance(k.value, ast.Dict)
                                     for v in k.value.values]  # fmt: skip
            found += [ast.unparse(t) for t in texts if isinstance(t, ast.JoinedStr) or
                      (isinstance(t, ast.Constant) and isinstance(t.value, str))]  # fmt: skip
    return found


@pytest.mark.parametrize("name", module_names())
def test_every_domain_error_message_is_marked_for_translation(name: str) -> None:
    bare = unmarked_error_messages((PROJECT_ROOT / name).read_text(encoding="utf-8"))
    assert bare == [], f"{name}: wrap these messages in N_() (core.i18n) and add their Spanish"


def test_the_error_message_check_finds_bare_messages() -> None:
    source = (
        'raise NotFound("No such page.")\nraise Forbidden(N_("Fine."))\nValidationFailed(f"{x} bad", errors={"a": "b"})'
    )
    assert unmarked_error_messages(source) == ["'No such page.'", "f'{x} bad'", "'b'"]


def test_the_walk_finds_the_staff_pages_and_the_referral_codes() -> None:
    """The lists above are derived, not written out: a sanity check that the walk sees what it must."""
    assert {"_staff_layout.html", "referrals/_detail.html", "accounts/account.html", "dev/mail.html"} <= set(
        template_names()
    )
    assert {"referrals/codes.py", "referrals/workflow.py", "core/mail.py", "accounts/service.py"} <= set(module_names())


def test_the_bare_text_check_finds_words_outside_gettext() -> None:
    source = (
        '<p title="Close">{{ _("Hello") }}</p><button aria-label="{{ _(\'Menu\') }}">Open</button>'
        '<details{% if x %} open{% endif %}><input type="submit" value="Send"></details>'
    )
    assert untranslated_text(templates.env, source) == ["Close", "Open", "Send"]


SAME_IN_SPANISH = {
    "%(miles)s mi",
    "Error",
    "error",
    "Verbal",
    "Al-Anon",
    "Alateen",
    "Nar-Anon",
    "SMART Recovery",
    "Celebrate Recovery",
    "Recovery Dharma / Refuge Recovery",
    "ext.",
    "editor",
    "Supervisor",
    "supervisor",
    "UTC",
    "CSV",
    "FHIR",
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
