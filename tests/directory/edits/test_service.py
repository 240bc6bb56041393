"""The listing-change engine without HTTP: who may change what, applied now or held, and what one change
writes (the rows, one audit row per changed entity, one outbox row per affected listing)."""

import uuid
from datetime import time

import pytest
from sqlmodel import Session, col, select

from accounts.models import OrgRole
from core.errors import Forbidden, NotFound, ValidationFailed
from core.outbox import OutboxEvent
from directory.edits.models import ChangeRequest, ChangeVia, ListingChange, RequestStatus
from directory.edits.operations import OPERATIONS, Target
from directory.edits.service import access_for, submit_change, validate
from directory.listings.models import Attendance, Organization, Schedule, Service
from directory.listings.schemas import MeetingIn
from tests.factories import add_member, make_listing, make_meeting, make_user


def _outbox(session: Session) -> list[uuid.UUID]:
    return list(session.exec(select(OutboxEvent.entity_id).order_by(col(OutboxEvent.id))).all())


def _hours(days: list[str], opens: str, closes: str) -> dict[str, object]:
    return {"timezone": "America/Chicago", "rows": [{"days": days, "opens_at": opens, "closes_at": closes}]}


@pytest.mark.parametrize(
    ("role", "trusted", "network_admin", "applies"),
    [
        pytest.param(OrgRole.admin, False, False, True, id="org-admin"),
        pytest.param(OrgRole.editor, True, False, True, id="trusted-editor"),
        pytest.param(OrgRole.editor, False, False, False, id="untrusted-editor"),
        pytest.param(None, False, True, True, id="network-admin"),
    ],
)
def test_who_applies_at_once_and_whose_changes_are_held(
    session: Session, role: str | None, trusted: bool, network_admin: bool, applies: bool
) -> None:
    service = make_listing(session)
    user = make_user(session, f"{uuid.uuid4().hex[:8]}@example.org", network_admin=network_admin)
    if role is not None:
        add_member(session, user, service.organization_id, role, trusted)
    assert access_for(session=session, user=user, organization_id=service.organization_id).applies_directly is applies

    outcome = submit_change(
        session=session, user=user, op="service.capacity", raw={"capacity": "full"}, service_id=service.id
    )
    session.refresh(service)
    assert outcome.applied is applies
    assert service.capacity == ("full" if applies else "accepting")
    held = session.exec(select(ChangeRequest).where(ChangeRequest.service_id == service.id)).all()
    assert [(h.op, h.status, h.payload["capacity"]) for h in held] == (
        [] if applies else [("service.capacity", RequestStatus.pending, "full")]
    )


def test_someone_outside_the_organization_can_neither_see_nor_change_it(session: Session) -> None:
    service = make_listing(session)
    stranger = make_user(session, "stranger@example.org")
    add_member(session, stranger, make_listing(session, "other-org").organization_id, OrgRole.admin)
    with pytest.raises(Forbidden):
        access_for(session=session, user=stranger, organization_id=service.organization_id)
    with pytest.raises(Forbidden):
        submit_change(session=session, user=stranger, op="service.capacity", raw={"capacity": "full"},
                      service_id=service.id)  # fmt: skip
    session.refresh(service)
    assert service.capacity == "accepting"


def test_unknown_operations_and_missing_listings_are_not_found(session: Session) -> None:
    admin = make_user(session, "admin@example.org", network_admin=True)
    with pytest.raises(NotFound):
        submit_change(session=session, user=admin, op="service.delete", raw={}, service_id=make_listing(session).id)
    with pytest.raises(NotFound):
        submit_change(session=session, user=admin, op="service.capacity", raw={}, service_id=uuid.uuid4())


