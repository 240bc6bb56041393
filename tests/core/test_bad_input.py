"""The bad-input table: every input an outside audit used to get a 500 (or worse, a log full of personal
data) gets a clear 4xx, names the field where there is one, and leaves nothing personal in the log.

Each row is sent by a signed-in peer's browser (session cookie + CSRF token) or an organization member,
carrying the referred person's details, so the log check also proves the `sid` cookie never reaches it.
"""

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import meilisearch
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from accounts.sessions import SESSION_COOKIE
from core.logging import configure_logging, flush_logs
from tests.factories import CONTACT, NEED, PERSON, World
from tests.referrals.conftest import app, people, world  # noqa: F401
from tests.referrals.web import As
from tests.support import push

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

FAR_FUTURE = "9999-12-31T23:59:59-14:00"
YEAR_ONE = "0001-01-01T00:00:00+14:00"
LONG_ZONE = "A" * 300
DEEP_JSON = b"[" * 100_000 + b"]" * 100_000


@dataclass
class Ctx:
    anon: TestClient
    peer: As
    member: As
    world: World

    def peer_json(self, url: str, body: Any = None, *, content: bytes | None = None) -> httpx.Response:
        headers = {"X-CSRF-Token": self.peer.csrf, "content-type": "application/json"}
        if content is not None:
            return self.peer.browser.post(url, content=content, headers=headers)
        return self.peer.browser.post(url, json=body, headers=headers)

    def referral(self, **consent: Any) -> dict[str, Any]:
        return {
            "service_id": str(self.world.service_a.id),
            "person_name": PERSON,
            "contact_channel": "phone",
            "contact_detail": CONTACT,
            "need_text": NEED,
            "consent": {
                "scope": "organization",
                "recipient_organization_id": str(self.world.org_a),
                "fields": ["first_name", "contact", "need"],
                "purpose": "Connect with the pantry",
                "method": "e-signed",
                "expires_at": "2031-01-01T00:00:00Z",
                **consent,
            },
        }

    def referral_form(self, **overrides: str) -> dict[str, str]:
        return {
            "person_name": PERSON,
            "contact_channel": "phone",
            "contact_detail": CONTACT,
            "need_text": NEED,
            "consent_given": "1",
            "consent_fields": "first_name",
            "consent_purpose": "Connect with the pantry",
            "consent_method": "verbal",
            "consent_expires": "2031-01-01",
            **overrides,
        }

    def member_form(self, url: str, data: dict[str, str]) -> httpx.Response:
        return self.member.post_form(url, data)

    @property
    def service(self) -> str:
        return str(self.world.service_a.id)


Case = Callable[[Ctx], httpx.Response]


def _search(path: str, **params: str) -> Case:
    return lambda c: c.peer.browser.get(path, params=params)


