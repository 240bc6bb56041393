"""Organization workspace: editing listings through the HTML forms and the JSON API.

Each change is applied with an outbox row and an audit row; untrusted editors' changes are held until an
admin approves; invalid input re-renders the form with field messages and writes nothing.
"""

import uuid
from datetime import date, time, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from accounts.models import OrgRole
from core.outbox import OutboxEvent
from directory.edits.models import AppendOnlyError, ChangeRequest, ListingChange
from directory.listings.models import ConfidentialAddress, Meeting, Schedule, Service, ServiceAtLocation
from directory.listings.schemas import AddressIn, ConfidentialAddressIn, LocationIn
from tests.factories import add_member, make_listing, make_meeting, make_user
from tests.html import elements, field_errors
from tests.support import LISTING_MODELS, sign_in, snapshot_rows, table_counts


def _editor(session: Session, service: Service, *, trusted: bool = True, role: str = OrgRole.editor) -> str:
    email = f"{role}-{'t' if trusted else 'u'}-{uuid.uuid4().hex[:6]}@example.org"
    add_member(session, make_user(session, email), service.organization_id, role, trusted=trusted)
    return email


def _outbox(session: Session) -> list[uuid.UUID]:
    return [row.entity_id for row in session.exec(select(OutboxEvent).order_by(col(OutboxEvent.id))).all()]


def _audit(session: Session, service_id: uuid.UUID) -> list[ListingChange]:
    stmt = select(ListingChange).where(ListingChange.service_id == service_id).order_by(col(ListingChange.id))
    return list(session.exec(stmt).all())


def _schedules(session: Session, service_id: uuid.UUID) -> list[tuple[str, time | None, time | None]]:
    rows = session.exec(select(Schedule).where(Schedule.service_id == service_id)).all()
    return sorted((r.byday, r.opens_at, r.closes_at) for r in rows)


HOURS = {
    "timezone": "America/Chicago",
    "row_count": "3",
    "rows-0-days": ["TU", "TH"],
    "rows-0-opens_at": "10:00",
    "rows-0-closes_at": "14:30",
    "rows-1-days": ["SA"],
    "rows-1-opens_at": "22:00",
    "rows-1-closes_at": "01:00",
}


def test_a_trusted_editor_updates_hours_and_capacity_with_outbox_and_audit(web: TestClient, session: Session) -> None:
    service = make_listing(session)
    csrf = sign_in(web, _editor(session, service))
    outbox_before = len(_outbox(session))
    saved = web.post(
        f"/workspace/services/{service.id}/hours", data={**HOURS, "csrf_token": csrf}, follow_redirects=False
    )
    assert saved.status_code == 303 and "done=hours" in saved.headers["location"]
    capacity = web.post(
        f"/workspace/services/{service.id}/capacity",
        data={"csrf_token": csrf, "capacity": "waitlist", "capacity_note": "Call first"},
        follow_redirects=False,
    )
    assert capacity.status_code == 303
    session.expire_all()
    assert _schedules(session, service.id) == [("SA", time(22), time(1)), ("TU,TH", time(10), time(14, 30))]
    row = session.get(Service, service.id)
    assert row is not None and (row.capacity, row.capacity_note) == ("waitlist", "Call first")
    assert row.capacity_updated_at is not None
    assert _outbox(session)[outbox_before:] == [service.id, service.id]
    hours, cap = _audit(session, service.id)
    assert (hours.action, hours.entity, hours.via) == ("service.hours", "schedule", "direct")
    assert hours.before is not None and hours.before["hours"] == [
        {"days": ["MO", "WE"], "opens_at": "09:00:00", "closes_at": "12:00:00", "description": None}
    ]
    assert hours.after is not None and [h["days"] for h in hours.after["hours"]] == [["TU", "TH"], ["SA"]]
    assert cap.before is not None and cap.after is not None
    assert (cap.before["capacity"], cap.after["capacity"], cap.after["capacity_note"]) == (
        "accepting",
        "waitlist",
        "Call first",
    )
    assert hours.actor_email == cap.actor_email and hours.actor_email.startswith("editor-t")
    page = web.get(saved.headers["location"])
    assert page.status_code == 200 and elements(page, "p", class_="saved")