def test_an_applied_change_writes_its_rows_one_audit_row_and_one_outbox_row(session: Session) -> None:
    service = make_listing(session)
    admin = make_user(session, "admin@example.org", network_admin=True)
    before = len(_outbox(session))
    submit_change(session=session, user=admin, op="service.hours", raw=_hours(["TU", "MO"], "08:00", "11:30"),
                  service_id=service.id)  # fmt: skip
    rows = session.exec(select(Schedule).where(Schedule.service_id == service.id)).all()
    assert [(r.byday, r.opens_at, r.closes_at, r.timezone) for r in rows] == [
        ("MO,TU", time(8), time(11, 30), "America/Chicago")
    ]
    audit = session.exec(select(ListingChange).where(ListingChange.service_id == service.id)).all()
    assert [(a.action, a.entity, a.via, a.actor_email) for a in audit] == [
        ("service.hours", "schedule", ChangeVia.direct, "admin@example.org")
    ]
    assert audit[0].before is not None and audit[0].after is not None
    assert audit[0].after["hours"] == [{"days": ["MO", "TU"], "opens_at": "08:00:00", "closes_at": "11:30:00",
                                        "description": None}]  # fmt: skip
    assert _outbox(session)[before:] == [service.id]


def test_an_organization_change_queues_every_listing_of_the_organization(session: Session) -> None:
    first = make_listing(session, "riverside", name="Pantry")
    second = make_listing(session, "riverside", name="Meals")
    admin = make_user(session, "admin@example.org", network_admin=True)
    before = len(_outbox(session))
    submit_change(session=session, user=admin, op="organization.update", raw={"name": "Riverside Neighbors"},
                  organization_id=first.organization_id)  # fmt: skip
    assert sorted(_outbox(session)[before:]) == sorted([first.id, second.id])


def test_invalid_input_names_each_field_and_writes_nothing(session: Session) -> None:
    service = make_listing(session)
    admin = make_user(session, "admin@example.org", network_admin=True)
    before = len(_outbox(session))
    with pytest.raises(ValidationFailed) as refused:
        submit_change(session=session, user=admin, op="service.hours", raw=_hours([], "25:00", "09:00"),
                      service_id=service.id)  # fmt: skip
    assert set(refused.value.errors) == {"rows-0-opens_at"}
    with pytest.raises(ValidationFailed) as no_days:
        submit_change(session=session, user=admin, op="service.hours", raw=_hours([], "09:00", "10:00"),
                      service_id=service.id)  # fmt: skip
    assert no_days.value.errors == {"rows-0-days": "Pick at least one day."}
    assert len(_outbox(session)) == before
    assert session.exec(select(ListingChange)).all() == []


def test_rules_that_need_the_database_are_checked_before_anything_is_written(session: Session) -> None:
    operation = OPERATIONS["meeting.update"]
    service = make_listing(session)
    with pytest.raises(ValidationFailed) as not_a_meeting:
        validate(
            session,
            operation,
            _target(session, service),
            {"fellowship": "aa", "attendance_mode": "online", "conference_url": "https://meet.example.org/x"},
        )
    assert not_a_meeting.value.errors == {"form": "This listing is not a meeting."}
    online = make_meeting(
        session, "online-aa", locations=[],
        meeting=MeetingIn(fellowship="aa", attendance_mode=Attendance.online, conference_url="https://meet.example.org/a"),
    )  # fmt: skip
    with pytest.raises(ValidationFailed) as no_place:
        validate(session, operation, _target(session, online), {"fellowship": "aa", "attendance_mode": "in_person"})
    assert no_place.value.errors == {
        "attendance_mode": "An in-person or hybrid meeting needs a location; add one first."
    }


def test_a_held_change_keeps_the_listing_as_it_was_and_records_what_it_replaces(session: Session) -> None:
    service = make_listing(session, name="Weekday Food Pantry")
    editor = make_user(session, "editor@example.org")
    add_member(session, editor, service.organization_id, OrgRole.editor, trusted=False)
    outcome = submit_change(session=session, user=editor, op="service.details",
                            raw={"name": "Renamed Pantry"}, service_id=service.id)  # fmt: skip
    session.refresh(service)
    assert service.name == "Weekday Food Pantry"
    held = outcome.change_request
    assert held is not None and held.submitted_by_id == editor.id
    assert held.before is not None and held.before["name"] == "Weekday Food Pantry"
    assert held.payload["name"] == "Renamed Pantry"


def _target(session: Session, service: Service) -> Target:
    organization = session.get(Organization, service.organization_id)
    assert organization is not None
    return Target(organization, service)
