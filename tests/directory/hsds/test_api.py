"""The HSDS 3.0 read API under /api/hsds/: bodies valid against the compiled schemas (also strictly),
parameters, paging, streams, errors, privacy and the fixed number of queries per page."""

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.app import create_app
from core.settings import Settings
from directory.hsds import extensions
from directory.listings.models import Organization, Service, ServiceAtLocation
from directory.listings.taxonomy import TAXONOMY_ID, term_id
from tests.directory.hsds.support import load_sample, ndjson, plain_schema_errors, schema_errors

SECRET_STREET = "77 Hidden Lane"
SECRET_POINT = ("41.9214", "-87.6513")


@pytest.fixture
def sample(session: Session) -> list[uuid.UUID]:
    return load_sample(session)


@pytest.fixture
def client(engine: Engine, settings: Settings, sample: list[uuid.UUID]) -> TestClient:
    app = create_app(settings.model_copy(update={"base_url": "https://directory.example.org"}), engine=engine)
    return TestClient(app)


def _names(client: TestClient, url: str) -> set[str]:
    """Names of the listed services (a service_at_location names its service)."""
    return {item.get("name") or item["service"]["name"] for item in client.get(url).json()["contents"]}


def test_root_names_version_profile_and_openapi(client: TestClient) -> None:
    body = client.get("/api/hsds/").json()
    assert body["version"] == "3.0"
    assert body["openapi_url"] == "https://directory.example.org/openapi.json"
    assert body["profile"].startswith("https://")


LISTS = [
    ("/api/hsds/services", "service_list"),
    ("/api/hsds/services?full=true", "service"),
    ("/api/hsds/services?minimal=true", "service_list"),
    ("/api/hsds/organizations", "organization_list"),
    ("/api/hsds/organizations?full=true", "organization"),
    ("/api/hsds/organizations?full_service=true", "organization"),
    ("/api/hsds/service_at_locations", "service_at_location_list"),
    ("/api/hsds/service_at_locations?full=true", "service_at_location"),
]


@pytest.mark.parametrize(("url", "schema"), LISTS)
def test_every_list_item_validates_strictly(client: TestClient, url: str, schema: str) -> None:
    page = client.get(url).json()
    assert set(page) == {"total_items", "total_pages", "page_number", "size", "first_page", "last_page", "empty",
                         "contents"}  # fmt: skip
    assert page["contents"], url
    for item in page["contents"]:
        assert schema_errors(schema, item) == []


def test_every_detail_body_validates_strictly(client: TestClient, session: Session) -> None:
    for sid in session.exec(select(Service.id)):
        assert schema_errors("service", client.get(f"/api/hsds/services/{sid}").json()) == []
    for oid in session.exec(select(Organization.id)):
        body = client.get(f"/api/hsds/organizations/{oid}?full_service=true").json()
        assert schema_errors("organization", body) == []
    for sal in session.exec(select(ServiceAtLocation.id)):
        assert schema_errors("service_at_location", client.get(f"/api/hsds/service_at_locations/{sal}").json()) == []


def test_taxonomy_bodies_validate(client: TestClient) -> None:
    taxonomies = client.get("/api/hsds/taxonomies").json()["contents"]
    assert {t["name"] for t in taxonomies} >= {"Community Directory Categories", "Meeting Guide meeting types"}
    terms = client.get("/api/hsds/taxonomy_terms?per_page=1000").json()
    assert terms["total_items"] == len(terms["contents"]) > 100
    for body in taxonomies + terms["contents"]:
        schema = "taxonomy_term" if "taxonomy_detail" in body or "taxonomy_id" in body else "taxonomy"
        assert plain_schema_errors(schema, body) == []
    one = client.get(f"/api/hsds/taxonomy_terms/{term_id('aa')}").json()
    assert one["code"] == "aa" and one["taxonomy_detail"]["id"] == str(TAXONOMY_ID)
    assert client.get(f"/api/hsds/taxonomies/{extensions.MEETING_TYPES_TAXONOMY_ID}").status_code == 200


def test_paging(client: TestClient) -> None:
    first = client.get("/api/hsds/services?per_page=4").json()
    assert (first["total_items"], first["total_pages"], first["size"]) == (6, 2, 4)
    assert first["first_page"] and not first["last_page"]
    second = client.get("/api/hsds/services?per_page=4&page=2").json()
    assert second["size"] == 2 and second["last_page"] and not second["first_page"]
    ids = [s["id"] for s in first["contents"] + second["contents"]]
    assert len(set(ids)) == 6
    beyond = client.get("/api/hsds/services?per_page=4&page=3").json()
    assert beyond["empty"] and beyond["contents"] == []


def test_filters(client: TestClient, session: Session) -> None:
    pantry_org = session.exec(select(Organization.id).where(Organization.name == "Northside Pantry")).one()
    assert _names(client, f"/api/hsds/services?organization_id={pantry_org}") == {
        "Northside Food Pantry", "Safe Harbor Shelter"}  # fmt: skip
    assert _names(client, f"/api/hsds/services?taxonomy_term_id={term_id('food-pantry')}") == {"Northside Food Pantry"}
    spanish = extensions.type_term_id("S")
    assert _names(client, f"/api/hsds/services?taxonomy_term_id={spanish}") == {"Noon Hybrid"}
    meetings = _names(client, f"/api/hsds/services?taxonomy_id={extensions.MEETING_TYPES_TAXONOMY_ID}")
    assert meetings == {"Sunrise Group", "Online Step Study", "Noon Hybrid", "Old Tuesday Group"}
    assert _names(client, "/api/hsds/services?search=PANTRY") == {"Northside Food Pantry"}
    assert _names(client, "/api/hsds/services?search=100%25") == set()  # a literal %, not a wildcard
    assert client.get("/api/hsds/services?modified_after=2999-01-01T00:00:00Z").json()["total_items"] == 0
    assert client.get("/api/hsds/services?modified_after=2000-01-01T00:00:00Z").json()["total_items"] == 6