def test_htmx_answers_with_the_section_fragment(web: TestClient, session: Session) -> None:
    service = make_listing(session)
    csrf = sign_in(web, _editor(session, service))
    ok = web.post(
        f"/workspace/services/{service.id}/capacity",
        data={"capacity": "full"},
        headers={"HX-Request": "true", "X-CSRF-Token": csrf},
    )
    assert ok.status_code == 200 and "HX-Request" in ok.headers["vary"]
    assert "<html" not in ok.text and elements(ok, "section", id="section-capacity")
    assert elements(ok, "p", class_="saved")
    bad = web.post(
        f"/workspace/services/{service.id}/capacity",
        data={"capacity": "overflowing"},
        headers={"HX-Request": "true", "X-CSRF-Token": csrf},
    )
    assert bad.status_code == 422 and "<html" not in bad.text
    assert field_errors(bad) == {"capacity": "Choose one of the options."}
    selected = elements(bad, "select", name="capacity")[0]
    assert selected.attrs["aria-invalid"] == "true"


INVALID: list[tuple[str, dict[str, Any], set[str]]] = [
    ("details", {"name": "", "url": "javascript:alert(1)", "email": "not-an-address"}, {"name", "url", "email"}),
    ("details", {"name": "x" * 301}, {"name"}),
    ("status", {"status": "maybe"}, {"status"}),
    ("status", {"status": "temporarily closed", "reopening_date": "2001-01-01"}, {"reopening_date"}),
    ("status", {"status": "temporarily closed", "reopening_date": "next week"}, {"reopening_date"}),
    ("capacity", {"capacity": "full", "capacity_note": "n" * 501}, {"capacity_note"}),
    (
        "hours",
        {"timezone": "Mars/Olympus", "row_count": "1", "rows-0-days": "MO", "rows-0-opens_at": "09:00"},
        {"timezone"},
    ),
    (
        "hours",
        {
            "timezone": "America/Chicago",
            "row_count": "2",
            "rows-0-opens_at": "09:00",
            "rows-1-days": "XX",
            "rows-1-opens_at": "25:61",
        },
        {"rows-1-days", "rows-1-opens_at"},
    ),
    (
        "hours",
        {
            "timezone": "America/Chicago",
            "row_count": "2",
            "rows-0-opens_at": "09:00",
            "rows-1-days": "FR",
            "rows-1-closes_at": "10:00",
        },
        {"rows-0-days", "rows-1-opens_at"},
    ),
    (
        "hours",
        {
            "timezone": "America/Chicago",
            "row_count": "1",
            "rows-0-days": "MO",
            "rows-0-opens_at": "09:00",
            "rows-0-closes_at": "09:00",
        },
        {"rows-0-closes_at"},
    ),
]


@pytest.mark.parametrize(
    ("section", "data", "fields"), INVALID, ids=[f"{s}-{i}" for i, (s, _, _) in enumerate(INVALID)]
)
def test_invalid_input_rerenders_the_form_with_messages_and_writes_nothing(
    web: TestClient, session: Session, engine: Engine, section: str, data: dict[str, Any], fields: set[str]
) -> None:
    service = make_listing(session)
    csrf = sign_in(web, _editor(session, service))
    counts, rows = table_counts(engine), snapshot_rows(engine, *LISTING_MODELS)
    response = web.post(f"/workspace/services/{service.id}/{section}", data={**data, "csrf_token": csrf})
    assert response.status_code == 422
    assert set(field_errors(response)) == fields
    assert elements(response, "section", id=f"section-{section}")
    assert table_counts(engine) == counts and snapshot_rows(engine, *LISTING_MODELS) == rows
    # The person's own input is shown again next to the messages.
    if section == "details" and data.get("email"):
        assert elements(response, "input", name="email", value=data["email"])


def test_invalid_json_input_is_a_422_naming_fields_and_writes_nothing(
    web: TestClient, session: Session, engine: Engine
) -> None:
    service = make_listing(session)
    csrf = sign_in(web, _editor(session, service))
    counts = table_counts(engine)
    response = web.post(
        f"/api/v1/workspace/services/{service.id}/hours",
        headers={"X-CSRF-Token": csrf},
        json={"timezone": "America/Chicago", "rows": [{"days": ["MO"], "opens_at": "noon"}]},
    )
    assert response.status_code == 422
    assert response.json()["errors"] == {"rows-0-opens_at": "Give a time like 18:30."}
    assert table_counts(engine) == counts


