"""CORS: public read-only data answers any origin without credentials; account, staff and referral routes never do."""

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.app import create_app
from core.settings import Settings
from search.embedded import MeiliServer
from tests.directory.hsds.support import load_sample

OTHER_SITE = "https://intergroup.example.net"
PUBLIC = ["/api/meeting-guide.json", "/api/meeting-guide/", "/api/meeting-guide/aa.json", "/api/hsds/",
          "/api/hsds/services", "/api/v1/search?q=meeting"]  # fmt: skip
PRIVATE = ["/api/v1/referrals", "/api/v1/workspace/organizations", "/referrals/inbox", "/account", "/admin/users",
           "/workspace/moderation", "/login"]  # fmt: skip


@pytest.fixture
def client(
    engine: Engine,
    settings: Settings,
    session: Session,
    meili_server: MeiliServer,
    search_index: str,
) -> Iterator[TestClient]:
    load_sample(session)
    with TestClient(create_app(settings, engine=engine, meili=meili_server)) as client:
        yield client


@pytest.mark.parametrize("path", PUBLIC)
def test_public_data_is_readable_from_any_site(client: TestClient, path: str) -> None:
    response = client.get(path, headers={"Origin": OTHER_SITE})
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers
    assert "ETag" in response.headers["access-control-expose-headers"]
    head = client.head(path, headers={"Origin": OTHER_SITE, "Accept-Encoding": "identity"})
    assert head.status_code == 200 and head.content == b"" and head.headers["access-control-allow-origin"] == "*"
    assert head.headers["content-type"] == response.headers["content-type"]


@pytest.mark.parametrize("path", PUBLIC)
def test_public_data_answers_a_preflight(client: TestClient, path: str) -> None:
    asked = {"Origin": OTHER_SITE, "Access-Control-Request-Method": "GET",
             "Access-Control-Request-Headers": "if-none-match"}  # fmt: skip
    response = client.options(path, headers=asked)
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"
    assert set(response.headers["access-control-allow-methods"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    assert "If-None-Match" in response.headers["access-control-allow-headers"]
    assert "access-control-allow-credentials" not in response.headers
    writing = client.options(path, headers={**asked, "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in writing.headers  # a browser refuses a cross-site write


@pytest.mark.parametrize("path", PRIVATE)
def test_private_routes_are_never_shared_with_other_sites(client: TestClient, path: str) -> None:
    response = client.get(path, headers={"Origin": OTHER_SITE}, follow_redirects=False)
    assert "access-control-allow-origin" not in response.headers
    preflight = client.options(path, headers={"Origin": OTHER_SITE, "Access-Control-Request-Method": "GET"})
    assert preflight.status_code >= 400 and "access-control-allow-origin" not in preflight.headers


def test_a_public_not_found_is_still_readable_by_the_other_site(client: TestClient) -> None:
    # TSML UI shows the message of a failed load; the other site must be allowed to read it.
    response = client.get(f"/api/hsds/services/{uuid.uuid4()}", headers={"Origin": OTHER_SITE})
    assert response.status_code == 404 and response.headers["access-control-allow-origin"] == "*"
