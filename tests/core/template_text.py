"""Finds words a template shows without passing them through `_()`: text between tags and the attributes a
person reads or hears (title, alt, placeholder, aria-label, a button's value). Jinja expressions and tags
are replaced by a marker first, so only the template's own literal text is judged."""

import re
from html.parser import HTMLParser

from jinja2 import Environment

MARK = "\x00"
SPOKEN_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label", "aria-description", "label"}
SILENT_ELEMENTS = {"script", "style"}
LETTERS = re.compile(r"[^\W\d_]{2,}")
# What a macro or block emits inside a start tag (` checked`, ` hx-headers='`): markup, not words.
ATTRIBUTE_TEXT = re.compile(r"""^\s*(?:checked|selected|disabled|required|open|hidden|[\w:-]+=["']?)\s*$""")


def literal_source(env: Environment, source: str) -> str:
    """The template with every `{{ }}` replaced by a marker, `{% %}` tags by a space and comments removed
    (a tag's own output is markup or nothing, so a space keeps `<details{% if x %} open{% endif %}>` a tag)."""
    parts: list[str] = []
    for _, token, value in env.lex(source):
        if token == "data":
            parts.append(value)
        elif token == "variable_end":
            parts.append(MARK)
        elif token == "block_end":
            parts.append(" ")
    return "".join(parts)


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.silent = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SILENT_ELEMENTS:
            self.silent += 1
        values = dict(attrs)
        for name, value in attrs:
            spoken = name in SPOKEN_ATTRIBUTES or (
                name == "value" and tag == "input" and values.get("type") in ("submit", "button", "reset")
            )
            if spoken and value:
                self._judge(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in SILENT_ELEMENTS and self.silent:
            self.silent -= 1

    def handle_data(self, data: str) -> None:
        if not self.silent:
            self._judge(data)

    def _judge(self, text: str) -> None:
        for piece in text.split(MARK):
            if LETTERS.search(piece) and not ATTRIBUTE_TEXT.match(piece):
                self.found.append(" ".join(piece.split()))


def untranslated_text(env: Environment, source: str) -> list[str]:
    collector = _Collector()
    collector.feed(literal_source(env, source))
    collector.close()
    return collector.found
