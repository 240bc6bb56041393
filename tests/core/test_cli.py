"""The command line's account and address settings: `create-admin` ends cleanly, and BASE_URL follows
HOST/PORT (so e-mail links point to the port actually served) unless it is set."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from accounts.models import User
from accounts.passwords import verify_password
from core.app import create_app
from core.cli import app as cli
from core.cli import served_settings
from core.settings import Settings, get_settings
from tests.factories import make_user
from tests.html import hidden
from tests.support import folder_links


@pytest.fixture
def environment(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """The CLI reads its settings from the environment, like `python -m core` does."""
    for name in ("BASE_URL", "HOST", "PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("DATABASE_URL", settings.effective_database_url)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_create_admin_prints_one_line_and_exits_cleanly(
    engine: Engine, session: Session, environment: pytest.MonkeyPatch
) -> None:
    result = CliRunner().invoke(cli, ["create-admin", "--email", "Root@Example.org", "--password", "a long passphrase"])
    assert result.exit_code == 0, repr(result.exception)
    assert result.output == "network admin root@example.org created\n"
    user = session.exec(select(User).where(User.email == "root@example.org")).one()
    assert user.is_network_admin and verify_password(user.password_hash, "a long passphrase")
    again = CliRunner().invoke(cli, ["create-admin", "--email", "root@example.org", "--password", "a long passphrase"])
    assert again.exit_code == 1 and "already exists" in again.output and "Traceback" not in again.output


def test_base_url_follows_host_and_port_unless_set(environment: pytest.MonkeyPatch) -> None:
    assert Settings(port=8123).base_url == "http://127.0.0.1:8123"
    assert Settings(host="0.0.0.0", port=8123).base_url == "http://127.0.0.1:8123"
    assert Settings(host="::1", port=8123).base_url == "http://[::1]:8123"
    assert served_settings(None, 8124).base_url == "http://127.0.0.1:8124"  # `serve --port 8124`
    environment.setenv("PORT", "8125")
    assert served_settings(None, None).base_url == "http://127.0.0.1:8125"
    environment.setenv("BASE_URL", "https://directory.example.org")
    get_settings.cache_clear()
    assert served_settings(None, 8124).base_url == "https://directory.example.org"
    assert served_settings(None, None).base_url == "https://directory.example.org"


def test_e_mail_links_point_to_the_served_port(engine: Engine, session: Session, settings: Settings) -> None:
    on_8123 = Settings(**{**settings.model_dump(exclude={"base_url"}), "port": 8123})
    make_user(session, "ana@example.org")
    client = TestClient(create_app(on_8123, engine=engine), base_url="http://testserver")
    form = client.get("/password/forgot")
    client.post("/password/forgot", data={"email": "ana@example.org", "form_token": hidden(form, "form_token")})
    (link,) = folder_links(on_8123, "/password/reset/")
    assert link.startswith("http://127.0.0.1:8123/password/reset/")
