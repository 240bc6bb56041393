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
from directory.models import (
    Address,
    ConfidentialAddress,
    Location,
    Meeting,
    Organization,
    Schedule,
    Service,
    ServiceAtLocation,
)
from directory.models_details import Accessibility, Attribute, CostOption, Language
from directory.service import ensure_taxonomy
from directory.taxonomy_tree import term_id
from search.documents import documents_for
from search.embedded import MeiliServer
from search.filters import parse_params
from search.index_spec import (
    INDEX_SETTINGS,
    PRIMARY_KEY,
    index_name,
    settings_without_geo,
    wait_for_success,
)
from search.layout import LAYOUT_SETTINGS, Indexes, SearchTarget, layout_document, layout_name, shard_name
from search.query import SearchResult, search
from search.shards import ShardMap, partition
from search.sync import push_services

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


def chicago_map(prefix: str) -> ShardMap:
    """Two regional shards split at latitude 41.9, between the Loop and Lincoln Park, so most place
    searches of these tests touch both shards and their results are merged."""
    return partition(
        [41.89, 41.90],
        [CHICAGO[1], CHICAGO[1]],
        max_documents=1,
        groups=1,
        uid=lambda n: shard_name(prefix, "test", n),
        generation="test",
    )


def install_layout(indexes: Indexes, shard_map: ShardMap) -> None:
    """Empty live indexes (flat, shards, layout) for this map, as a reindex of an empty directory leaves them."""
    client = indexes.home
    wanted = [(client, indexes.flat, settings_without_geo() if shard_map.sharded else INDEX_SETTINGS)]
    wanted += [(indexes.server(shard.group), shard.uid, INDEX_SETTINGS) for shard in shard_map.shards]
    wanted.append((client, indexes.layout, LAYOUT_SETTINGS))
    tasks = []  # all sent first, then awaited: one wait instead of one per index
    for server, uid, settings in wanted:
        tasks.append((server, server.create_index(uid, {"primaryKey": PRIMARY_KEY}).task_uid))
        tasks.append((server, server.index(uid).update_settings(settings).task_uid))
    tasks.append(
        (client, client.index(indexes.layout).add_documents([layout_document(shard_map)], PRIMARY_KEY).task_uid)
    )
    for server, task_uid in tasks:
        wait_for_success(server, task_uid)


def drop_layout(client: meilisearch.Client, prefix: str) -> None:
    """Delete every index of this prefix (flat, layout, shards of any generation)."""
    for index in client.get_indexes({"limit": 1000})["results"]:
        if index.uid.startswith(f"{prefix}_"):
            client.delete_index(index.uid)


def prefix_of(uid: str) -> str:
    return uid.removesuffix("_listings")


@pytest.fixture
def search_indexes(meili_client: meilisearch.Client, index_prefix: str) -> Iterator[Indexes]:
    """The writers' view of this test's indexes (one server); every index of the prefix is deleted afterwards."""
    yield Indexes(prefix=index_prefix, home=meili_client)
    drop_layout(meili_client, index_prefix)


@pytest.fixture
def search_index(search_indexes: Indexes) -> str:
    """Empty live indexes with the real settings and four shards meeting in Chicago; the flat index's uid."""
    install_layout(search_indexes, chicago_map(search_indexes.prefix))
    return search_indexes.flat


def push(client: meilisearch.Client, uid: str, session: Session, services: Sequence[Service]) -> list[dict[str, Any]]:
    """Index these services' documents (flat index and shards, through the sync path) and wait until done."""
    indexes = Indexes(prefix=prefix_of(uid), home=client)
    push_services(session=session, indexes=indexes, service_ids=[s.id for s in services])
    return documents_for(session, [s.id for s in services])[0]


@pytest.fixture
def api(settings: Settings, engine: Engine, meili_server: MeiliServer, search_index: str) -> Iterator[TestClient]:
    """The real app (its index is `search_index`), searched through HTTP."""
    assert search_index == index_name(settings.meili_index_prefix)
    assert layout_name(settings.meili_index_prefix) == f"{prefix_of(search_index)}_layout"
    with TestClient(create_app(settings, engine=engine, meili=meili_server)) as client:
        yield client


def zones_in(session: Session) -> list[str]:
    return sorted({z for z in session.exec(select(Schedule.timezone).distinct()) if z})


def run_search(
    client: meilisearch.Client,
    uid: str,
    session: Session,
    *,
    now: Any = None,
    target: Any = None,
    **raw: Any,
) -> SearchResult:
    """parse_params + search, with the time zones currently in the database (`at` is the raw string)."""
    for key in ("category", "fellowship", "type", "language", "accessibility", "cost", "day"):
        if isinstance(raw.get(key), str):
            raw[key] = [raw[key]]
    params = parse_params(raw)
    return search(
        target=target or SearchTarget(prefix=prefix_of(uid), home=client),
        params=params,
        timezones=zones_in(session),
        now=now or datetime(2026, 3, 9, 17, 0, tzinfo=UTC),
    )


def all_services(session: Session) -> list[Service]:
    return list(session.exec(select(Service)))


def names(hits: Sequence[dict[str, Any]]) -> list[str]:
    return [h["name"] for h in hits]
