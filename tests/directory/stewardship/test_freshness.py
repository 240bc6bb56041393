"""Freshness: the stale flag, the monthly reminder e-mail (through a real SMTP server), and the dashboard."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from accounts.models import OrgRole
from core.cli import app as cli
from core.outbox import OutboxEvent
from core.settings import Settings
from directory.listings.freshness import is_stale
from directory.listings.models import Service
from directory.stewardship.freshness import dashboard, send_freshness_reminders
from directory.stewardship.models import FreshnessReminder
from tests.factories import add_member, make_listing, make_user
from tests.html import elements
from tests.support import Mailbox, folder_links, signed_in_as

NOW = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)
TODAY = NOW.date()


def _listing(session: Session, org: str, name: str, verified_days_ago: int | None, **kw: Any) -> Service:
    assured = TODAY - timedelta(days=verified_days_ago) if verified_days_ago is not None else None
    return make_listing(session, org, name=name, assured_date=assured, **kw)


def test_a_listing_is_stale_after_180_days_without_verification(session: Session) -> None:
    fresh = _listing(session, "org-a", "Fresh", 179)
    old = _listing(session, "org-a", "Old", 181)
    never = _listing(session, "org-a", "Never verified", None)
    closed = _listing(session, "org-a", "Closed for good", 400, status="defunct")
    assert not is_stale(fresh, today=TODAY) and is_stale(old, today=TODAY)
    assert not is_stale(closed, today=TODAY)  # gone listings need no reminder
    # Never verified: measured from when it was added (today, in this test).
    assert not is_stale(never, today=date.today()) and is_stale(never, today=date.today() + timedelta(days=181))


def test_editors_see_the_flag_in_their_workspace(web: TestClient, session: Session) -> None:
    old = _listing(session, "org-a", "Old", 365)
    fresh = _listing(session, "org-a", "Fresh", 3)
    add_member(session, make_user(session, "ed@example.org"), old.organization_id, OrgRole.editor, trusted=True)
    signed_in_as(web, session, "ed@example.org")
    page = web.get(f"/workspace/organizations/{old.organization_id}")
    stale_rows = [r.attrs["data-service-id"] for r in elements(page, "tr", class_="stale")]
    assert stale_rows == [str(old.id)] and str(fresh.id) not in stale_rows
    assert elements(web.get(f"/workspace/services/{old.id}"), "p", data_stale=True)
    assert not elements(web.get(f"/workspace/services/{fresh.id}"), "p", data_stale=True)
    assert web.get(f"/api/v1/workspace/services/{old.id}").json()["stale"] is True


def test_reminders_reach_each_editor_once_per_month_through_smtp(
    session: Session, smtp_settings: Settings, smtp: Mailbox
) -> None:
    old_a = _listing(session, "org-a", "Old pantry", 200)
    _listing(session, "org-a", "Fresh pantry", 10)
    old_b = _listing(session, "org-b", "Old shelter", 300)
    _listing(session, "org-c", "Orphan listing", 300)  # no editors: recorded, nobody to mail
    add_member(session, make_user(session, "a1@example.org"), old_a.organization_id, OrgRole.admin)
    add_member(session, make_user(session, "a2@example.org"), old_a.organization_id, OrgRole.editor)
    add_member(session, make_user(session, "b1@example.org"), old_b.organization_id, OrgRole.editor)
    outbox_before = len(session.exec(select(OutboxEvent)).all())

    report = send_freshness_reminders(session=session, settings=smtp_settings, now=NOW)

    assert (report.listings, report.mails) == (3, 3)
    assert sorted(m["To"] for m in smtp.messages) == ["a1@example.org", "a2@example.org", "b1@example.org"]
    body_a = next(b for m, b in zip(smtp.messages, smtp.bodies(), strict=True) if m["To"] == "a1@example.org")
    assert "Old pantry" in body_a and "Fresh pantry" not in body_a and "Old shelter" not in body_a
    assert smtp.links("/workspace")
    rows = session.exec(select(FreshnessReminder)).all()
    assert {r.period for r in rows} == {"2026-06"} and len(rows) == 3
    # Nothing to re-index: documents carry `verified_on`, and search works out "stale" when it answers.
    assert len(session.exec(select(OutboxEvent)).all()) == outbox_before

    again = send_freshness_reminders(session=session, settings=smtp_settings, now=NOW + timedelta(days=3))
    assert (again.listings, again.mails) == (0, 0) and len(smtp.messages) == 3

    next_month = send_freshness_reminders(session=session, settings=smtp_settings, now=NOW + timedelta(days=31))
    assert next_month.listings == 3 and len(smtp.messages) == 6


def test_verifying_stops_the_reminders(session: Session, smtp_settings: Settings, smtp: Mailbox) -> None:
    old = _listing(session, "org-a", "Old pantry", 200)
    add_member(session, make_user(session, "a1@example.org"), old.organization_id, OrgRole.admin)
    row = session.get(Service, old.id)
    assert row is not None
    row.assured_date = TODAY
    session.add(row)
    session.commit()
    assert send_freshness_reminders(session=session, settings=smtp_settings, now=NOW).listings == 0
    assert smtp.messages == []


def test_the_cli_command_sends_the_reminders(
    engine: Engine, session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = _listing(session, "org-a", "Old pantry", 200)
    add_member(session, make_user(session, "a1@example.org"), old.organization_id, OrgRole.admin)
    import directory.stewardship.commands

    monkeypatch.setattr(directory.stewardship.commands, "get_settings", lambda: settings)
    result = CliRunner().invoke(cli, ["freshness-reminders"])
    assert result.exit_code == 0, result.output
    assert "1 stale listings reminded, 1 e-mails sent" in result.output
    assert folder_links(settings, "/workspace")  # written to DATA_DIR/mail without SMTP


def test_the_dashboard_shows_shares_by_category_and_organization(web: TestClient, session: Session) -> None:
    for days, org, category in [
        (10, "org-a", "food-pantry"),
        (100, "org-a", "food-pantry"),
        (200, "org-b", "free-meals"),
        (400, "org-b", "food-pantry"),
    ]:
        make_listing(
            session, org, name=f"{org} {days}", categories=[category], assured_date=date.today() - timedelta(days=days)
        )
    make_listing(session, "org-b", name="retired", status="inactive", assured_date=date.today())
    board = dashboard(session=session, today=date.today())
    assert board.overall.total == 4 and board.stale == 2
    assert [board.overall.percent(d) for d in (90, 180, 365)] == [25, 50, 75]
    by_org = {s.label: s for s in board.by_organization}
    assert (by_org["Org A"].percent(180), by_org["Org B"].percent(365)) == (100, 50)
    by_category = {s.label: s.total for s in board.by_category}
    assert by_category["Food pantry"] == 3 and by_category["Free meals"] == 1
    make_user(session, "root@example.org", network_admin=True)
    signed_in_as(web, session, "root@example.org")
    page = web.get("/admin/freshness")
    assert page.status_code == 200
    assert [e.text for e in elements(page, "strong", data_stale_count=True)] == ["2"]
    overall = elements(page, "td", data_window="90")[0]
    assert overall.text.strip() == "25%"
