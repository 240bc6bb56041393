"""Fast checks of `/openapi.json` and of the answers it describes (the full schemathesis run is beside this).

What an API client relies on: every documented error has the body the app really sends, pages are HTML,
a 405 names every method the path accepts, and a date parameter documented as ISO 8601 takes nothing else.
"""

import uuid
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from core.app import create_app
from core.settings import Settings

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
ERROR_REF = "#/components/schemas/Error"


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    # No Meilisearch needed: none of these requests searches.
    yield TestClient(create_app(settings, engine=engine, meili=None))


@pytest.fixture
def document(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield path, method.upper(), operation


def test_every_error_response_documents_the_shared_error_body(document: dict[str, Any]) -> None:
    assert "HTTPValidationError" not in document["components"]["schemas"]
    checked = 0
    for path, method, operation in operations(document):
        for code, response in operation["responses"].items():
            if int(code) < 400 or path == "/healthz":  # /healthz answers 503 with its own status body
                continue
            content = response["content"]
            assert content["application/json"]["schema"] == {"$ref": ERROR_REF}, (method, path, code)
            expected = {"application/json"} if path.startswith("/api/") else {"application/json", "text/html"}
            assert set(content) == expected, (method, path, code)
            checked += 1
    assert checked > 200


def test_statuses_follow_from_what_each_route_depends_on(document: dict[str, Any]) -> None:
    responses = {(m, p): set(op["responses"]) for p, m, op in operations(document)}
    assert {"401", "403", "404", "422"} <= responses[("GET", "/workspace/organizations/{organization_id}")]
    assert {"303", "204", "400", "403", "413", "422"} <= responses[("POST", "/login")]
    assert "401" not in responses[("POST", "/login")]  # signing in needs no session
    assert {"401", "403", "409"} <= responses[("POST", "/api/v1/referrals")]
    assert "401" not in responses[("GET", "/api/hsds/services")]  # the HSDS API is public


def test_pages_are_html_files_and_feeds_have_their_own_types(document: dict[str, Any]) -> None:
    def success(method: str, path: str, code: str = "200") -> set[str]:
        return set(document["paths"][path][method.lower()]["responses"][code]["content"])

    assert success("GET", "/organizations") == {"text/html"}
    assert success("POST", "/admin/users") == {"text/html"}
    assert success("GET", "/services/{service_id}/calendar.ics") == {"text/calendar"}
    assert success("GET", "/api/hsds/services") == {"application/json", "application/x-ndjson"}
    assert success("GET", "/healthz") == {"application/json"}


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("GET", "/api/hsds/services?per_page=0", 422),
        ("GET", f"/api/hsds/services/{uuid.uuid4()}", 404),
        ("GET", "/api/v1/workspace/organizations", 401),
        ("POST", "/api/v1/referrals", 401),
        ("DELETE", "/api/hsds/services", 405),
    ],
)
def test_error_bodies_match_the_documented_error_schema(
    client: TestClient, document: dict[str, Any], method: str, url: str, status: int
) -> None:
    response = client.request(method, url)
    assert response.status_code == status
    schema = {**document["components"]["schemas"]["Error"], "components": document["components"]}
    jsonschema.validate(response.json(), schema)


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("OPTIONS", "/login", "GET, POST"),  # a sign-in page and its form: two routes, one path
        ("DELETE", "/api/v1/referrals", "GET, POST"),
        ("PUT", "/admin/users", "GET, POST"),
        ("POST", "/api/hsds/services", "GET"),
    ],
)
def test_method_not_allowed_names_every_method_of_the_path(
    client: TestClient, method: str, path: str, allow: str
) -> None:
    response = client.request(method, path)
    assert response.status_code == 405
    assert response.headers["Allow"] == allow


@pytest.mark.parametrize("value", ["0.5", "1700000000", "yesterday"])
def test_a_date_documented_as_iso_8601_takes_nothing_else(client: TestClient, value: str) -> None:
    response = client.get("/api/hsds/services", params={"modified_after": value})
    assert response.status_code == 422
    assert "ISO 8601" in response.json()["errors"]["modified_after"]
    assert client.get("/api/hsds/services", params={"modified_after": "2020-01-01T00:00:00Z"}).status_code == 200


def test_a_route_added_later_is_described_without_edits_to_the_describer() -> None:
    """What other packages rely on: depend on CurrentUser, name an object in the path, and the document says so."""
    from fastapi import APIRouter

    from accounts.deps import CurrentUser
    from core.openapi import error_responses
    from core.openapi import install as install_openapi

    router = APIRouter(responses=error_responses(409))

    @router.post("/api/v1/things/{thing_id}/archive")
    def archive(thing_id: uuid.UUID, user: CurrentUser) -> dict[str, str]:
        return {}

    @router.post("/things/{thing_id}/archive")
    def archive_page(thing_id: uuid.UUID, user: CurrentUser) -> dict[str, str]:
        return {}

    app = FastAPI()
    app.include_router(router)
    install_openapi(app)
    paths = app.openapi()["paths"]
    api = paths["/api/v1/things/{thing_id}/archive"]["post"]["responses"]
    assert {"200", "400", "401", "403", "404", "409", "413", "422"} <= set(api)
    assert set(api["401"]["content"]) == {"application/json"}
    page = paths["/things/{thing_id}/archive"]["post"]["responses"]
    assert {"303", "204"} <= set(page) and set(page["200"]["content"]) == {"text/html"}
    assert set(page["403"]["content"]) == {"text/html", "application/json"}
