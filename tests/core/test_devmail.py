"""The development mailbox shows the mail written to DATA_DIR/mail, and only when no SMTP server is set."""

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.app import create_app
from core.settings import Settings
from tests.factories import make_user
from tests.html import elements, hidden


def test_the_dev_mailbox_shows_mail_only_without_smtp(
    web: TestClient, session: Session, engine: Engine, settings: Settings
) -> None:
    make_user(session, "ana@example.org")
    form = web.get("/password/forgot")
    web.post("/password/forgot", data={"email": "ana@example.org", "form_token": hidden(form, "form_token")})
    box = web.get("/dev/mail")
    assert box.status_code == 200 and "Reset your password" in box.text
    (link,) = [e.attrs["href"] for e in elements(box, "a") if e.attrs.get("href", "").startswith("/dev/mail/")]
    assert "/password/reset/" in web.get(link).text
    assert web.get("/dev/mail/..%2f..%2fsecret_key").status_code == 404
    for update in ({"smtp_host": "127.0.0.1"}, {"dev_mail_page": False}):
        closed = TestClient(create_app(settings.model_copy(update=update), engine=engine))
        assert closed.get("/dev/mail").status_code == 404 and closed.get(link).status_code == 404
