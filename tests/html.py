"""The one HTML helper of the tests: parse a page and find elements by tag and attributes (structural
assertions, never whole-page snapshots).

`parse(html)` gives a `Page` (`find`, `find_all`, `text_of`); `elements(response, ...)`, `hidden(...)` and
`field_errors(...)` read a test client's response directly. An element's `text` is its own text with one
space wherever a child tag starts or ends, as a browser's layout separates words.
"""

from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

VOID = frozenset({"input", "meta", "link", "br", "img", "hr", "source"})


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""

    @property
    def classes(self) -> list[str]:
        return self.attrs.get("class", "").split()


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self._open: list[Element] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_data(" ")  # a child tag separates the words of its ancestors
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.elements.append(element)
        if tag not in VOID:
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i].tag == tag:
                del self._open[i:]
                break
        self.handle_data(" ")

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element.text += data


class Page:
    """A parsed HTML document: find elements by tag and attributes, read their text."""

    def __init__(self, html: str) -> None:
        collector = _Collector()
        collector.feed(html)
        self.elements = collector.elements
        self.html = html

    def find_all(self, tag: str | None = None, **attrs: Any) -> list[Element]:
        """`class_="x"` matches one class, `True` an attribute that is present, `None` one that is absent,
        a callable a value it accepts; `data_field` means `data-field`."""
        found = []
        for el in self.elements:
            if tag and el.tag != tag:
                continue
            if all(_matches(el.attrs.get(_attr(k)), v, _attr(k) == "class") for k, v in attrs.items()):
                found.append(el)
        return found

    def find(self, tag: str | None = None, **attrs: Any) -> Element:
        found = self.find_all(tag, **attrs)
        assert found, f"no <{tag or '*'}> with {attrs}"
        return found[0]

    def text_of(self, tag: str | None = None, **attrs: Any) -> str:
        return " ".join(self.find(tag, **attrs).text.split())

    @property
    def text(self) -> str:
        return " ".join(" ".join(el.text.split()) for el in self.elements[:1])


def _attr(keyword: str) -> str:
    """Python keyword to attribute name: class_ -> class, data_locate -> data-locate, for_ -> for."""
    return keyword.rstrip("_").replace("_", "-")


def _matches(actual: str | None, wanted: Any, is_class: bool = False) -> bool:
    if is_class and isinstance(wanted, str):
        return actual is not None and wanted in actual.split()
    if wanted is True:
        return actual is not None
    if wanted is None:
        return actual is None
    if callable(wanted):
        return actual is not None and bool(wanted(actual))
    return actual == wanted


def parse(html: str) -> Page:
    return Page(html)


def elements(response: Any, tag: str | None = None, **attrs: Any) -> list[Element]:
    """Elements of a test client's HTML response (see `Page.find_all` for the attribute rules)."""
    return parse(response.text).find_all(tag, **attrs)


def hidden(response: Any, name: str) -> str:
    found = elements(response, "input", name=name)
    assert found, f"no {name} field in the page"
    return found[0].attrs.get("value", "")


def field_errors(response: Any) -> dict[str, str]:
    return {
        el.attrs["data-field"]: " ".join(el.text.split())
        for el in elements(response, class_="field-error", data_field=True)
    }
