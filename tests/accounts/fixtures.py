"""Builders and fixtures for account, workspace and moderation tests (import the fixtures you use).

`web` is the app behind Starlette's test client, on the test database, without its lifespan (no
Meilisearch, no workers). `smtp` is a real SMTP server (aiosmtpd) on a free loopback port.
"""

import re
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, time
from email import message_from_bytes, policy
from email.message import EmailMessage
from functools import lru_cache
from html.parser import HTMLParser
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from accounts.models import Membership, OrgRole, User
from accounts.passwords import hash_password
from accounts.sessions import SESSION_COOKIE, start_session
from core.app import create_app
from core.settings import Settings
from directory.models import Location, Organization, Schedule, Service, ServiceAtLocation
from directory.schemas import AddressIn, ListingIn, LocationIn, MeetingIn, OrganizationIn, ScheduleIn
from directory.service import ensure_taxonomy, upsert_listing

PASSWORD = "correct horse battery staple"


# --- builders ----------------------------------------------------------------------------------------


def make_listing(session: Session, org_key: str = "north-pantry", key: str | None = None, **overrides: Any) -> Service:
    """A listing written the way every other writer writes it (`upsert_listing`). Returns the service row."""
    ensure_taxonomy(session=session)
    key = key or f"{org_key}-{uuid.uuid4().hex[:6]}"
    data: dict[str, Any] = {
        "key": key,
        "organization": OrganizationIn(
            key=org_key,
            name=overrides.pop("org_name", org_key.replace("-", " ").title()),
            description="A neighborhood organization.",
        ),
        "name": overrides.pop("name", "Weekday Food Pantry"),
        "description": "Groceries to take home.",
        "timezone": "America/Chicago",
        "categories": ["food-pantry"],
        "locations": [
            LocationIn(
                key=f"{key}-place",
                name="Main hall",
                latitude=41.9,
                longitude=-87.65,
                address=AddressIn(address_1="100 N State St", city="Chicago", state_province="IL", postal_code="60602"),
            )
        ],
        "schedules": [ScheduleIn(byday=["MO", "WE"], opens_at=time(9), closes_at=time(12))],
        "assured_date": date.today(),
    }
    data.update(overrides)
    service_id = upsert_listing(session=session, listing=ListingIn(**data))
    row = session.get(Service, service_id)
    assert row is not None
    return row


def make_meeting(session: Session, org_key: str = "lakeshore-aa", **overrides: Any) -> Service:
    return make_listing(
        session,
        org_key,
        name=overrides.pop("name", "Tuesday Night Serenity Group"),
        kind="meeting",
        categories=["aa"],
        meeting=MeetingIn(fellowship="aa", types=["O", "D"]),
        **overrides,
    )


@lru_cache(maxsize=8)
def _hashed(password: str) -> str:
    return hash_password(password)  # argon2id is deliberately slow; tests reuse one hash per password


def make_user(session: Session, email: str, *, network_admin: bool = False, password: str = PASSWORD) -> User:
    user = User(
        email=email, display_name=email.split("@")[0], password_hash=_hashed(password), is_network_admin=network_admin
    )
    session.add(user)
    session.commit()
    return user


def add_member(
    session: Session, user: User, organization_id: uuid.UUID, role: str = OrgRole.editor, trusted: bool = False
) -> Membership:
    row = Membership(user_id=user.id, organization_id=organization_id, role=role, trusted=trusted)
    session.add(row)
    session.commit()
    return row


# --- HTTP helpers ------------------------------------------------------------------------------------


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""

    @property
    def classes(self) -> list[str]:
        return self.attrs.get("class", "").split()


class _Collector(HTMLParser):
    VOID = frozenset({"input", "meta", "link", "br", "img", "hr", "source"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self._open: list[Element] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.elements.append(element)
        if tag not in self.VOID:
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i].tag == tag:
                del self._open[i:]
                break

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element.text += data


def elements(response: Any, tag: str | None = None, **attrs: str | bool) -> list[Element]:
    """Elements of an HTML response by tag and attributes (True = present; `class_` matches one class)."""
    collector = _Collector()
    collector.feed(response.text)
    found = []
    for el in collector.elements:
        if tag and el.tag != tag:
            continue
        ok = True
        for key, wanted in attrs.items():
            name = key.rstrip("_").replace("_", "-")
            actual = el.attrs.get(name)
            if name == "class" and isinstance(wanted, str):
                ok = ok and wanted in el.classes
            elif wanted is True:
                ok = ok and actual is not None
            else:
                ok = ok and actual == wanted
        if ok:
            found.append(el)
    return found


def hidden(response: Any, name: str) -> str:
    found = elements(response, "input", name=name)
    assert found, f"no {name} field in the page"
    return found[0].attrs.get("value", "")


def field_errors(response: Any) -> dict[str, str]:
    return {
        el.attrs["data-field"]: " ".join(el.text.split())
        for el in elements(response, class_="field-error", data_field=True)
    }


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


# --- fixtures ----------------------------------------------------------------------------------------


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
        return [u for body in self.bodies() for u in re.findall(r"https?://\S+", body) if re.search(pattern, u)]


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
        found += [u for u in re.findall(r"https?://\S+", body) if re.search(pattern, u)]
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
