"""GET /api/v1/search through the real app, a real database and a real Meilisearch."""

import logging

import meilisearch
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.app import create_app
from core.settings import Settings
from search.embedded import MeiliServer, free_port
from tests.factories import CHICAGO, insert_listing, place, weekly
from tests.support import push

SECRET_STREET = "742 Evergreen Hideaway"
SECRET_POINT = (41.912345, -87.654321)


@pytest.fixture
def listings(session: Session, taxonomy: None, meili_client: meilisearch.Client, search_index: str) -> None:
    services = [
        insert_listing(session, name="Loop Serenity", kind="meeting", fellowship="aa", categories=[], types=["O"],
                     schedules=[weekly("MO", "19:00", "20:00")]),
        insert_listing(session, name="Harbor Pantry", categories=["food-pantry"], costs=["free"],
                     places=[place(41.9, -87.64, street="1 Harbor Way")], schedules=[weekly("MO", "09:00", "17:00")]),
        insert_listing(session, name="Safe Harbor Shelter", categories=["emergency-shelter"], places=[place(
            41.886, -87.6181, name="Safe Harbor House", street="", confidential=True, secret_street=SECRET_STREET,
            secret_point=SECRET_POINT)], schedules=[weekly("MO,TU,WE,TH,FR,SA,SU", "00:00", "00:00")]),
        insert_listing(session, name="Online Harbor Group", kind="meeting", fellowship="na", attendance="online",
                     places=[], conference_url="https://zoom.example/j/9", schedules=[weekly("MO", "19:00")]),
    ]  # fmt: skip
    push(meili_client, search_index, session, services)


def test_search_response_shape(api: TestClient, listings: None) -> None:
    response = api.get("/api/v1/search", params={"near": "60601", "at": "2026-03-09T15:00:00Z"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {
        "total",
        "page",
        "per_page",
        "sort",
        "hits",
        "online",
        "online_total",
        "place_applies",
        "facets",
    }
    assert body["sort"] == "distance" and body["page"] == 1 and body["per_page"] == 20 and body["total"] == 3
    required = {"id", "kind", "name", "organization", "categories", "distance_km", "next_start", "in_progress",
                "attendance", "address", "lat", "lng", "url", "capacity", "status", "cost", "languages", "types",
                "fellowship", "assured_date", "stale"}  # fmt: skip
    for hit in body["hits"] + body["online"]:
        assert required <= set(hit)
        assert hit["url"] == f"/services/{hit['service_id']}"
    pantry = next(h for h in body["hits"] if h["name"] == "Harbor Pantry")
    assert pantry["in_progress"] is True and pantry["cost"] == ["free"]
    assert pantry["address"] == {"street": "1 Harbor Way", "city": "Chicago", "state": "IL", "postal_code": "60601"}
    assert [h["name"] for h in body["online"]] == ["Online Harbor Group"]
    assert body["facets"]["category"]["food"] == 1 and set(body["facets"]) == {
        "category",
        "fellowship",
        "type",
        "attendance",
        "language",
        "accessibility",
        "cost",
        "day",
        "region",  # added with the region filter (issue 14)
    }


def test_openapi_documents_parameters_and_response(api: TestClient) -> None:
    spec = api.get("/openapi.json").json()
    operation = spec["paths"]["/api/v1/search"]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert {"q", "near", "lat", "lng", "radius_km", "category", "kind", "fellowship", "type", "attendance",
            "language", "accessibility", "cost", "day", "time_from", "time_to", "open_now", "in_progress",
            "starting_within", "at", "tz", "sort", "page", "per_page"} <= set(params)  # fmt: skip
    assert all(p.get("description") for p in params.values())
    assert params["category"]["schema"]["anyOf"][0]["type"] == "array"
    hit = spec["components"]["schemas"]["SearchHit"]["properties"]
    assert "description" in hit["distance_km"] and "description" in hit["next_start"]
    assert "SearchResponse" in operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("category=nope", "category"),
        ("kind=event", "kind"),
        ("attendance=sometimes", "attendance"),
        ("cost=cheap", "cost"),
        ("sort=price", "sort"),
        ("sort=distance", "sort"),
        ("lat=41.9", "lng"),
        ("lng=-87.6", "lat"),
        ("near=60601&lat=41.9&lng=-87.6", "near"),
        ("near=Atlantis%2C+ZZ", "near"),
        ("lat=91&lng=0", "lat"),
        ("radius_km=0&near=60601", "radius_km"),
        ("radius_km=501&near=60601", "radius_km"),
        ("per_page=101", "per_page"),
        ("per_page=0", "per_page"),
        ("page=0", "page"),
        ("starting_within=0", "starting_within"),
        ("starting_within=1441", "starting_within"),
        ("day=someday", "day"),
        ("time_from=7pm", "time_from"),
        ("at=tomorrow", "at"),
        ("tz=Mars%2FOlympus", "tz"),
        ("type=O%22+OR+kind+%3D+%22service", "type"),
        ("open_now=perhaps", "open_now"),
    ],
)
def test_bad_parameters_are_422_naming_the_parameter(api: TestClient, query: str, field: str) -> None:
    response = api.get(f"/api/v1/search?{query}")
    assert response.status_code == 422, response.text
    body = response.json()
    assert field in body["errors"] and body["error"] == "Please check your input"


