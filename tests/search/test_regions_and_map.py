"""The region filter (documents, API, results page) and the map's server side: its vendored files and the
operator's optional tile source."""

import filecmp

import meilisearch
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.app import create_app
from core.security import CONTENT_SECURITY_POLICY
from core.settings import PROJECT_ROOT, Settings
from directory.listings.models import Address, ServiceAtLocation
from search.documents import regions_of
from search.embedded import MeiliServer
from search.map_view import MAP_ASSETS
from tests.html import parse
from tests.support import Directory, push

VENDORED = {
    "leaflet/dist/leaflet.js": "leaflet-1.9.4.js",
    "leaflet/dist/leaflet.css": "leaflet-1.9.4.css",
    "topojson-client/dist/topojson-client.min.js": "topojson-client-3.1.0.min.js",
    "us-atlas/states-10m.json": "us-atlas-3.0.1-states-10m.json",
}


def test_regions_go_from_the_state_to_the_neighbourhood() -> None:
    assert regions_of("Chicago", "IL", "Lincoln Park") == ["Illinois", "Chicago, IL", "Lincoln Park, Chicago"]
    assert regions_of("Springfield", "MO", None) == ["Missouri", "Springfield, MO"]
    assert regions_of("Chicago", "IL", "Chicago") == ["Illinois", "Chicago, IL"]
    assert regions_of("", "", None) == []


def test_search_by_region_and_its_counts(api: TestClient, directory: Directory) -> None:
    everything = api.get("/api/v1/search").json()
    regions = everything["facets"]["region"]
    assert regions["Illinois"] == regions["Chicago, IL"] == 5 and regions["Brooklyn, NY"] == 1
    brooklyn = api.get("/api/v1/search", params={"region": "Brooklyn, NY"}).json()
    assert [h["name"] for h in brooklyn["hits"]] == ["Brooklyn Food Bank"]
    both = api.get("/api/v1/search", params={"region": ["Brooklyn, NY", "New York"], "q": "food"}).json()
    assert [h["name"] for h in both["hits"]] == ["Brooklyn Food Bank"]
    quoted = api.get("/api/v1/search", params={"region": 'Chicago" OR kind = "meeting'})
    assert quoted.status_code == 200 and quoted.json()["total"] == 0, "a region value is quoted, never a filter"


def test_a_neighbourhood_from_the_address_is_a_region(
    api: TestClient, directory: Directory, session: Session, meili_client: meilisearch.Client, search_index: str
) -> None:
    link = session.exec(select(ServiceAtLocation).where(ServiceAtLocation.service_id == directory.pantry.id)).one()
    address = session.exec(select(Address).where(Address.location_id == link.location_id)).one()
    address.region = "Uptown"
    session.add(address)
    session.commit()
    push(meili_client, search_index, session, [directory.pantry])
    found = api.get("/api/v1/search", params={"region": "Uptown, Chicago"}).json()
    assert [h["name"] for h in found["hits"]] == ["Northside Food Pantry"]


@pytest.mark.parametrize("value", ["a\x00b", "x" * 101], ids=["control-character", "too-long"])
def test_a_bad_region_is_a_422(api: TestClient, directory: Directory, value: str) -> None:
    response = api.get("/api/v1/search", params={"region": value})
    assert response.status_code == 422 and "region" in response.text
    page = api.get("/search", params={"region": value})
    assert page.status_code == 422


def test_the_results_page_offers_regions_and_a_removable_region_chip(api: TestClient, directory: Directory) -> None:
    page = parse(api.get("/search", params={"region": "Brooklyn, NY"}).text)
    assert page.find("input", name="region", value="Brooklyn, NY").attrs.get("checked") is not None
    (chip,) = [a for a in page.find_all("a") if "tag" in a.classes]
    assert "Remove filter: Brooklyn, NY" in " ".join(chip.text.split()) and chip.attrs["href"] == "/search"


def test_map_files_are_pinned_packages_outside_the_first_load(api: TestClient, directory: Directory) -> None:
    for package_file, vendored in VENDORED.items():
        assert filecmp.cmp(PROJECT_ROOT / "node_modules" / package_file, PROJECT_ROOT / "static" / "vendor" / vendored)
    for asset in MAP_ASSETS.values():
        assert (PROJECT_ROOT / "static" / asset).is_file(), asset
    response = api.get("/search", params={"near": "60601"})
    page = parse(response.text)
    loaded = [s.attrs["src"] for s in page.find_all("script")] + [
        link.attrs["href"] for link in page.find_all("link") if link.attrs.get("rel") == "stylesheet"
    ]
    assert not any("leaflet" in url or "topojson" in url or "results-map" in url for url in loaded), loaded
    toggle = page.find("div", **{"data-map-toggle": ""})
    assert toggle.attrs["data-leaflet"] == "/static/vendor/leaflet-1.9.4.js" and "hidden" in toggle.attrs
    assert "data-tiles" not in toggle.attrs
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def test_a_tile_source_is_named_and_allowed_only_when_configured(
    settings: Settings, engine: Engine, meili_server: MeiliServer, directory: Directory
) -> None:
    tiled = settings.model_copy(update={"map_tile_url": "https://tiles.example.org/{z}/{x}/{y}.png"})
    with TestClient(create_app(tiled, engine=engine, meili=meili_server)) as client:
        response = client.get("/search", params={"near": "60601"})
    policy = response.headers["content-security-policy"]
    assert "img-src 'self' data: https://tiles.example.org;" in policy and "connect-src 'self';" in policy
    page = parse(response.text)
    assert (
        page.find("div", **{"data-map-toggle": ""}).attrs["data-tiles"] == "https://tiles.example.org/{z}/{x}/{y}.png"
    )
    notice = " ".join(p.text for p in page.find_all("p", **{"class": "hint"}))
    assert "Street maps come from tiles.example.org." in " ".join(notice.split())


@pytest.mark.parametrize(
    "url", ["tiles.example.org/{z}/{x}/{y}.png", "https://tiles.example.org/tile.png", "javascript:{z}{x}{y}"]
)
def test_a_tile_url_must_be_a_web_template(url: str) -> None:
    with pytest.raises(ValidationError):
        Settings(map_tile_url=url)
