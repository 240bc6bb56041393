"""Headers (CSP, privacy, gzip), no cookies or third-party assets, English/Spanish, and the error pages."""

import gzip
import re
import uuid

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from core.security import CONTENT_SECURITY_POLICY
from tests.html import parse
from tests.support import Directory, build_directory

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


@pytest.fixture
def data(session: Session, taxonomy: None) -> Directory:
    return build_directory(session)


def public_urls(data: Directory) -> list[str]:
    return [
        "/",
        "/search",
        "/organizations",
        f"/organizations/{data.loop_aa.organization_id}",
        f"/services/{data.loop_aa.id}",
        f"/services/{data.online.id}",
        f"/services/{data.shelter.id}",
        f"/services/{uuid.uuid4()}",
    ]


def test_every_public_page_sends_the_strict_policy_and_no_cookie(client: TestClient, data: Directory) -> None:
    assert CONTENT_SECURITY_POLICY == CSP
    for url in public_urls(data):
        response = client.get(url)
        assert response.headers["content-security-policy"] == CSP, url
        assert response.headers["referrer-policy"] == "no-referrer", url
        assert response.headers["x-content-type-options"] == "nosniff", url
        assert response.headers["permissions-policy"].startswith("geolocation=(self)"), url
        assert "set-cookie" not in response.headers, url
    assert not client.cookies


def test_pages_load_nothing_from_other_hosts_and_have_no_inline_code(client: TestClient, data: Directory) -> None:
    for url in public_urls(data):
        page = parse(client.get(url).text)
        assets = [
            el.attrs.get("src") or el.attrs.get("href") or ""
            for el in page.elements
            if el.tag in ("script", "link", "img", "iframe", "source", "audio", "video")
        ]
        # Same-origin paths only; the one data: URL is the empty favicon that saves a request.
        assert all((a.startswith("/") and not a.startswith("//")) or a == "data:," for a in assets), (url, assets)
        for script in page.find_all("script"):
            assert script.attrs.get("src") and not script.text.strip(), url
        assert not page.find_all("style"), url
        assert not any("style" in el.attrs or any(k.startswith("on") for k in el.attrs) for el in page.elements), url
        config = page.find("meta", name="htmx-config").attrs["content"]
        assert '"includeIndicatorStyles":false' in config


def test_html_and_static_files_are_gzipped(client: TestClient, data: Directory) -> None:
    headers = {"Accept-Encoding": "gzip"}
    for url in (
        f"/services/{data.loop_aa.id}",
        "/static/vendor/htmx-2.0.11.min.js",
        "/static/css/site.css",
        "/static/js/app.js",
    ):
        response = client.get(url, headers=headers)
        assert response.status_code == 200 and response.headers["content-encoding"] == "gzip", url
    raw = client.get("/static/vendor/htmx-2.0.11.min.js", headers={"Accept-Encoding": "identity"})
    assert len(gzip.compress(raw.content)) < 20_000


def test_location_script_rounds_coordinates_and_only_asks_on_click() -> None:
    from core.settings import PROJECT_ROOT

    script = (PROJECT_ROOT / "static" / "js" / "app.js").read_text()
    assert script.count("getCurrentPosition") == 1
    assert "toFixed(2)" in script
    assert not re.search(r"localStorage|sessionStorage|document\.cookie|fetch\(", script)


def test_language_from_accept_language_or_the_url(client: TestClient, data: Directory) -> None:
    spanish = client.get("/", headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"})
    assert "Accept-Language" in spanish.headers["vary"]
    page = parse(spanish.text)
    assert page.find("html").attrs["lang"] == "es"
    assert page.text_of("h1") == "Encuentre ayuda cerca de usted"
    assert page.find("a", href="/search").text.strip() == "Buscar"  # no ?lang: the browser already says es
    switch = page.find("a", hreflang="en")
    assert switch.attrs["href"] == "/?lang=en"
    english = parse(client.get("/?lang=en", headers={"Accept-Language": "es"}).text)
    assert english.find("html").attrs["lang"] == "en"
    assert english.find("a", href="/search?lang=en")  # a choice made in the URL is carried on
    assert english.find("input", name="lang").attrs["value"] == "en"
    assert parse(client.get("/", headers={"Accept-Language": "fr, de;q=0.5"}).text).find("html").attrs["lang"] == "en"
    assert parse(client.get("/?lang=xx").text).find("html").attrs["lang"] == "en"


def test_spanish_listing_labels_meeting_types_and_days_in_spanish(client: TestClient, data: Directory) -> None:
    page = parse(client.get(f"/services/{data.loop_aa.id}?lang=es").text)
    facts = page.text_of("dl", class_="facts")
    assert "Abierta" in facts and "Discusión" in facts and "Acceso en silla de ruedas" in facts  # types.json's X
    assert "Alcohólicos Anónimos" in facts
    rows = [" ".join(tr.text.split()) for tr in page.find_all("tr")][1:]
    assert rows[0].startswith("De lunes a viernes 12:00") and rows[1].startswith("Primer sábado del mes 10:00")
    assert page.find("a", href=f"/organizations/{data.loop_aa.organization_id}?lang=es")
    assert page.find("a", href=f"/services/{data.loop_aa.id}/suggest?lang=es")


def test_not_found_pages_and_fragments(client: TestClient, data: Directory) -> None:
    for url in (f"/services/{uuid.uuid4()}", f"/organizations/{uuid.uuid4()}", "/no-such-page"):
        response = client.get(url)
        assert response.status_code == 404, url
        page = parse(response.text)
        assert page.find("html") and page.text_of("h1") == "Not found", url
        assert response.headers["vary"].startswith("HX-Request"), url
    fragment = client.get(f"/services/{uuid.uuid4()}", headers={"HX-Request": "true"})
    assert fragment.status_code == 404 and "<html" not in fragment.text
    assert parse(fragment.text).text_of("h2") == "Not found"
    spanish = parse(client.get(f"/services/{uuid.uuid4()}?lang=es").text)
    assert spanish.text_of("h1") == "No encontrado"


def test_bad_input_pages_and_fragments(client: TestClient, data: Directory) -> None:
    response = client.get("/services/not-a-uuid")
    assert response.status_code == 422
    page = parse(response.text)
    assert page.text_of("h1") == "Please check your input"
    assert "service_id" in page.text_of("ul", class_="field-errors")
    fragment = client.get("/organizations?page=0", headers={"HX-Request": "true"})
    assert fragment.status_code == 422 and "<html" not in fragment.text
    assert parse(fragment.text).find("section", class_="error").attrs["data-status"] == "422"
    api = client.get("/api/v1/search?category=bogus")
    assert api.status_code == 422 and api.headers["content-type"].startswith("application/json")


def test_unexpected_errors_get_a_500_page_in_the_same_style(web_app: FastAPI) -> None:
    def boom() -> None:
        raise RuntimeError("kaboom")

    web_app.add_api_route("/boom", boom)
    with TestClient(web_app, raise_server_exceptions=False) as client:
        response = client.get("/boom?lang=es")
        assert response.status_code == 500
        page = parse(response.text)
        assert page.text_of("h1") == "Algo salió mal" and "kaboom" not in response.text
        fragment = client.get("/boom", headers={"HX-Request": "true"})
        assert fragment.status_code == 500 and "<html" not in fragment.text
