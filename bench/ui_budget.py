"""`python -m bench.ui_budget [--size 2000] [--queries 40] [--rounds 7]`: budgets of the HTML search UI.

1. Page weight: the first load of a results page (HTML + CSS + JS, gzip as a browser asks for it) must stay
   within 60 KB on the wire, and an htmx results fragment within 20 KB.
2. Server time: `GET /search` (the HTML page) against `GET /api/v1/search` for the same query set; the page
   may take at most 1.3x the API's time.
3. The map's own load (not part of the first load: it is fetched only when the visitor presses "Map"): its
   vendored files named by the page's map toggle, plus the pins (the page's query on the JSON API). Measured
   and reported, no budget. Also the "My list" page with 20 saved listings, first load.

The app runs in process (uvicorn on a loopback port) over the benchmark's generated SQLite file and its own
throwaway Meilisearch, indexed with the real reindex. Results go to bench/results/ui_budget.md.
"""

import logging
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
import uvicorn

from bench import dataset
from bench.queries import as_http_params, build_queries
from core.app import create_app
from core.settings import PROJECT_ROOT, Settings
from search.embedded import free_port, start_embedded
from search.layout import indexes_for
from search.reindex import reindex

PREFIX = "uibudget"
RESULTS = PROJECT_ROOT / "bench" / "results" / "ui_budget.md"
PAGE_BUDGET = 60 * 1024
FRAGMENT_BUDGET = 20 * 1024
TIME_RATIO_BUDGET = 1.3
GZIP = {"Accept-Encoding": "gzip"}
cli = typer.Typer(add_completion=False)


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script" and found.get("src"):
            self.urls.append(str(found["src"]))
        if tag == "link" and found.get("rel") == "stylesheet" and found.get("href"):
            self.urls.append(str(found["href"]))


class _MapToggle(HTMLParser):
    """The map's files, as the results page names them on its list/map toggle (loaded only on request)."""

    KEYS = ("data-css", "data-leaflet", "data-topojson", "data-states", "data-map")

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if "data-map-toggle" in found:
            self.urls = [str(found[key]) for key in self.KEYS if found.get(key)]


@dataclass
class Transfer:
    url: str
    wire_bytes: int  # body as sent (gzip) plus the status line and headers
    body_bytes: int  # uncompressed body


def transfer(client: httpx.Client, url: str, headers: dict[str, str]) -> tuple[Transfer, str]:
    with client.stream("GET", url, headers=headers) as response:
        wire = b"".join(response.iter_raw())
        body = gzip_decoded(wire) if response.headers.get("content-encoding") == "gzip" else wire
        head = sum(len(k) + len(v) + 4 for k, v in response.headers.raw) + len("HTTP/1.1 200 OK\r\n\r\n")
    return Transfer(url, len(wire) + head, len(body)), body.decode("utf-8", "replace")


def gzip_decoded(data: bytes) -> bytes:
    import gzip

    return gzip.decompress(data)


@contextmanager
def running_app(size: int) -> Iterator[tuple[str, int]]:
    data = dataset.prepare(size)
    workdir = Path(tempfile.mkdtemp(prefix="ui-budget-"))
    settings = Settings(
        data_dir=workdir,
        meili_index_prefix=PREFIX,
        embedded_workers=False,
        database_url=f"sqlite:///{data.data_dir / 'directory.sqlite3'}",
    )
    meili = start_embedded(settings)
    engine = data.engine()
    try:
        reindex(engine=engine, indexes=indexes_for(settings, meili))
        app = create_app(settings, engine=engine, meili=meili)
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning", access_log=False)
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        yield f"http://127.0.0.1:{server.config.port}", data.listings
        server.should_exit = True
        thread.join(timeout=10)
    finally:
        meili.stop()
        engine.dispose()
        shutil.rmtree(workdir, ignore_errors=True)


