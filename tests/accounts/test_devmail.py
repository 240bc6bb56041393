"""The development mailbox holds sign-in links: only a signed-in network admin may read it, only when the
operator turned it on, and never while real mail is sent."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.app import create_app
from core.settings import Settings
from search.embedded import MeiliServer
from tests.factories import make_user
from tests.html import elements, hidden
from tests.support import signed_in_as


def _app(engine: Engine, settings: Settings, **update: object) -> TestClient:
    return TestClient(create_app(settings.model_copy(update=update), engine=engine), base_url="http://testserver")


def _reset_mail_for(client: TestClient, email: str) -> None:
    form = client.get("/password/forgot")
    client.post("/password/forgot", data={"email": email, "form_token": hidden(form, "form_token")})


def _message_path(settings: Settings) -> str:
    (mail,) = sorted((settings.data_dir / "mail").glob("*.eml"))
    return f"/dev/mail/{Path(mail).name}"


def test_only_a_signed_in_network_admin_can_open_the_mailbox(
    engine: Engine, session: Session, settings: Settings
) -> None:
    make_user(session, "root@example.org", network_admin=True)
    make_user(session, "editor@example.org")
    make_user(session, "victim@example.org")
    stranger = _app(engine, settings, dev_mail_page=True)
    _reset_mail_for(stranger, "victim@example.org")  # the takeover the audit found, step one
    message = _message_path(settings)
    for path in ("/dev/mail", message):
        answer = stranger.get(path)
        assert answer.status_code == 404 and "/password/reset/" not in answer.text
    editor = _app(engine, settings, dev_mail_page=True)
    signed_in_as(editor, session, "editor@example.org")
    assert editor.get("/dev/mail").status_code == 404 and editor.get(message).status_code == 404
    admin = _app(engine, settings, dev_mail_page=True)
    signed_in_as(admin, session, "root@example.org")
    box = admin.get("/dev/mail")
    assert box.status_code == 200 and "Reset your password" in box.text
    (link,) = [e.attrs["href"] for e in elements(box, "a") if e.attrs.get("href", "").startswith("/dev/mail/")]
    assert link == message and "/password/reset/" in admin.get(link).text
    assert admin.get("/dev/mail/..%2f..%2fsecret_key").status_code == 404


@pytest.mark.parametrize(
    "update", [{}, {"smtp_host": "127.0.0.1", "dev_mail_page": True}], ids=["not-turned-on", "smtp-configured"]
)
def test_the_mailbox_is_off_by_default_and_whenever_smtp_is_set(
    engine: Engine, session: Session, settings: Settings, update: dict[str, object]
) -> None:
    assert Settings.model_fields["dev_mail_page"].default is False
    make_user(session, "root@example.org", network_admin=True)
    admin = _app(engine, settings, **update)
    signed_in_as(admin, session, "root@example.org")
    assert admin.get("/dev/mail").status_code == 404


def test_start_up_says_plainly_that_the_mailbox_is_on(
    engine: Engine, settings: Settings, meili_server: MeiliServer, capsys: pytest.CaptureFixture[str]
) -> None:
    on = settings.model_copy(update={"dev_mail_page": True})
    with TestClient(create_app(on, engine=engine, meili=meili_server)):
        pass
    said = capsys.readouterr().err
    assert f"{on.base_url}/dev/mail" in said and "network admins only" in said and "mail is not sent" in said
    with TestClient(create_app(settings, engine=engine, meili=meili_server)):
        pass
    assert "/dev/mail" not in capsys.readouterr().err
