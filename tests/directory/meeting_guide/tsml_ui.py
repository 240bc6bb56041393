"""Driving TSML UI, the meeting finder intergroups embed on their own sites, against our served feeds.

The built client stays in ../shared/clients/tsml-ui/ and is never copied into the project: a test page
(the same page on both origins) loads it from there, once from our own origin through a test-only route
added to the app under test, and once from another origin through a tiny static server.
"""

import http.server
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from html import escape
from urllib.parse import parse_qs, urlsplit

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from playwright.sync_api import Page

from core.settings import PROJECT_ROOT

TSML_UI = PROJECT_ROOT.parent / "shared" / "clients" / "tsml-ui" / "app.js"
# Our sample data links online meetings to a fictional provider (meet.example.org); TSML UI only treats a
# link as a meeting link when it knows the provider, and lets a site add providers, as a web servant would.
CONFIG_JS = b'window.tsml_react_config = {conference_providers: {"meet.example.org": "Example Meet"}};\n'
# TSML UI injects its own <style> elements; the embedding site's policy allows that, ours for our pages does not.
PAGE_POLICY = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src *"
# Cacheable, as an intergroup's site serves it: Chromium then reuses its compiled code on the next page.
ASSET_HEADERS = {"Content-Security-Policy": PAGE_POLICY, "Cache-Control": "public, max-age=3600"}
WEEKDAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")


def page_html(src: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Meetings</title></head><body>'
        f'<div id="tsml-ui" data-src="{escape(src)}"></div>'
        '<script src="config.js"></script><script src="app.js"></script></body></html>'
    )


def _asset(name: str) -> bytes | None:
    return {"config.js": CONFIG_JS, "app.js": TSML_UI.read_bytes()}.get(name)