CASES: list[tuple[str, Case, int, str | None]] = [
    # (id, request, status, the field the answer names)
    ("search-api-at-far-future", _search("/api/v1/search", at="9999-12-31T23:59:59"), 422, "at"),
    ("search-api-at-year-one", _search("/api/v1/search", at=YEAR_ONE), 422, "at"),
    ("search-page-at-far-future", _search("/search", at="9999-12-31T23:59:59", open_now="1"), 422, None),
    ("search-page-at-year-one", _search("/search", at="0001-01-01T00:00:00"), 422, None),
    ("search-api-tz-300", _search("/api/v1/search", tz=LONG_ZONE), 422, "tz"),
    ("search-page-tz-300", _search("/search", tz=LONG_ZONE, q="food"), 422, None),
    ("search-api-tz-path", _search("/api/v1/search", tz="../../../../etc/passwd"), 422, "tz"),
    ("search-api-lat-nan", _search("/api/v1/search", lat="nan", lng="0"), 422, "lat"),
    ("search-api-lng-infinity", _search("/api/v1/search", lat="41.9", lng="Infinity"), 422, "lng"),
    ("search-api-lat-out-of-range", _search("/api/v1/search", lat="1e400", lng="0"), 422, "lat"),
    ("search-api-near-nan", _search("/api/v1/search", near="NaN,NaN"), 422, "near"),
    ("search-page-lat-nan", _search("/search", lat="nan", lng="nan"), 422, None),
    ("service-page-tz-300", lambda c: c.anon.get(f"/services/{c.service}", params={"tz": LONG_ZONE}), 422, None),
    ("hsds-modified-after-far", _search("/api/hsds/services", modified_after=FAR_FUTURE), 422, "modified_after"),
    (
        "referral-api-consent-far-future",
        lambda c: c.peer_json("/api/v1/referrals", c.referral(expires_at=FAR_FUTURE)),
        422,
        "consent.expires_at",
    ),
    (
        "referral-api-consent-year-one",
        lambda c: c.peer_json("/api/v1/referrals", c.referral(expires_at=YEAR_ONE)),
        422,
        "consent.expires_at",
    ),
    (
        "referral-api-appointment-far-future",
        lambda c: c.peer_json(f"/api/v1/referrals/{uuid.uuid4()}/actions/schedule", {"appointment_at": FAR_FUTURE}),
        422,
        "appointment_at",
    ),
    (
        "referral-form-consent-far-future",
        lambda c: c.peer.post_form(f"/services/{c.service}/refer", c.referral_form(consent_expires="9999-12-31")),
        422,
        None,
    ),
    (
        "referral-form-name-with-line-break",
        lambda c: c.peer.post_form(f"/services/{c.service}/refer", c.referral_form(person_name=f"{PERSON}\r\nX: 1")),
        422,
        None,
    ),
    (
        "workspace-name-with-line-break",
        lambda c: c.member_form(f"/workspace/services/{c.service}/details", {"name": "Pantry\r\nX-Injected: 1"}),
        422,
        None,
    ),
    (
        "workspace-api-name-with-control-character",
        lambda c: c.member.api.post(f"/api/v1/workspace/services/{c.service}/details", json={"name": "Pan\x00try"}),
        422,
        "name",
    ),
    (
        "workspace-api-url-javascript",
        lambda c: c.member.api.post(
            f"/api/v1/workspace/services/{c.service}/details", json={"name": "Pantry", "url": "javascript:alert(1)"}
        ),
        422,
        "url",
    ),
    (
        "workspace-website-data-url",
        lambda c: c.member_form(
            f"/workspace/organizations/{c.world.org_a}", {"name": "Neighbors", "website": "data:text/html,<b>x</b>"}
        ),
        422,
        None,
    ),
    (
        "workspace-reopening-far-future",
        lambda c: c.member_form(
            f"/workspace/services/{c.service}/status",
            {"status": "temporarily closed", "reopening_date": "9999-12-31"},
        ),
        422,
        None,
    ),
    ("utf8-query-string", lambda c: c.peer.browser.get("/api/v1/search?q=%FF%FEabc"), 400, None),
    ("utf8-path", lambda c: c.peer.browser.get("/services/%FF%FE"), 400, None),
    (
        "utf8-form-body",
        lambda c: c.peer.browser.post(
            f"/services/{c.service}/refer",
            content=f"csrf_token={c.peer.csrf}&person_name=%FF%FE&contact_detail={CONTACT}".encode(),
            headers={"content-type": "application/x-www-form-urlencoded"},
        ),
        400,
        None,
    ),
    (
        "utf8-json-body",
        lambda c: c.peer_json("/api/v1/referrals", content=b'{"person_name": "\xff\xfe' + PERSON.encode() + b'"}'),
        400,
        None,
    ),
    ("json-100k-levels-deep", lambda c: c.peer_json("/api/v1/referrals", content=DEEP_JSON), 400, None),
    (
        "form-10-mb",
        lambda c: c.peer.post_form(f"/services/{c.service}/refer", c.referral_form(note="x" * 10_000_000)),
        413,
        None,
    ),
]


@pytest.fixture
def ctx(
    app: FastAPI,  # noqa: F811
    people: dict[str, As],  # noqa: F811
    world: World,  # noqa: F811
    session: Session,
    search_index: str,
    meili_client: meilisearch.Client,
) -> Iterator[Ctx]:
    push(meili_client, search_index, session, [world.service_a, world.service_b])  # a real index to search
    with TestClient(app) as anon:
        yield Ctx(anon=anon, peer=people["peer"], member=people["member"], world=world)


@pytest.fixture
def read_log(ctx: Ctx, capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[[], str]]:
    configure_logging("DEBUG")  # after the app's own set-up, so every line reaches the captured stderr
    capsys.readouterr()

    def read() -> str:
        flush_logs()
        return capsys.readouterr().err

    yield read
    configure_logging("INFO")


@pytest.mark.parametrize(("send", "status", "field"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_a_clear_4xx_and_leaves_nothing_personal_in_the_log(
    ctx: Ctx, read_log: Callable[[], str], send: Case, status: int, field: str | None
) -> None:
    response = send(ctx)
    assert response.status_code == status, response.text[:500]
    assert response.headers.get("X-Request-ID"), "every answer carries its request id"
    if field is not None:
        assert field in response.json()["errors"], response.text
    else:
        assert "Something went wrong" not in response.text
    logged = read_log()
    secrets = {
        "person": PERSON,
        "contact": CONTACT,
        "need": NEED,
        "sid": ctx.peer.browser.cookies[SESSION_COOKIE],
        "csrf": ctx.peer.csrf,
        "member sid": ctx.member.browser.cookies[SESSION_COOKIE],
    }
    leaked = [name for name, value in secrets.items() if value in logged]
    assert not leaked, f"the log holds the {leaked}: {logged[:2000]}"
    assert "Traceback" not in logged and "unhandled error" not in logged, logged[:2000]


def test_healthz_is_fine_after_the_whole_table(ctx: Ctx, read_log: Callable[[], str]) -> None:
    for _, send, status, _field in CASES:
        assert send(ctx).status_code == status
    assert ctx.anon.get("/healthz").json() == {"database": "ok", "search": "ok"}
    assert "unhandled error" not in read_log()
