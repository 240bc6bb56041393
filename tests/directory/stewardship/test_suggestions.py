"""Public suggestions: the anonymous form, its protections, moderation with before/after, and the way a
decision reaches the listing, the reporter's status page and (through the outbox) the search index."""

import uuid
from datetime import time
from typing import Any

import httpx
import meilisearch
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from accounts.anon_forms import issue_form_token
from accounts.models import OrgRole
from core.app import create_app
from core.settings import Settings
from directory.edits.models import ChangeRequest, ListingChange
from directory.listings.models import Schedule, Service
from directory.stewardship.models import Suggestion
from search.embedded import MeiliServer
from search.index_spec import index_name
from search.layout import Indexes
from search.reindex import reindex
from search.sync import drain
from tests.factories import add_member, make_listing, make_user
from tests.html import elements, field_errors, hidden
from tests.support import sign_in, table_counts


def _report(client: TestClient, service_id: uuid.UUID, **data: Any) -> httpx.Response:
    form = client.get(f"/services/{service_id}/suggest")
    assert form.status_code == 200
    return client.post(
        f"/services/{service_id}/suggest",
        data={"form_token": hidden(form, "form_token"), **data},
        follow_redirects=False,
    )


def _moderator(session: Session, service: Service, role: str = OrgRole.editor, trusted: bool = True) -> str:
    email = f"mod-{uuid.uuid4().hex[:6]}@example.org"
    add_member(session, make_user(session, email), service.organization_id, role, trusted=trusted)
    return email


def test_a_report_needs_no_account_and_gives_an_anonymous_status_link(web: TestClient, session: Session) -> None:
    service = make_listing(session)
    response = _report(
        web, service.id, kind="closed", text="Sign on the door says closed for repairs", reopening_date="2031-05-01"
    )
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/suggestions/status/")
    assert "set-cookie" not in response.headers and not web.cookies
    row = session.exec(select(Suggestion)).one()
    token = location.rsplit("/", 1)[1]
    assert (row.kind, row.status, row.proposed) == ("closed", "new", {"reopening_date": "2031-05-01"})
    assert token not in row.model_dump_json()  # only the hash is stored
    status = web.get(location)
    assert status.status_code == 200 and elements(status, "dd", data_status="new")
    assert web.get("/suggestions/status/not-a-token").status_code == 404


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({"kind": "other", "text": ""}, {"text"}),
        ({"kind": "sideways", "text": "hm"}, {"kind"}),
        ({"kind": "moved", "postal_code": "ABCDE"}, {"postal_code"}),
        (
            {
                "kind": "wrong_hours",
                "timezone": "America/Chicago",
                "row_count": "1",
                "rows-0-days": "MO",
                "rows-0-opens_at": "7pm",
            },
            {"rows-0-opens_at"},
        ),
        ({"kind": "closed", "text": "x" * 2001}, {"text"}),
    ],
    ids=["other-needs-text", "unknown-kind", "bad-zip", "bad-time", "too-long"],
)
def test_invalid_reports_are_shown_again_with_messages_and_stored_nowhere(
    web: TestClient, session: Session, engine: Engine, data: dict[str, str], fields: set[str]
) -> None:
    service = make_listing(session)
    counts = table_counts(engine)
    response = _report(web, service.id, **data)
    assert response.status_code == 422 and set(field_errors(response)) == fields
    assert table_counts(engine) == counts


def test_the_honeypot_quietly_drops_bot_reports(web: TestClient, session: Session, engine: Engine) -> None:
    service = make_listing(session)
    counts = table_counts(engine)
    response = _report(web, service.id, kind="other", text="cheap pills", website="http://spam.example")
    assert response.status_code == 303  # looks accepted
    assert table_counts(engine) == counts


def test_reports_are_rate_limited_per_client(web: TestClient, session: Session) -> None:
    service = make_listing(session)
    for i in range(5):
        assert _report(web, service.id, kind="other", text=f"note {i}").status_code == 303
    limited = _report(web, service.id, kind="other", text="one more")
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
    assert len(session.exec(select(Suggestion)).all()) == 5


