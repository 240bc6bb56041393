"""Moderators hear of new public suggestions in a digest (through a real SMTP server): the organization's
admins and trusted editors, once per suggestion, with listing names and kinds but never what the reporter
wrote or how to reach them; an organization without moderators falls to the network admins."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from accounts.models import OrgRole
from core.settings import Settings
from directory.listings.models import Service
from directory.stewardship.digest import send_suggestion_digest
from directory.stewardship.models import Suggestion
from tests.factories import add_member, make_listing, make_user
from tests.html import hidden
from tests.support import Mailbox

NOW = datetime(2026, 6, 10, 15, 0, tzinfo=UTC)
SECRET_TEXT = "I am Quillon from room 12, they turned me away"
SECRET_CONTACT = "quillon@example.net"


def _report(client: TestClient, service: Service, **data: Any) -> httpx.Response:
    form = client.get(f"/services/{service.id}/suggest")
    response = client.post(
        f"/services/{service.id}/suggest",
        data={"form_token": hidden(form, "form_token"), **data},
        follow_redirects=False,
    )
    assert response.status_code == 303
    return response


def _member(session: Session, service: Service, email: str, role: str, trusted: bool = False) -> None:
    add_member(session, make_user(session, email), service.organization_id, role, trusted=trusted)


def test_moderators_get_one_digest_per_new_suggestion_without_personal_details(
    web: TestClient, session: Session, smtp_settings: Settings, smtp: Mailbox
) -> None:
    pantry = make_listing(session, "digest-org", name="Maple Street Pantry")
    _member(session, pantry, "admin@digest.example.org", OrgRole.admin)
    _member(session, pantry, "trusted@digest.example.org", OrgRole.editor, trusted=True)
    _member(session, pantry, "new@digest.example.org", OrgRole.editor)  # not yet trusted: may not decide
    orphan = make_listing(session, f"orphan-{uuid.uuid4().hex[:4]}", name="Lonely Clinic")
    make_user(session, "netadmin@example.org", network_admin=True)

    _report(web, pantry, kind="closed", text=SECRET_TEXT, contact=SECRET_CONTACT)
    _report(web, pantry, kind="wrong_hours", text="Opens at 10 now", timezone="America/Chicago")
    _report(web, orphan, kind="moved", text="Moved across the street")
    assert send_suggestion_digest(session=session, settings=smtp_settings, now=NOW) == 3

    by_address = dict(zip((m["To"] for m in smtp.messages), smtp.bodies(), strict=True))
    assert sorted(by_address) == ["admin@digest.example.org", "netadmin@example.org", "trusted@digest.example.org"]
    body = by_address["admin@digest.example.org"]
    assert "waiting for a decision: 2" in body and "Maple Street Pantry" in body and "It is closed" in body
    assert "pendientes de decisión: 2" in body and "Está cerrado" in body  # the same mail in Spanish
    assert "Lonely Clinic" not in body and "Lonely Clinic" in by_address["netadmin@example.org"]
    assert smtp.links("/workspace/moderation")
    assert not any(secret in b for b in smtp.bodies() for secret in (SECRET_TEXT, SECRET_CONTACT, "Quillon"))

    assert send_suggestion_digest(session=session, settings=smtp_settings, now=NOW + timedelta(hours=1)) == 0
    _report(web, pantry, kind="other", text="Phone number changed")
    assert send_suggestion_digest(session=session, settings=smtp_settings, now=NOW + timedelta(hours=2)) == 2
    latest = smtp.bodies()[-1]
    assert "waiting for a decision: 1" in latest and "It is closed" not in latest
    assert all(s.notified_at is not None for s in session.exec(select(Suggestion)).all())