def test_postcode_and_proximity(client: TestClient) -> None:
    near_loop = _names(client, "/api/hsds/service_at_locations?postcode=60601&proximity=2000")
    assert near_loop == {"Sunrise Group", "Noon Hybrid", "Old Tuesday Group"}
    wide = _names(client, "/api/hsds/services?postcode=60601&proximity=20000")
    assert "Northside Food Pantry" in wide and "Online Step Study" not in wide
    assert _names(client, "/api/hsds/services?postcode=60640") == {"Northside Food Pantry"}


def test_minimal_services_are_id_name_status_and_date(client: TestClient) -> None:
    for item in client.get("/api/hsds/services?minimal=true").json()["contents"]:
        assert set(item) == {"id", "name", "status", "last_modified"}


def test_ndjson_streams_every_result(client: TestClient) -> None:
    response = client.get("/api/hsds/services?format=ndjson&full=true&per_page=1")
    assert response.headers["content-type"].startswith("application/x-ndjson")
    lines = list(ndjson(response.text))
    assert len(lines) == 6
    assert all(schema_errors("service", line) == [] for line in lines)
    sal_lines = list(ndjson(client.get("/api/hsds/service_at_locations?format=ndjson").text))
    assert len(sal_lines) == 5


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/api/hsds/services?page=0", "page"),
        ("/api/hsds/services?per_page=5000", "per_page"),
        ("/api/hsds/services?taxonomy_term_id=not-a-uuid", "taxonomy_term_id"),
        ("/api/hsds/services?organization_id=1", "organization_id"),
        ("/api/hsds/services?format=xml", "format"),
        ("/api/hsds/services?modified_after=yesterday", "modified_after"),
        ("/api/hsds/services?proximity=500", "proximity"),
        ("/api/hsds/service_at_locations?postcode=00000&proximity=500", "postcode"),
        ("/api/hsds/service_at_locations?proximity=-1&postcode=60601", "proximity"),
        ("/api/hsds/taxonomy_terms?parent_id=x", "parent_id"),
        ("/api/hsds/services/not-a-uuid", "service_id"),
    ],
)
def test_bad_parameters_are_a_422_naming_the_parameter(client: TestClient, url: str, parameter: str) -> None:
    response = client.get(url)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/json")
    assert parameter in response.json()["errors"]


@pytest.mark.parametrize("path", ["services", "organizations", "service_at_locations", "taxonomies", "taxonomy_terms"])
def test_unknown_ids_are_a_json_404(client: TestClient, path: str) -> None:
    response = client.get(f"/api/hsds/{path}/{uuid.uuid4()}")
    assert response.status_code == 404
    assert response.json()["error"] == "Not found"


def _everything(client: TestClient) -> Iterator[str]:
    urls = [url for url, _ in LISTS] + ["/api/hsds/services?format=ndjson&full=true"]
    for url in urls:
        yield client.get(url).text
    for item in client.get("/api/hsds/service_at_locations").json()["contents"]:
        yield client.get(f"/api/hsds/service_at_locations/{item['id']}").text
        yield client.get(f"/api/hsds/services/{item['service_id']}").text


def test_confidential_street_and_point_never_leave(client: TestClient) -> None:
    for text in _everything(client):
        assert SECRET_STREET not in text
        assert SECRET_POINT[0] not in text and SECRET_POINT[1] not in text
        assert "Safe Harbor House" not in text and "Secret house" not in text
    shelter = next(
        s for s in client.get("/api/hsds/services?full=true").json()["contents"] if s["name"] == "Safe Harbor Shelter"
    )
    place = shelter["service_at_locations"][0]["location"]
    assert (place["latitude"], place["longitude"]) == (41.92, -87.65)
    assert place["addresses"][0]["city"] == "Chicago" and "withheld" in place["addresses"][0]["address_1"]


def _by_name(client: TestClient, name: str) -> dict[str, Any]:
    return next(s for s in client.get("/api/hsds/services?full=true").json()["contents"] if s["name"] == name)


def test_schedules_carry_a_numeric_offset_and_meetings_their_extension(client: TestClient) -> None:
    sunrise = _by_name(client, "Sunrise Group")
    assert [s["timezone"] for s in sunrise["schedules"]] == [-6]
    assert _by_name(client, "Online Step Study")["schedules"][0]["timezone"] == -5
    values = {a["taxonomy_term"]["code"]: a.get("value") for a in sunrise["attributes"]}
    assert values["meeting.slug"] == "sunrise-group"
    assert values["meeting.fellowship"] == "aa"
    assert {"O", "D", "X"} <= set(values)
    zones = [a["value"] for a in sunrise["schedules"][0]["attributes"]]
    assert zones == ["America/Chicago"]


def test_a_page_costs_the_same_queries_whatever_its_size(client: TestClient, engine: Engine) -> None:
    counted: list[str] = []

    def count(*args: Any) -> None:
        counted.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        client.get("/api/hsds/services?full=true&per_page=2")
        small = len(counted)
        counted.clear()
        client.get("/api/hsds/services?full=true&per_page=6")
        large = len(counted)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert small == large
