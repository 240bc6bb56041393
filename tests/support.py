"""Fixtures and helpers shared by the tests of every package (registered for all tests by tests/conftest.py).

- `web`: the app behind Starlette's test client on the test database, without its lifespan (no
  Meilisearch, no workers); `sign_in` / `signed_in_as` give it a session.
- `smtp` / `smtp_settings`: a real SMTP server (aiosmtpd) on a free loopback port.
- `directory`, `web_app`, `client`: the app wired to a real database and a real Meilisearch index holding
  a small, known directory around downtown Chicago (plus one listing in Brooklyn, outside any Chicago
  radius); `taxonomy`, `search_index` (live indexes split into two shards at latitude 41.9) and `push`
  are its parts; `search_indexes`, `install_layout` and `drop_layout` give tests the sharded layout.
"""

import re
import socket
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import meilisearch
import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from accounts.models import User
from accounts.sessions import SESSION_COOKIE, start_session
from core.app import create_app
from core.settings import Settings
from directory.listings.models import Location, Organization, Phone, Schedule, Service, ServiceAtLocation
from directory.listings.service import ensure_taxonomy
from search.documents import documents_for
from search.embedded import MeiliServer
from search.index_spec import INDEX_SETTINGS, PRIMARY_KEY, settings_without_geo, wait_for_success
from search.layout import LAYOUT_SETTINGS, Indexes, layout_document, shard_name
from search.shards import ShardMap, partition
from search.sync import push_services
from tests.factories import CHICAGO, PASSWORD, insert_listing, place, weekly
from tests.html import hidden

# --- the app and signing in ----------------------------------------------------------------------------


@pytest.fixture
def web(engine: Engine, settings: Settings) -> TestClient:
    """No `with`: the lifespan (Meilisearch, workers) is not needed by these pages."""
    return TestClient(create_app(settings, engine=engine), base_url="http://testserver")


@dataclass
class Mailbox:
    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def bodies(self) -> list[str]:
        return [m.get_body(preferencelist=("plain",)).get_content() for m in self.messages]  # type: ignore[union-attr]

    def links(self, pattern: str) -> list[str]:
        # Once per mail: a mail gives its link in English and again in Spanish.
        found = [dict.fromkeys(re.findall(r"https?://\S+", body)) for body in self.bodies()]
        return [u for links in found for u in links if re.search(pattern, u)]


def folder_messages(settings: Settings) -> list[EmailMessage]:
    """The mail written to DATA_DIR/mail (no SMTP configured), oldest first: how tests read mail without
    the /dev/mail page, which only a signed-in network admin may open."""
    found = []
    for path in sorted((settings.data_dir / "mail").glob("*.eml"), key=lambda p: (p.stat().st_mtime_ns, p.name)):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(message, EmailMessage)
        found.append(message)
    return found