@pytest.mark.parametrize("tamper", ["no-token", "cross-site"])
def test_the_anonymous_form_is_protected_against_cross_site_posts(
    web: TestClient, session: Session, settings: Settings, engine: Engine, tamper: str
) -> None:
    service = make_listing(session)
    data = {"kind": "closed", "text": "closed"}
    headers = {}
    if tamper == "cross-site":
        data["form_token"] = issue_form_token(settings, "suggest")
        headers["Origin"] = "https://evil.example"
    counts = table_counts(engine)
    assert web.post(f"/services/{service.id}/suggest", data=data, headers=headers).status_code == 403
    assert table_counts(engine) == counts


def test_approving_a_closure_report_applies_it_with_audit_and_tells_the_reporter(
    web: TestClient, session: Session
) -> None:
    service = make_listing(session, name="Eastside Pantry")
    reporter = TestClient(web.app, base_url="http://testserver")
    status_path = _report(
        reporter, service.id, kind="closed", text="Closed until May", reopening_date="2031-05-01"
    ).headers["location"]
    suggestion = session.exec(select(Suggestion)).one()
    csrf = sign_in(web, _moderator(session, service))
    queue = web.get("/workspace/moderation")
    assert [r.attrs["data-id"] for r in elements(queue, "tr", data_kind="suggestion")] == [str(suggestion.id)]
    view = web.get(f"/workspace/moderation/suggestions/{suggestion.id}")
    rows = {r.attrs["data-field"]: r.text for r in elements(view, "tr") if "data-field" in r.attrs}
    assert (
        "Open" in rows["status"] and "Temporarily closed" in rows["status"] and "2031-05-01" in rows["reopening_date"]
    )
    approved = web.post(
        f"/workspace/moderation/suggestions/{suggestion.id}/approve",
        data={"csrf_token": csrf, "status": "temporarily closed", "reopening_date": "2031-05-01"},
        follow_redirects=False,
    )
    assert approved.status_code == 303
    session.expire_all()
    row = session.get(Service, service.id)
    assert row is not None and row.status == "temporarily closed" and str(row.reopening_date) == "2031-05-01"
    (change,) = session.exec(select(ListingChange).where(ListingChange.service_id == service.id)).all()
    assert (change.via, change.actor_email, change.action) == ("suggestion", "public suggestion", "service.status")
    decision = session.exec(select(ChangeRequest)).one()
    assert (decision.source, decision.status, decision.suggestion_id) == ("suggestion", "approved", suggestion.id)
    assert elements(reporter.get(status_path), "dd", data_status="approved")


def test_approving_a_wrong_hours_report_installs_the_proposed_hours(web: TestClient, session: Session) -> None:
    service = make_listing(session)
    _report(
        web,
        service.id,
        kind="wrong_hours",
        text="They moved to Fridays",
        timezone="America/Chicago",
        row_count="3",
        **{"rows-0-days": ["FR"], "rows-0-opens_at": "08:00", "rows-0-closes_at": "11:00"},
    )
    suggestion = session.exec(select(Suggestion)).one()
    assert suggestion.proposed["hours"]["rows"][0]["days"] == ["FR"]
    csrf = sign_in(web, _moderator(session, service))
    form = web.get(f"/workspace/moderation/suggestions/{suggestion.id}")
    assert elements(form, "input", name="rows-0-opens_at", value="08:00:00") or elements(
        form, "input", name="rows-0-opens_at", value="08:00"
    )
    web.post(
        f"/workspace/moderation/suggestions/{suggestion.id}/approve",
        data={
            "csrf_token": csrf,
            "timezone": "America/Chicago",
            "row_count": "1",
            "rows-0-days": "FR",
            "rows-0-opens_at": "08:00",
            "rows-0-closes_at": "11:30",
        },
    )
    rows = session.exec(select(Schedule).where(Schedule.service_id == service.id)).all()
    assert [(r.byday, r.opens_at, r.closes_at) for r in rows] == [("FR", time(8), time(11, 30))]