def page_weight(client: httpx.Client, queries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Heaviest first load and heaviest fragment over the query set (each page shows up to 20 results)."""
    pages, fragments = [], []
    assets: list[Transfer] = []
    for query in queries:
        url = str(httpx.URL("/search", params=as_http_params(query)))
        page, html = transfer(client, url, GZIP)
        if not assets:
            parser = _Assets()
            parser.feed(html)
            assets = [transfer(client, asset, GZIP)[0] for asset in parser.urls]
        pages.append(page)
        fragments.append(transfer(client, url, {**GZIP, "HX-Request": "true"})[0])
    heaviest = max(pages, key=lambda t: t.wire_bytes)
    fragment = max(fragments, key=lambda t: t.body_bytes)
    return {
        "page": heaviest,
        "assets": assets,
        "first_load": heaviest.wire_bytes + sum(a.wire_bytes for a in assets),
        "fragment": fragment,
        "fragment_wire": max(f.wire_bytes for f in fragments),
    }


def map_weight(client: httpx.Client, query: dict[str, Any]) -> dict[str, Any]:
    """What pressing "Map" costs on top of the first load: the map's files and the pins of this query."""
    params = as_http_params(query)
    _, html = transfer(client, str(httpx.URL("/search", params=params)), GZIP)
    toggle = _MapToggle()
    toggle.feed(html)
    if not toggle.urls:
        raise RuntimeError("the results page names no map files (no list/map toggle)")
    files = [transfer(client, url, GZIP)[0] for url in toggle.urls]
    pins = transfer(client, str(httpx.URL("/api/v1/search", params=params)), GZIP)[0]
    return {"files": files, "pins": pins, "total": sum(t.wire_bytes for t in [*files, pins])}


def my_list_weight(client: httpx.Client, ids: Sequence[str]) -> dict[str, Any]:
    """The "My list" page with these saved listings, first load (page plus its CSS and scripts)."""
    page, html = transfer(client, str(httpx.URL("/my-list", params=[("id", i) for i in ids])), GZIP)
    parser = _Assets()
    parser.feed(html)
    assets = [transfer(client, asset, GZIP)[0] for asset in parser.urls]
    return {"page": page, "assets": assets, "total": page.wire_bytes + sum(a.wire_bytes for a in assets)}


def saved_ids(client: httpx.Client, queries: Sequence[dict[str, Any]], count: int = 20) -> list[str]:
    """Service ids a visitor might have saved: the first results of the query set."""
    found: list[str] = []
    for query in queries:
        for hit in client.get("/api/v1/search", params=as_http_params(query)).json()["hits"]:
            if hit["service_id"] not in found:
                found.append(hit["service_id"])
        if len(found) >= count:
            break
    return found[:count]


def timings(client: httpx.Client, queries: Sequence[dict[str, Any]], rounds: int) -> dict[str, list[float]]:
    """Per query, the median of `rounds` alternating requests to the page and to the API (milliseconds)."""
    medians: dict[str, list[float]] = {"html": [], "api": []}
    for query in queries:
        params = as_http_params(query)
        samples: dict[str, list[float]] = {"html": [], "api": []}
        for _ in range(rounds):
            for kind, path in (("api", "/api/v1/search"), ("html", "/search")):
                started = time.perf_counter()
                response = client.get(path, params=params, headers=GZIP)
                samples[kind].append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    raise RuntimeError(f"{path} {params} -> {response.status_code}")
        for kind in medians:
            medians[kind].append(statistics.median(samples[kind]))
    return medians


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def map_section(weight: dict[str, Any], saved: dict[str, Any]) -> list[str]:
    rows = [f"| `{t.url}` | {t.wire_bytes:,} | {t.body_bytes:,} |" for t in weight["files"]]
    pins = weight["pins"]
    mine = [f"| `{t.url[:60]}…` | {t.wire_bytes:,} | {t.body_bytes:,} |" for t in [saved["page"]]] + [
        f"| `{t.url}` | {t.wire_bytes:,} | {t.body_bytes:,} |" for t in saved["assets"]
    ]
    return [
        '## The map\'s own load (only when the visitor presses "Map")',
        "",
        "Not part of the first load. Boundaries and pins come from this site; no tile server by default.",
        "",
        "| resource | on the wire (bytes, gzip + headers) | uncompressed body (bytes) |",
        "|---|---:|---:|",
        *rows,
        f"| pins: `/api/v1/search?…` (the heaviest page's query) | {pins.wire_bytes:,} | {pins.body_bytes:,} |",
        f"| **total map load** | **{weight['total']:,}** | |",
        "",
        f'- Pressing "Map" transfers {weight["total"] / 1024:.1f} KB once (the files are cached after that; '
        f"each later redraw fetches only the pins, {pins.wire_bytes / 1024:.1f} KB).",
        "",
        '## "My list" with 20 saved listings, first load',
        "",
        "| resource | on the wire (bytes, gzip + headers) | uncompressed body (bytes) |",
        "|---|---:|---:|",
        *mine,
        f"| **total** | **{saved['total']:,}** | |",
        "",
        f"- My list first load: {saved['total'] / 1024:.1f} KB of {PAGE_BUDGET // 1024} KB — "
        f"{'within budget' if saved['total'] <= PAGE_BUDGET else 'OVER BUDGET'}.",
        "",
    ]


def report(size: int, listings: int, weight: dict[str, Any], times: dict[str, list[float]], rounds: int) -> str:
    ratio = sum(times["html"]) / sum(times["api"])
    rows = [f"| `{a.url}` | {a.wire_bytes:,} | {a.body_bytes:,} |" for a in [weight["page"], *weight["assets"]]]
    ok = {
        "page": weight["first_load"] <= PAGE_BUDGET,
        "fragment": weight["fragment"].body_bytes <= FRAGMENT_BUDGET,
        "time": ratio <= TIME_RATIO_BUDGET,
    }
    verdict = {True: "within budget", False: "OVER BUDGET"}
    return "\n".join(
        [
            "# HTML UI budgets",
            "",
            f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `python -m bench.ui_budget`, {listings:,} generated "
            f"listings (size {size}), {len(times['api'])} queries from `bench.queries`, {rounds} rounds each, "
            "app in process on loopback (uvicorn), gzip requested as browsers do.",
            "",
            "## Page weight",
            "",
            "Heaviest results page of the query set, first load (nothing cached):",
            "",
            "| resource | on the wire (bytes, gzip + headers) | uncompressed body (bytes) |",
            "|---|---:|---:|",
            *rows,
            f"| **total first load** | **{weight['first_load']:,}** | |",
            "",
            f"- First load: {weight['first_load'] / 1024:.1f} KB of {PAGE_BUDGET // 1024} KB — {verdict[ok['page']]}.",
            f"- Heaviest results fragment (htmx): {weight['fragment'].body_bytes / 1024:.1f} KB uncompressed, "
            f"{weight['fragment_wire'] / 1024:.1f} KB on the wire, budget {FRAGMENT_BUDGET // 1024} KB — "
            f"{verdict[ok['fragment']]}.",
            "",
            "## Server time: results page vs JSON API, same searches",
            "",
            "| | median (ms) | p95 (ms) | sum of per-query medians (ms) |",
            "|---|---:|---:|---:|",
            f"| `GET /api/v1/search` | {statistics.median(times['api']):.1f} | {percentile(times['api'], 0.95):.1f} | "
            f"{sum(times['api']):.0f} |",
            f"| `GET /search` (HTML) | {statistics.median(times['html']):.1f} | "
            f"{percentile(times['html'], 0.95):.1f} | {sum(times['html']):.0f} |",
            "",
            f"- HTML / API time: **{ratio:.2f}x** (budget {TIME_RATIO_BUDGET}x) — {verdict[ok['time']]}.",
            "",
        ]
    )


@cli.command()
def main(
    size: Annotated[int, typer.Option(help="Generated listings (bench/data/<size>, reused).")] = 2000,
    queries: Annotated[int, typer.Option(help="Queries from the benchmark's fixed set.")] = 40,
    rounds: Annotated[int, typer.Option(help="Requests per query and endpoint (median kept).")] = 7,
) -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request would drown the report
    with running_app(size) as (base_url, listings):
        query_set = build_queries(dataset.prepare(size).engine(), count=queries)
        with httpx.Client(base_url=base_url, timeout=30) as client:
            for query in query_set[:5]:  # warm up caches and connections
                client.get("/search", params=as_http_params(query))
                client.get("/api/v1/search", params=as_http_params(query))
            weight = page_weight(client, query_set)
            heaviest = next(
                q for q in query_set if weight["page"].url.endswith(str(httpx.URL("/search", params=as_http_params(q))))
            )
            the_map = map_weight(client, heaviest)
            saved = my_list_weight(client, saved_ids(client, query_set))
            times = timings(client, query_set, rounds)
    text = report(size, listings, weight, times, rounds) + "\n" + "\n".join(map_section(the_map, saved))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    typer.echo(text)


if __name__ == "__main__":
    cli()