def folder_links(settings: Settings, pattern: str) -> list[str]:
    """Links matching `pattern` in the mail written to DATA_DIR/mail, oldest first."""
    found = []
    for message in folder_messages(settings):
        body = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        found += [u for u in dict.fromkeys(re.findall(r"https?://\S+", body)) if re.search(pattern, u)]  # once per mail
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[Mailbox]:
    box = Mailbox("127.0.0.1", _free_port())
    controller = Controller(box, hostname=box.host, port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture
def smtp_settings(settings: Settings, smtp: Mailbox) -> Settings:
    return settings.model_copy(update={"smtp_host": smtp.host, "smtp_port": smtp.port, "smtp_starttls": False})


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Sign in through the real form; returns the session's CSRF token."""
    form_token = hidden(client.get("/login"), "form_token")
    response = client.post(
        "/login", data={"email": email, "password": password, "form_token": form_token}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    return hidden(client.get("/account"), "csrf_token")


def signed_in_as(client: TestClient, session: Session, email: str) -> str:
    """A session for `email` without the sign-in form (no argon2 round); returns its CSRF token.
    For tests about access rules; the sign-in form itself is tested with `sign_in`."""
    user = session.exec(select(User).where(User.email == email)).one()
    raw, row = start_session(session=session, user_id=user.id)
    client.cookies.set(SESSION_COOKIE, raw)
    return row.csrf_token


def table_counts(engine: Engine) -> dict[str, int]:
    """Row counts of every table: the "nothing changed" check."""
    with Session(engine) as session:
        return {
            name: session.exec(select(func.count()).select_from(table)).one()
            for name, table in SQLModel.metadata.tables.items()
        }


def snapshot_rows(engine: Engine, *models: type[SQLModel]) -> dict[str, list[dict[str, Any]]]:
    """Every row of the given tables, as dicts (for "no value changed" checks)."""
    with Session(engine) as session:
        return {
            m.__name__: sorted(
                (r.model_dump(mode="json") for r in session.exec(select(m)).all()), key=lambda d: str(sorted(d.items()))
            )
            for m in models
        }


LISTING_MODELS = (Organization, Service, Location, Schedule, ServiceAtLocation)


# --- the known directory behind the search pages -----------------------------------------------------


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
    """Empty live indexes with the real settings and shards meeting in Chicago; the flat index's uid."""
    install_layout(search_indexes, chicago_map(search_indexes.prefix))
    return search_indexes.flat


def push(client: meilisearch.Client, uid: str, session: Session, services: Sequence[Service]) -> list[dict[str, Any]]:
    """Index these services' documents (flat index and shards, through the sync path) and wait until done."""
    indexes = Indexes(prefix=prefix_of(uid), home=client)
    push_services(session=session, indexes=indexes, service_ids=[s.id for s in services])
    return documents_for(session, [s.id for s in services])[0]


# A Monday in summer (CDT, UTC-5): 11:40 in Chicago, 20 minutes before the Loop Noon Group.
MONDAY_1140_CHICAGO = "2026-06-01T11:40:00-05:00"


@dataclass
class Directory:
    loop_aa: Service
    esperanza: Service
    pantry: Service
    online: Service
    shelter: Service
    rides: Service
    brooklyn: Service

    @property
    def all(self) -> list[Service]:
        return [self.loop_aa, self.esperanza, self.pantry, self.online, self.shelter, self.rides, self.brooklyn]


def build_directory(session: Session) -> Directory:
    loop_aa = insert_listing(
        session,
        name="Loop Noon Group",
        kind="meeting",
        organization="Loop Alano Club",
        categories=["aa"],
        fellowship="aa",
        types=["O", "D", "X"],
        description="A friendly open discussion meeting at lunchtime.",
        places=[place(street="100 W Randolph St", accessibility=["wheelchair"])],
        schedules=[weekly("MO,TU,WE,TH,FR", "12:00", "13:00"), weekly("1SA", "10:00", "11:30", freq="MONTHLY")],
    )
    esperanza = insert_listing(
        session,
        name="Grupo Esperanza",
        kind="meeting",
        organization="Distrito NA Pilsen",
        categories=["na"],
        fellowship="na",
        types=["C", "S"],
        languages=["es"],
        costs=["free"],
        places=[
            place(41.8569, -87.6597, street="1800 S Blue Island Ave", postal_code="60608", name="Iglesia San Pablo")
        ],
        schedules=[weekly("TU,TH", "19:00", "20:30")],
    )
    pantry = insert_listing(
        session,
        name="Northside Food Pantry",
        organization="Northside Neighbors",
        categories=["food-pantry"],
        languages=["en", "es"],
        costs=["free"],
        capacity="waitlist",
        assured_date=date(2024, 1, 1),
        places=[place(41.9717, -87.6590, street="4600 N Broadway", postal_code="60640", name="Parish Hall")],
        schedules=[weekly("MO,WE,FR", "09:00", "17:00")],
    )
    online = insert_listing(
        session,
        name="Daily Online Reflection",
        kind="meeting",
        organization="Online Intergroup",
        categories=["aa"],
        fellowship="aa",
        types=["O", "MED"],
        attendance="online",
        places=[],
        conference_url="https://meet.example.org/reflect",
        timezone="America/New_York",
        schedules=[weekly("SU,MO,TU,WE,TH,FR,SA", "13:00", "14:00")],
    )
    shelter = insert_listing(
        session,
        name="Safe Haven Shelter",
        organization="Safe Haven",
        categories=["emergency-shelter"],
        places=[
            place(
                41.92,
                -87.65,
                confidential=True,
                postal_code="60614",
                secret_street="77 Hidden Lane",
                secret_point=(41.9220, -87.6520),
                name="Safe Haven House",
            )
        ],
    )
    session.add(Phone(service_id=shelter.id, number="312-555-0147"))
    session.commit()
    rides = insert_listing(
        session,
        name="Recovery Rides",
        organization="Chicago Recovery Alliance",
        categories=["rides-to-treatment"],
        costs=["medicaid"],
        places=[place(41.8800, -87.6300, street="20 S Wacker Dr", postal_code="60606", name="Dispatch office")],
        schedules=[weekly("MO,TU,WE,TH,FR", "06:00", "20:00")],
    )
    brooklyn = insert_listing(
        session,
        name="Brooklyn Food Bank",
        organization="Brooklyn Neighbors",
        categories=["food-bank"],
        places=[
            place(
                40.6782,
                -73.9442,
                street="1 Eastern Pkwy",
                city="Brooklyn",
                state="NY",
                postal_code="11216",
                timezone="America/New_York",
            )
        ],
        timezone="America/New_York",
        schedules=[weekly("SA", "10:00", "14:00")],
    )
    return Directory(loop_aa, esperanza, pantry, online, shelter, rides, brooklyn)


@pytest.fixture
def directory(
    session: Session,
    taxonomy: None,
    search_index: str,
    meili_client: meilisearch.Client,
) -> Directory:
    data = build_directory(session)
    push(meili_client, search_index, session, data.all)
    return data


@pytest.fixture
def web_app(settings: Settings, engine: Engine, meili_server: MeiliServer) -> FastAPI:
    return create_app(settings, engine=engine, meili=meili_server)


@pytest.fixture
def client(web_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(web_app) as test_client:
        yield test_client