def test_held_edit_is_invisible_to_the_public_until_an_admin_approves(web: TestClient, session: Session) -> None:
    service = make_listing(session, name="Westside Pantry")
    novice = _editor(session, service, trusted=False)
    admin = _editor(session, service, role=OrgRole.admin)
    csrf = sign_in(web, novice)
    outbox_before = len(_outbox(session))
    held = web.post(
        f"/workspace/services/{service.id}/details",
        data={"csrf_token": csrf, "name": "Westside Pantry and Kitchen"},
        follow_redirects=False,
    )
    assert held.status_code == 303 and "note=held" in held.headers["location"]
    request = session.exec(select(ChangeRequest)).one()
    assert (request.status, request.op, request.payload["name"]) == (
        "pending",
        "service.details",
        "Westside Pantry and Kitchen",
    )
    session.expire_all()
    assert session.get(Service, service.id).name == "Westside Pantry"  # type: ignore[union-attr]
    assert len(_outbox(session)) == outbox_before and _audit(session, service.id) == []
    public = TestClient(web.app, base_url="http://testserver")
    assert "Westside Pantry and Kitchen" not in public.get(f"/services/{service.id}").text
    editor_page = web.get(f"/workspace/services/{service.id}")
    assert elements(editor_page, "div", data_pending=True)
    # The admin sees a before/after and approves.
    csrf = sign_in(web, admin)
    view = web.get(f"/workspace/moderation/changes/{request.id}")
    (name_row,) = [r for r in elements(view, "tr") if r.attrs.get("data-field") == "name"]
    assert "Westside Pantry" in name_row.text and "Westside Pantry and Kitchen" in name_row.text
    approved = web.post(
        f"/workspace/moderation/changes/{request.id}/approve", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert approved.status_code == 303
    session.expire_all()
    assert session.get(Service, service.id).name == "Westside Pantry and Kitchen"  # type: ignore[union-attr]
    assert session.get(ChangeRequest, request.id).status == "approved"  # type: ignore[union-attr]
    (change,) = _audit(session, service.id)
    assert change.via == "approval" and change.actor_email == novice and change.change_request_id == request.id
    assert change.approved_by_id is not None
    assert _outbox(session)[outbox_before:] == [service.id]
    assert "Westside Pantry and Kitchen" in public.get(f"/services/{service.id}").text


def test_a_rejected_held_edit_changes_nothing(web: TestClient, session: Session, engine: Engine) -> None:
    service = make_listing(session)
    novice, admin = _editor(session, service, trusted=False), _editor(session, service, role=OrgRole.admin)
    csrf = sign_in(web, novice)
    web.post(f"/workspace/services/{service.id}/status", data={"csrf_token": csrf, "status": "defunct"})
    request = session.exec(select(ChangeRequest)).one()
    rows = snapshot_rows(engine, *LISTING_MODELS)
    csrf = sign_in(web, admin)
    rejected = web.post(
        f"/workspace/moderation/changes/{request.id}/reject",
        data={"csrf_token": csrf, "reason": "Still open"},
        follow_redirects=False,
    )
    assert rejected.status_code == 303
    session.expire_all()
    assert session.get(ChangeRequest, request.id).decision_reason == "Still open"  # type: ignore[union-attr]
    assert snapshot_rows(engine, *LISTING_MODELS) == rows
    again = web.post(f"/workspace/moderation/changes/{request.id}/approve", data={"csrf_token": csrf})
    assert again.status_code == 409


def test_temporarily_closed_with_a_reopening_date_then_retired(web: TestClient, session: Session) -> None:
    service = make_listing(session)
    csrf = sign_in(web, _editor(session, service))
    reopen = (date.today() + timedelta(days=14)).isoformat()
    web.post(
        f"/workspace/services/{service.id}/status",
        data={"csrf_token": csrf, "status": "temporarily closed", "reopening_date": reopen},
    )
    session.expire_all()
    row = session.get(Service, service.id)
    assert row is not None and (row.status, row.reopening_date) == ("temporarily closed", date.fromisoformat(reopen))
    web.post(f"/workspace/services/{service.id}/status", data={"csrf_token": csrf, "status": "inactive"})
    session.expire_all()
    row = session.get(Service, service.id)
    assert row is not None and (row.status, row.reopening_date) == ("inactive", None)
    actions = [(c.before, c.after) for c in _audit(session, service.id)]
    assert actions[0][1] == {"status": "temporarily closed", "reopening_date": reopen}
    assert actions[1] == (
        {"status": "temporarily closed", "reopening_date": reopen},
        {"status": "inactive", "reopening_date": None},
    )


def test_still_correct_stamps_the_verification(web: TestClient, session: Session) -> None:
    service = make_listing(session, assured_date=date(2020, 1, 1))
    email = _editor(session, service)
    csrf = sign_in(web, email)
    response = web.post(f"/workspace/services/{service.id}/verify", data={"csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 303
    session.expire_all()
    row = session.get(Service, service.id)
    assert row is not None and row.assured_date == date.today() and row.assurer_email == email
    assert row.verified_by_id is not None
    (change,) = _audit(session, service.id)
    assert change.before == {"assured_date": "2020-01-01", "assurer_email": None, "verified_by_id": None}
    assert change.after is not None and change.after["assured_date"] == date.today().isoformat()


def test_organization_details_reach_every_listing_of_the_organization(web: TestClient, session: Session) -> None:
    first = make_listing(session, "shared-org", name="First")
    second = make_listing(session, "shared-org", name="Second")
    csrf = sign_in(web, _editor(session, first, role=OrgRole.admin))
    before = len(_outbox(session))
    response = web.post(
        f"/workspace/organizations/{first.organization_id}",
        data={"csrf_token": csrf, "name": "Shared Org (renamed)", "website": "https://shared.example"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert sorted(_outbox(session)[before:]) == sorted([first.id, second.id])
    change = session.exec(select(ListingChange).where(ListingChange.entity == "organization")).one()
    assert change.after is not None and change.after["name"] == "Shared Org (renamed)"
    bad = web.post(
        f"/workspace/organizations/{first.organization_id}", data={"csrf_token": csrf, "name": "", "website": "ftp://x"}
    )
    assert bad.status_code == 422 and set(field_errors(bad)) == {"name", "website"}


def test_adding_a_meeting_listing(web: TestClient, session: Session, engine: Engine) -> None:
    existing = make_meeting(session)
    location_id = session.exec(
        select(ServiceAtLocation.location_id).where(ServiceAtLocation.service_id == existing.id)
    ).one()
    csrf = sign_in(web, _editor(session, existing))
    url = f"/workspace/organizations/{existing.organization_id}/services/new"
    counts = table_counts(engine)
    missing = web.post(
        url,
        data={
            "csrf_token": csrf,
            "kind": "meeting",
            "name": "Step Study",
            "category": "aa",
            "timezone": "America/Chicago",
        },
    )
    assert missing.status_code == 422 and set(field_errors(missing)) == {"fellowship", "location_id"}
    assert table_counts(engine) == counts
    created = web.post(
        url,
        data={
            "csrf_token": csrf,
            "kind": "meeting",
            "name": "Step Study",
            "category": "aa",
            "timezone": "America/Chicago",
            "fellowship": "aa",
            "location_id": str(location_id),
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    new = session.exec(select(Service).where(Service.name == "Step Study")).one()
    assert new.organization_id == existing.organization_id and new.assured_date == date.today()
    assert session.exec(select(Meeting).where(Meeting.service_id == new.id)).one().fellowship == "aa"
    assert new.id in _outbox(session)
    assert [c.action for c in _audit(session, new.id)] == ["service.create"]


def test_meeting_details_follow_meeting_guide_rules(web: TestClient, session: Session) -> None:
    meeting = make_meeting(session)
    csrf = sign_in(web, _editor(session, meeting))
    url = f"/workspace/services/{meeting.id}/meeting"
    bad = web.post(
        url, data={"csrf_token": csrf, "fellowship": "aa", "attendance_mode": "online", "types": ["O", "NOPE"]}
    )
    assert bad.status_code == 422 and set(field_errors(bad)) == {"types"}
    no_link = web.post(url, data={"csrf_token": csrf, "fellowship": "aa", "attendance_mode": "hybrid"})
    assert no_link.status_code == 422 and set(field_errors(no_link)) == {"conference_url"}
    ok = web.post(
        url,
        data={
            "csrf_token": csrf,
            "fellowship": "aa",
            "attendance_mode": "hybrid",
            "types": ["O", "BE"],
            "conference_url": "https://meet.example.org/j/1",
        },
        follow_redirects=False,
    )
    assert ok.status_code == 303
    row = session.exec(select(Meeting).where(Meeting.service_id == meeting.id)).one()
    session.refresh(row)
    assert (row.attendance_mode, row.types, row.conference_url) == (
        "hybrid",
        ["O", "BE"],
        "https://meet.example.org/j/1",
    )


def test_a_confidential_street_never_enters_the_audit_log(web: TestClient, session: Session) -> None:
    shelter = make_listing(
        session,
        "safe-haven",
        name="Safe Haven",
        locations=[
            LocationIn(
                key="haven-house",
                name="Haven House",
                address=AddressIn(address_1="", city="Chicago", state_province="IL", postal_code="60614"),
                confidential_address=ConfidentialAddressIn(address_1="77 Hidden Lane"),
            )
        ],
    )
    location_id = session.exec(
        select(ServiceAtLocation.location_id).where(ServiceAtLocation.service_id == shelter.id)
    ).one()
    csrf = sign_in(web, _editor(session, shelter))
    page = web.get(f"/workspace/services/{shelter.id}")
    assert elements(page, "input", name="address_1", value="77 Hidden Lane")  # members may see and fix it
    response = web.post(
        f"/workspace/locations/{location_id}?service_id={shelter.id}",
        data={
            "csrf_token": csrf,
            "name": "Haven House",
            "address_1": "12 Quiet Court",
            "city": "Chicago",
            "state_province": "IL",
            "postal_code": "60614",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert session.get(ConfidentialAddress, location_id).address_1 == "12 Quiet Court"  # type: ignore[union-attr]
    log = session.exec(select(ListingChange).where(ListingChange.entity == "location")).all()
    assert log and all("Hidden" not in str(c.before) + str(c.after) and "Quiet" not in str(c.after) for c in log)


def test_the_audit_trail_lists_each_change_for_admins_only(web: TestClient, session: Session) -> None:
    service = make_listing(session)
    editor, admin = _editor(session, service), _editor(session, service, role=OrgRole.admin)
    csrf = sign_in(web, editor)
    web.post(f"/workspace/services/{service.id}/capacity", data={"csrf_token": csrf, "capacity": "full"})
    web.post(f"/workspace/services/{service.id}/details", data={"csrf_token": csrf, "name": "Renamed Pantry"})
    assert web.get(f"/workspace/organizations/{service.organization_id}/audit").status_code == 403
    sign_in(web, admin)
    page = web.get(f"/workspace/organizations/{service.organization_id}/audit")
    assert [e.attrs["data-action"] for e in elements(page, "li", data_action=True)] == [
        "service.details",
        "service.capacity",
    ]
    api = web.get(f"/api/v1/workspace/organizations/{service.organization_id}/audit").json()
    assert api["total"] == 2 and api["changes"][0]["after"]["name"] == "Renamed Pantry"
    assert api["changes"][1]["before"]["capacity"] == "accepting" and api["changes"][1]["actor"] == editor


def test_the_audit_log_is_append_only(session: Session) -> None:
    service = make_listing(session)
    row = ListingChange(
        organization_id=service.organization_id,
        service_id=service.id,
        entity="service",
        entity_id=service.id,
        action="test",
        before={},
        after={"x": 1},
    )
    session.add(row)
    session.commit()
    row.action = "rewritten"
    session.add(row)
    with pytest.raises(AppendOnlyError):
        session.commit()
    session.rollback()
    with pytest.raises(AppendOnlyError):
        session.delete(row)
        session.commit()


def test_the_json_api_works_with_an_api_token(web: TestClient, session: Session) -> None:
    service = make_listing(session)
    csrf = sign_in(web, _editor(session, service))
    created = web.post("/account/tokens", data={"csrf_token": csrf, "name": "capacity script"})
    token = elements(created, "code", data_new_token=True)[0].text.strip()
    api = TestClient(web.app, base_url="http://testserver", headers={"Authorization": f"Bearer {token}"})
    listing = api.get(f"/api/v1/workspace/services/{service.id}").json()
    assert listing["capacity"] == "accepting" and listing["applies_directly"] is True
    answer = api.post(f"/api/v1/workspace/services/{service.id}/capacity", json={"capacity": "full"})
    assert answer.status_code == 200 and answer.json() == {"applied": True, "change_request_id": None}
    assert api.get(f"/api/v1/workspace/services/{service.id}").json()["capacity"] == "full"