def test_rejecting_needs_a_reason_the_reporter_can_read(web: TestClient, session: Session, engine: Engine) -> None:
    service = make_listing(session)
    status_path = _report(web, service.id, kind="no_longer_meets", text="gone").headers["location"]
    suggestion = session.exec(select(Suggestion)).one()
    csrf = sign_in(web, _moderator(session, service))
    counts = table_counts(engine)
    no_reason = web.post(f"/workspace/moderation/suggestions/{suggestion.id}/reject", data={"csrf_token": csrf})
    assert no_reason.status_code == 422 and "reason" in field_errors(no_reason)
    assert table_counts(engine) == counts
    web.post(
        f"/workspace/moderation/suggestions/{suggestion.id}/reject",
        data={"csrf_token": csrf, "reason": "We called them; it still meets on Mondays."},
    )
    public = TestClient(web.app, base_url="http://testserver").get(status_path)
    assert elements(public, "dd", data_status="rejected") and "still meets on Mondays" in public.text
    session.expire_all()
    assert session.get(Service, service.id).status == "active"  # type: ignore[union-attr]


def test_an_untrusted_editor_sees_reports_but_cannot_decide(web: TestClient, session: Session) -> None:
    service = make_listing(session)
    _report(web, service.id, kind="closed", text="closed")
    suggestion = session.exec(select(Suggestion)).one()
    csrf = sign_in(web, _moderator(session, service, trusted=False))
    assert web.get(f"/workspace/moderation/suggestions/{suggestion.id}").status_code == 200
    denied = web.post(
        f"/workspace/moderation/suggestions/{suggestion.id}/approve",
        data={"csrf_token": csrf, "status": "temporarily closed"},
    )
    assert denied.status_code == 403
    session.expire_all()
    assert session.get(Suggestion, suggestion.id).status == "new"  # type: ignore[union-attr]


def test_a_public_suggestion_flows_from_report_to_approval_to_search(
    settings: Settings,
    engine: Engine,
    session: Session,
    meili_server: MeiliServer,
    meili_client: meilisearch.Client,
) -> None:
    """Report -> moderator approves -> outbox -> search sync -> the real Meilisearch answers with it."""
    service = make_listing(session, name="Harbor Light Food Pantry")
    other = make_listing(session, "other-org", name="Harbor Light Clothing Closet")
    indexes = Indexes(prefix=settings.meili_index_prefix, home=meili_client)
    reindex(engine=engine, indexes=indexes)
    uid = index_name(settings.meili_index_prefix)
    app = create_app(settings, engine=engine, meili=meili_server)
    try:
        with TestClient(app, base_url="http://testserver") as client:

            def hit() -> dict:
                found = client.get("/api/v1/search", params={"q": "Harbor Light Food Pantry"}).json()
                return next(h for h in found["hits"] if h["service_id"] == str(service.id))

            assert hit()["status"] == "active"
            assert _report(client, service.id, kind="closed", text="Closed after the flood").status_code == 303
            suggestion = session.exec(select(Suggestion)).one()
            csrf = sign_in(client, _moderator(session, service, role=OrgRole.admin))
            client.post(
                f"/workspace/moderation/suggestions/{suggestion.id}/approve",
                data={"csrf_token": csrf, "status": "temporarily closed"},
            )
            assert hit()["status"] == "active"  # the index only learns through the outbox
            assert drain(engine=engine, indexes=indexes) >= 1
            assert hit()["status"] == "temporarily closed"
            others = client.get("/api/v1/search", params={"q": "Clothing Closet"}).json()["hits"]
            assert [h["status"] for h in others if h["service_id"] == str(other.id)] == ["active"]
    finally:
        meili_client.delete_index(uid)
