"""Sign-in limits by account and by (account, address), so one office behind NAT is not locked out together;
forwarded client addresses believed only from configured proxies."""

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from accounts import throttle
from accounts.service import login_keys
from core.app import create_app
from core.cli import uvicorn_options
from core.clock import utcnow
from core.secrets import secret_key
from core.settings import Settings
from core.web import client_ip
from search.embedded import MeiliServer
from tests.factories import PASSWORD, make_user
from tests.html import hidden
from tests.support import folder_messages

OFFICE = "203.0.113.7"  # one NAT address shared by a whole clinic
HOME = "198.51.100.20"


def _from(app: FastAPI, address: str) -> TestClient:
    return TestClient(app, base_url="http://testserver", client=(address, 50000))


def _login(client: TestClient | httpx.Client, email: str, password: str, **headers: str) -> int:
    token = hidden(client.get("/login", headers=headers), "form_token")
    answer = client.post(
        "/login",
        data={"email": email, "password": password, "form_token": token},
        headers=headers,
        follow_redirects=False,
    )
    return answer.status_code


def test_five_wrong_passwords_lock_that_account_from_that_address_only(
    engine: Engine, settings: Settings, session: Session
) -> None:
    for name in ("ana", "bob"):
        make_user(session, f"{name}@example.org")
    app = create_app(settings, engine=engine)
    for _ in range(5):
        assert _login(_from(app, OFFICE), "ana@example.org", "a wrong guess") == 422
    assert _login(_from(app, OFFICE), "ana@example.org", PASSWORD) == 429
    assert _login(_from(app, OFFICE), "bob@example.org", PASSWORD) == 303  # a colleague behind the same NAT
    assert _login(_from(app, HOME), "ana@example.org", PASSWORD) == 303  # the same account from elsewhere


def test_failures_for_many_accounts_from_one_address_do_not_lock_the_others(
    engine: Engine, settings: Settings, session: Session
) -> None:
    make_user(session, "ana@example.org")
    app = create_app(settings, engine=engine)
    for i in range(8):  # a busy morning of typos at the clinic
        assert _login(_from(app, OFFICE), f"colleague{i}@example.org", "a wrong guess") == 422
    assert _login(_from(app, OFFICE), "ana@example.org", PASSWORD) == 303


def test_guessing_one_account_from_many_addresses_is_still_stopped(
    engine: Engine, settings: Settings, session: Session
) -> None:
    make_user(session, "ana@example.org")
    secret = secret_key(settings)
    for i in range(throttle.LOGIN_PER_ACCOUNT.events - 1):  # what a guesser with many addresses leaves behind
        keys = login_keys(secret=secret, email="ana@example.org", client_ip=f"192.0.2.{i + 1}")
        throttle.record_rules(session=session, rules=keys.rules, now=utcnow())
    session.commit()
    app = create_app(settings, engine=engine)
    assert _login(_from(app, "192.0.2.250"), "ana@example.org", "a wrong guess") == 422
    assert _login(_from(app, HOME), "ana@example.org", PASSWORD) == 429


def test_one_address_spraying_passwords_over_many_accounts_hits_a_ceiling(
    engine: Engine, settings: Settings, session: Session
) -> None:
    make_user(session, "ana@example.org")
    secret = secret_key(settings)
    for i in range(throttle.LOGIN_PER_ADDRESS.events):  # what a sprayer's failures leave behind
        keys = login_keys(secret=secret, email=f"user{i}@example.org", client_ip=OFFICE)
        throttle.record_rules(session=session, rules=keys.rules, now=utcnow())
    session.commit()
    app = create_app(settings, engine=engine)
    assert _login(_from(app, OFFICE), "ana@example.org", PASSWORD) == 429
    assert _login(_from(app, HOME), "ana@example.org", PASSWORD) == 303


def test_colleagues_behind_one_address_can_all_ask_for_a_password_reset(
    engine: Engine, settings: Settings, session: Session
) -> None:
    names = [f"staff{i}@example.org" for i in range(5)]
    for name in names:
        make_user(session, name)
    client = _from(create_app(settings, engine=engine), OFFICE)
    for name in names:
        form = client.get("/password/forgot")
        client.post("/password/forgot", data={"email": name, "form_token": hidden(form, "form_token")})
    assert sorted(str(m["To"]) for m in folder_messages(settings)) == names


# --- forwarded headers, through uvicorn configured the way `python -m core serve` configures it ------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _served(app: FastAPI, settings: Settings) -> Iterator[str]:
    server = uvicorn.Server(uvicorn.Config(app, **uvicorn_options(settings)))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(300):
            if server.started:
                break
            thread.join(0.05)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{settings.port}"
    finally:
        server.should_exit = True
        thread.join(30)


def _app_with_probe(settings: Settings, engine: Engine, meili: MeiliServer) -> FastAPI:
    """The real app plus one route answering the client address the sign-in limits would count."""
    app = create_app(settings, engine=engine, meili=meili)

    def probe(request: Request) -> str:
        return client_ip(request)

    app.add_api_route("/test-probe/client", probe)
    return app


def _spoofed(index: int) -> dict[str, str]:
    return {"X-Forwarded-For": f"198.51.100.{index}", "Forwarded": f"for=198.51.100.{index}"}


def test_forwarded_addresses_are_ignored_unless_a_proxy_is_configured(
    engine: Engine, settings: Settings, session: Session, meili_server: MeiliServer
) -> None:
    make_user(session, "ana@example.org")
    direct = settings.model_copy(update={"port": _free_port(), "forwarded_allow_ips": ""})
    app = _app_with_probe(direct, engine, meili_server)
    with _served(app, direct) as url, httpx.Client(base_url=url) as c:
        assert c.get("/test-probe/client", headers=_spoofed(1)).json() == "127.0.0.1"
        for i in range(5):  # every failure claims another client address
            assert _login(c, "ana@example.org", "a wrong guess", **_spoofed(i)) == 422
        assert _login(c, "ana@example.org", PASSWORD, **_spoofed(99)) == 429  # all counted as 127.0.0.1


def test_a_configured_proxy_passes_on_the_client_address(
    engine: Engine, settings: Settings, session: Session, meili_server: MeiliServer
) -> None:
    make_user(session, "ana@example.org")
    proxied = settings.model_copy(update={"port": _free_port(), "forwarded_allow_ips": "127.0.0.1"})
    app = _app_with_probe(proxied, engine, meili_server)
    with _served(app, proxied) as url, httpx.Client(base_url=url) as c:
        assert c.get("/test-probe/client", headers={"X-Forwarded-For": OFFICE}).json() == OFFICE
        for _ in range(5):
            assert _login(c, "ana@example.org", "a wrong guess", **{"X-Forwarded-For": OFFICE}) == 422
        assert _login(c, "ana@example.org", PASSWORD, **{"X-Forwarded-For": OFFICE}) == 429
        assert _login(c, "ana@example.org", PASSWORD, **{"X-Forwarded-For": HOME}) == 303
