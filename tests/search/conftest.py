"""Builders for search tests: listings written as real DB rows, then indexed in a real Meilisearch."""

import itertools
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time
from typing import Any

import meilisearch
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.app import create_app
from core.settings import Settings
from directory.listings.details import Accessibility, Attribute, CostOption, Language
from directory.listings.models import (
    Address,
    ConfidentialAddress,
    Location,
    Meeting,
    Organization,
    Schedule,
    Service,
    ServiceAtLocation,
)
from directory.listings.service import ensure_taxonomy
from directory.listings.taxonomy import term_id
from search.documents import documents_for
from search.embedded import MeiliServer
from search.filters import parse_params
from search.index_spec import PRIMARY_KEY, apply_settings, index_name, wait_for_success
from search.query import SearchResult, search

_counter = itertools.count(1)

# Downtown Chicago and a few points at known distances from it.
CHICAGO = (41.8781, -87.6298)


def place(
    lat: float | None = CHICAGO[0],
    lng: float | None = CHICAGO[1],
    *,
    street: str = "100 W Randolph St",
    city: str = "Chicago",
    state: str = "IL",
    postal_code: str = "60601",
    name: str | None = "Community Hall",
    accessibility: Sequence[str] = (),
    confidential: bool = False,
    secret_street: str | None = None,
    secret_point: tuple[float, float] | None = None,
    timezone: str = "America/Chicago",
) -> dict[str, Any]:
    return dict(locals())


def weekly(byday: str, opens: str, closes: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "byday": byday,
        "opens_at": time.fromisoformat(opens),
        "closes_at": time.fromisoformat(closes) if closes else None,
        **extra,
    }


def make_listing(session: Session, **overrides: Any) -> Service:
    """Insert one listing (organization, service, places, schedules, meeting, details); returns the service."""
    n = next(_counter)
    spec: dict[str, Any] = {
        "name": f"Listing {n}",
        "kind": "service",
        "organization": f"Organization {n}",
        "description": "",
        "categories": ["food-pantry"],
        "fellowship": None,
        "types": [],
        "attendance": "in_person",
        "languages": ["en"],
        "costs": [],
        "status": "active",
        "capacity": "accepting",
        "assured_date": date(2026, 1, 1),
        "places": [place()],
        "schedules": [],
        "timezone": "America/Chicago",
        "conference_url": None,
    }
    unknown = set(overrides) - set(spec)
    assert not unknown, f"unknown make_listing overrides {unknown}"
    spec.update(overrides)
    org = Organization(name=spec["organization"])
    service = Service(
        organization_id=org.id,
        kind=spec["kind"],
        name=spec["name"],
        description=spec["description"],
        status=spec["status"],
        capacity=spec["capacity"],
        assured_date=spec["assured_date"],
    )
    session.add(org)
    session.flush()  # no ORM relationships: flush parents first so foreign keys hold
    session.add(service)
    session.flush()
    for p in spec["places"]:
        _add_place(session, org, service, p)
    for sched in spec["schedules"]:
        row = {"timezone": spec["timezone"], **sched}
        session.add(Schedule(service_id=service.id, **row))
    if spec["kind"] == "meeting":
        session.add(
            Meeting(
                service_id=service.id,
                slug=f"meeting-{n}-{uuid.uuid4().hex[:6]}",
                fellowship=spec["fellowship"] or "aa",
                types=list(spec["types"]),
                attendance_mode=spec["attendance"],
                conference_url=spec["conference_url"],
            )
        )
    session.add_all([Language(service_id=service.id, code=c) for c in spec["languages"]])
    session.add_all([CostOption(service_id=service.id, kind=k) for k in spec["costs"]])
    session.add_all(
        [
            Attribute(link_id=service.id, taxonomy_term_id=term_id(c), link_entity="service", link_type="category")
            for c in spec["categories"]
        ]
    )
    session.commit()
    return service


def _add_place(session: Session, org: Organization, service: Service, p: dict[str, Any]) -> None:
    loc = Location(
        organization_id=org.id,
        name=p["name"],
        latitude=p["lat"],
        longitude=p["lng"],
        timezone=p["timezone"],
        is_confidential=p["confidential"],
        coordinates_approximate=p["confidential"],
    )
    session.add(loc)
    session.flush()
    session.add(
        Address(
            location_id=loc.id,
            address_1="" if p["confidential"] else p["street"],
            city=p["city"],
            state_province=p["state"],
            postal_code=p["postal_code"],
        )
    )
    if p["confidential"]:
        lat, lng = p["secret_point"] or (None, None)
        session.add(
            ConfidentialAddress(location_id=loc.id, address_1=p["secret_street"] or "", latitude=lat, longitude=lng)
        )
    session.add_all([Accessibility(location_id=loc.id, code=code) for code in p["accessibility"]])
    session.add(ServiceAtLocation(service_id=service.id, location_id=loc.id))


@pytest.fixture
def taxonomy(session: Session) -> None:
    ensure_taxonomy(session=session)


@pytest.fixture
def search_index(meili_client: meilisearch.Client, index_prefix: str) -> Iterator[str]:
    """An empty listings index with the real settings; deleted afterwards."""
    uid = index_name(index_prefix)
    apply_settings(meili_client, uid)
    yield uid
    meili_client.delete_index(uid)


def push(client: meilisearch.Client, uid: str, session: Session, services: Sequence[Service]) -> list[dict[str, Any]]:
    """Index these services' documents and wait until Meilisearch has them."""
    docs, _ = documents_for(session, [s.id for s in services])
    if docs:
        wait_for_success(client, client.index(uid).add_documents(docs, primary_key=PRIMARY_KEY).task_uid)
    return docs


@pytest.fixture
def api(settings: Settings, engine: Engine, meili_server: MeiliServer, search_index: str) -> Iterator[TestClient]:
    """The real app (its index is `search_index`), searched through HTTP."""
    assert search_index == index_name(settings.meili_index_prefix)
    with TestClient(create_app(settings, engine=engine, meili=meili_server)) as client:
        yield client


def zones_in(session: Session) -> list[str]:
    return sorted({z for z in session.exec(select(Schedule.timezone).distinct()) if z})


def run_search(client: meilisearch.Client, uid: str, session: Session, *, now: Any = None, **raw: Any) -> SearchResult:
    """parse_params + search, with the time zones currently in the database (`at` is the raw string)."""
    for key in ("category", "fellowship", "type", "language", "accessibility", "cost", "day"):
        if isinstance(raw.get(key), str):
            raw[key] = [raw[key]]
    params = parse_params(raw)
    return search(
        client=client,
        index_uid=uid,
        params=params,
        timezones=zones_in(session),
        now=now or datetime(2026, 3, 9, 17, 0, tzinfo=UTC),
    )


def all_services(session: Session) -> list[Service]:
    return list(session.exec(select(Service)))


def names(hits: Sequence[dict[str, Any]]) -> list[str]:
    return [h["name"] for h in hits]