def add_test_page(app: FastAPI) -> str:
    """Test-only routes serving the page and TSML UI from the app's own origin; returns the page path."""

    def page(src: str) -> HTMLResponse:
        return HTMLResponse(page_html(src), headers={"Content-Security-Policy": PAGE_POLICY})

    def asset(name: str) -> Response:
        body = _asset(name)
        if body is None:
            return Response(status_code=404)
        return Response(body, media_type="text/javascript", headers=ASSET_HEADERS)

    app.add_api_route("/_test/tsml/page.html", page, include_in_schema=False)
    app.add_api_route("/_test/tsml/{name}", asset, include_in_schema=False)
    return "/_test/tsml/page.html"


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        name = parts.path.rsplit("/", 1)[-1]
        if name == "page.html":
            body, kind = page_html(parse_qs(parts.query)["src"][0]).encode(), "text/html; charset=utf-8"
        else:
            body, kind = _asset(name) or b"", "text/javascript"
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        if kind == "text/javascript":
            for header, value in ASSET_HEADERS.items():
                self.send_header(header, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@contextmanager
def other_site() -> Iterator[str]:
    """An intergroup's website on another origin; yields the URL of its page."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, name="other-site", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/page.html"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass
class Finder:
    """What TSML UI offers once it has read a feed: each filter's top-level options and their counts."""

    weekday: dict[str, int]
    region: dict[str, int]
    type: dict[str, int]
    rows: int | None  # counted in the list when there is no region filter to count by
    # Of those rows, the ones TSML UI marks "Inactive". With a region filter, its type filter shows inactive
    # meetings; without one (every meeting in one place, or every meeting inactive) only the rows do.
    inactive_rows: int

    @property
    def listed(self) -> int:
        return self.rows if self.rows is not None else sum(self.region.values())


# Listed, or TSML UI's own "Loading error: ..." message. Not a filter: TSML UI offers one only when it would
# narrow the list (a feed whose meetings all meet on one weekday has no weekday filter) and only for active meetings.
_READY_JS = (
    "() => document.querySelector('#tsml-ui table tbody tr')"
    " || /error/i.test(document.querySelector('#tsml-ui')?.innerText)"
)
# Open each filter (a missing one: TSML UI offers none for a single choice) and read its top-level options.
_OPTIONS_JS = """async () => {
  const found = {}, pause = () => new Promise(done => setTimeout(done, 20));
  for (const name of ['weekday', 'region', 'type']) {
    found[name] = [];
    const button = document.getElementById(name);
    if (!button) continue;
    button.click();
    const menu = () => document.querySelector(`[aria-labelledby="${name}"]`);
    for (let i = 0; i < 250 && !menu()?.querySelector('.tsml-dropdown__button span'); i++) await pause();
    found[name] = [...menu().querySelectorAll(':scope > .tsml-dropdown__item > .tsml-dropdown__button')]
      .map(b => [...b.querySelectorAll('span')].map(s => s.innerText.trim())).filter(s => s.length === 2);
    button.click();
    await pause();
  }
  return found;
}"""


def read_finders(pages: Sequence[Page], urls: Sequence[str]) -> list[Finder]:
    """Open the URLs a few at a time (one per page, loading side by side) and read TSML UI's filters."""
    found: list[Finder] = []
    for start in range(0, len(urls), len(pages)):
        batch = list(zip(pages, urls[start : start + len(pages)], strict=False))
        for page, url in batch:
            page.goto(url, wait_until="commit")
        found += [_read(page, url) for page, url in batch]
    return found


def _read(page: Page, url: str) -> Finder:
    """Fails with TSML UI's own message when it could not list the feed."""
    page.wait_for_function(_READY_JS, timeout=30_000)
    if page.locator("#tsml-ui table").count() == 0:
        raise AssertionError(f"TSML UI did not list {url}: {page.inner_text('#tsml-ui')[:300]}")
    options = page.evaluate(_OPTIONS_JS)
    found = {name: {label: int(count) for label, count in pairs} for name, pairs in options.items()}
    if found["region"]:
        return Finder(**found, rows=None, inactive_rows=0)
    rows, inactive = page.evaluate(_ROWS_JS, {"page": LIST_PAGE, "wait": LIST_WAIT_MS})
    return Finder(**found, rows=rows, inactive_rows=inactive)


# TSML UI lists meetings LIST_PAGE at a time and adds the next page when the element after its table scrolls
# near the viewport. So a page shorter than LIST_PAGE is the last one; after a full page, wait (generously: the
# machine may be busy) for the next one to appear. Only the list's last <tbody> counts: the one before it, shown
# whenever a meeting is in progress at the time of the test, repeats those meetings (or, folded, is one row with
# a "1 meeting in progress" button).
LIST_PAGE = 25
LIST_WAIT_MS = 10_000
_ROWS_JS = """async ({page, wait}) => {
  const rows = () => document.querySelectorAll('#tsml-ui table > tbody:last-of-type > tr');
  const pause = () => new Promise(done => setTimeout(done, 50));
  for (;;) {
    const before = rows().length;
    if (before % page) break;
    document.querySelector('#tsml-ui table').nextElementSibling?.scrollIntoView();
    for (let waited = 0; rows().length === before && waited < wait; waited += 50) await pause();
    if (rows().length === before) break;
  }
  const marked = [...rows()].filter(row => /^Inactive$/m.test(row.querySelector('.tsml-address')?.innerText ?? ''));
  return [rows().length, marked.length];
}"""


_WHEN = re.compile(r"\b(" + "|".join(WEEKDAYS) + r")\s+(\d{1,2}:\d{2}\s*[AP]M)\b(?:[^\n]*?)\b([A-Z]{3,5})\b")


def meeting_when(page: Page) -> tuple[str, int, str]:
    """TSML UI's meeting page (already opening): weekday, start in minutes after midnight and zone abbreviation."""
    page.wait_for_selector("#tsml-ui h1", timeout=30_000)
    match = _WHEN.search(page.inner_text("#tsml-ui"))
    assert match, page.inner_text("#tsml-ui")[:500]
    return match[1], minutes(match[2]), match[3]


def minutes(text: str) -> int:
    """ "7:05 PM" (any spacing) as minutes after midnight."""
    found = re.fullmatch(r"(\d{1,2}):(\d{2})\s*([AP])M", " ".join(text.split()))
    assert found, text
    hour = int(found[1]) % 12 + (12 if found[3] == "P" else 0)
    return hour * 60 + int(found[2])