@pytest.mark.parametrize(
    "attempt",
    [
        'category=x" OR kind = "meeting',
        'category=food-pantry" OR kind = "meeting',
        'kind=service" OR kind = "meeting',
        'fellowship=aa") OR (kind = "service',
        'language=en" OR languages EXISTS OR "',
        "accessibility=wheelchair OR 1 = 1",
    ],
)
def test_filter_injection_is_rejected(api: TestClient, listings: None, attempt: str) -> None:
    name, value = attempt.split("=", 1)
    before = api.get("/api/v1/search", params={"kind": "service"}).json()
    response = api.get("/api/v1/search", params={"kind": "service", name: value} if name != "kind" else {name: value})
    assert response.status_code == 422 and name in response.json()["errors"]
    after = api.get("/api/v1/search", params={"kind": "service"}).json()
    assert after["total"] == before["total"] == 2


def test_injection_in_the_text_query_is_only_text(api: TestClient, listings: None) -> None:
    response = api.get("/api/v1/search", params={"q": '" OR kind = "meeting', "kind": "service"})
    assert response.status_code == 200 and all(h["kind"] == "service" for h in response.json()["hits"])


@pytest.mark.parametrize(
    "params",
    [
        {"near": "60601"},
        {"lat": SECRET_POINT[0], "lng": SECRET_POINT[1], "radius_km": 1},
        {"q": "Evergreen Hideaway"},
        {"q": "safe harbor", "sort": "soonest", "at": "2026-03-09T15:00:00Z"},
        {"category": "housing", "open_now": "true"},
        {"near": "Chicago, IL", "radius_km": 50, "per_page": 100},
    ],
)
def test_confidential_street_and_point_never_leave(api: TestClient, listings: None, params: dict) -> None:
    response = api.get("/api/v1/search", params=params)
    assert response.status_code == 200
    text = response.text
    for secret in ("Evergreen", "Hideaway", "41.912345", "-87.654321", "41.9123", "-87.6543", "Safe Harbor House"):
        assert secret not in text
    for hit in response.json()["hits"]:
        if hit["name"] == "Safe Harbor Shelter":
            assert hit["address"]["street"] is None and hit["approximate"] is True
            assert (hit["lat"], hit["lng"]) == (41.89, -87.62)


def test_searching_never_writes_to_meilisearch(api: TestClient, listings: None, meili_client: meilisearch.Client,
                                               search_index: str) -> None:  # fmt: skip
    prefix = search_index.removesuffix("listings")
    uids = [i.uid for i in meili_client.get_indexes({"limit": 1000})["results"] if i.uid.startswith(prefix)]
    assert len(uids) == 4  # the flat index, two shards and the layout
    before = meili_client.get_tasks({"indexUids": uids}).total
    for params in ({"q": "harbor"}, {"near": "60601", "sort": "soonest"}, {"open_now": "true"}):
        assert api.get("/api/v1/search", params=params).status_code == 200
    assert meili_client.get_tasks({"indexUids": uids}).total == before


def test_the_seekers_location_is_not_logged(api: TestClient, listings: None, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        api.get("/api/v1/search", params={"lat": 41.87654, "lng": -87.61234})
        api.get("/api/v1/search", params={"near": "Evanston, IL"})
        api.get("/api/v1/search", params={"near": "Nowhere Town, ZZ"})
    app_records = [r for r in caplog.records if not r.name.startswith("httpx")]  # httpx = the test client itself
    text = "\n".join(r.getMessage() + str(r.__dict__) for r in app_records)
    assert "41.87654" not in text and "-87.61234" not in text and "Evanston" not in text and "Nowhere" not in text


def test_meilisearch_unreachable_is_503_json(settings: Settings, engine: Engine) -> None:
    dead = MeiliServer(url=f"http://127.0.0.1:{free_port()}", api_key="unused")
    with TestClient(create_app(settings, engine=engine, meili=dead)) as client:
        response = client.get("/api/v1/search", params={"q": "food"})
    assert response.status_code == 503
    body = response.json()
    assert body["error"] == "Temporarily unavailable" and "Search is temporarily unavailable" in body["detail"]


def test_one_client_per_app_with_a_short_timeout(api: TestClient, listings: None) -> None:
    api.get("/api/v1/search")
    client = api.app.state.search_client  # type: ignore[attr-defined]
    api.get("/api/v1/search", params={"q": "pantry"})
    assert api.app.state.search_client is client and client.timeout == 5  # type: ignore[attr-defined]


def test_lat_lng_search_and_tz_of_online_times(api: TestClient, listings: None) -> None:
    response = api.get("/api/v1/search", params={"lat": CHICAGO[0], "lng": CHICAGO[1], "tz": "America/New_York",
                                                 "at": "2026-03-09T15:00:00Z"})  # fmt: skip
    body = response.json()
    assert body["online"][0]["next_start"] == "2026-03-09T20:00:00-04:00"
    assert body["hits"][0]["distance_km"] is not None
