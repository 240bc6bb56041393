"""Stewardship rules without HTTP: deciding on held changes, and claims of existing listings."""

import uuid
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from accounts.models import Membership, OrgRole, User
from core.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from directory.edits.models import ChangeVia, ListingChange, RequestStatus
from directory.edits.service import submit_change
from directory.listings.models import Service
from directory.stewardship import claims, moderation
from tests.factories import add_member, make_listing, make_user

NOW = datetime(2030, 3, 4, 15, 0, tzinfo=UTC)


def _held(session: Session, service: Service) -> tuple[uuid.UUID, User]:
    editor = make_user(session, f"editor-{uuid.uuid4().hex[:6]}@example.org")
    add_member(session, editor, service.organization_id, OrgRole.editor, trusted=False)
    outcome = submit_change(
        session=session, user=editor, op="service.capacity", raw={"capacity": "waitlist"}, service_id=service.id
    )
    assert outcome.change_request is not None
    return outcome.change_request.id, editor


def _admin_of(session: Session, service: Service) -> User:
    admin = make_user(session, f"admin-{uuid.uuid4().hex[:6]}@example.org")
    add_member(session, admin, service.organization_id, OrgRole.admin)
    return admin


def test_approving_a_held_change_applies_it_in_the_editors_name(session: Session) -> None:
    service = make_listing(session)
    change_id, editor = _held(session, service)
    admin = _admin_of(session, service)
    row = moderation.approve_change(session=session, user=admin, change_id=change_id, now=NOW)
    session.refresh(service)
    assert service.capacity == "waitlist" and row.status == RequestStatus.approved and row.decided_by_id == admin.id
    audit = session.exec(select(ListingChange).where(ListingChange.change_request_id == change_id)).one()
    assert (audit.actor_id, audit.approved_by_id, audit.via) == (editor.id, admin.id, ChangeVia.approval)
    with pytest.raises(InvalidTransition):
        moderation.approve_change(session=session, user=admin, change_id=change_id, now=NOW)


def test_rejecting_a_held_change_leaves_the_listing_and_keeps_the_reason(session: Session) -> None:
    service = make_listing(session)
    change_id, _ = _held(session, service)
    row = moderation.reject_change(
        session=session, user=_admin_of(session, service), change_id=change_id, reason="  Not  true. ", now=NOW
    )
    session.refresh(service)
    assert service.capacity == "accepting"
    assert (row.status, row.decision_reason) == (RequestStatus.rejected, "Not true.")
    assert session.exec(select(ListingChange).where(ListingChange.service_id == service.id)).all() == []


def test_only_admins_decide_and_outsiders_do_not_even_see_the_change(session: Session) -> None:
    service = make_listing(session)
    change_id, editor = _held(session, service)
    with pytest.raises(Forbidden):
        moderation.approve_change(session=session, user=editor, change_id=change_id, now=NOW)
    with pytest.raises(Forbidden):
        moderation.reject_change(session=session, user=editor, change_id=change_id, reason="", now=NOW)
    outsider = _admin_of(session, make_listing(session, "other-org"))
    with pytest.raises(NotFound):
        moderation.approve_change(session=session, user=outsider, change_id=change_id, now=NOW)
    assert moderation.my_pending_changes(session=session, user=outsider, service_id=service.id) == []
    assert [r.id for r in moderation.my_pending_changes(session=session, user=editor, service_id=service.id)] == [
        change_id
    ]


@pytest.mark.parametrize(
    ("reason", "required", "result"),
    [
        pytest.param("  two   words ", False, "two words", id="whitespace-folded"),
        pytest.param("   ", False, None, id="optional-empty"),
        pytest.param("   ", True, ValidationFailed, id="required-empty"),
        pytest.param("x" * 1001, False, ValidationFailed, id="too-long"),
    ],
)
def test_decision_reasons(reason: str, required: bool, result: object) -> None:
    if result is ValidationFailed:
        with pytest.raises(ValidationFailed) as refused:
            moderation.clean_reason(reason, required=required)
        assert refused.value.field == "reason"
    else:
        assert moderation.clean_reason(reason, required=required) == result


def test_a_claim_needs_a_message_and_is_asked_once(session: Session) -> None:
    service = make_listing(session)
    claimant = make_user(session, "claimant@example.org")
    with pytest.raises(ValidationFailed):
        claims.request_claim(session=session, user=claimant, service_id=service.id, message="  ", now=NOW)
    claims.request_claim(session=session, user=claimant, service_id=service.id, message="I run it.", now=NOW)
    with pytest.raises(Conflict):
        claims.request_claim(session=session, user=claimant, service_id=service.id, message="Again.", now=NOW)
    with pytest.raises(Conflict):
        claims.request_claim(
            session=session, user=_admin_of(session, service), service_id=service.id, message="Mine.", now=NOW
        )
    with pytest.raises(NotFound):
        claims.request_claim(session=session, user=claimant, service_id=uuid.uuid4(), message="?", now=NOW)


def test_network_admins_decide_claims_and_approval_makes_the_claimant_admin(session: Session) -> None:
    service = make_listing(session)
    claimant = make_user(session, "claimant@example.org")
    claim = claims.request_claim(session=session, user=claimant, service_id=service.id, message="I run it.", now=NOW)
    with pytest.raises(Forbidden):
        claims.pending_claims(session=session, user=claimant)
    network_admin = make_user(session, "network@example.org", network_admin=True)
    with pytest.raises(ValidationFailed):
        claims.reject_claim(session=session, user=network_admin, claim_id=claim.id, reason=" ", now=NOW)
    _, mails = claims.approve_claim(
        session=session, user=network_admin, claim_id=claim.id, now=NOW, make_link=lambda org: f"/workspace/{org}"
    )
    member = session.exec(select(Membership).where(Membership.user_id == claimant.id)).one()
    assert (member.organization_id, member.role) == (service.organization_id, OrgRole.admin)
    assert [(m.to, m.subject) for m in mails] == [
        ("claimant@example.org", "Your listing claim was approved / Se aprobó su solicitud para administrar la ficha")
    ]
    assert f"/workspace/{service.organization_id}" in mails[0].body
    with pytest.raises(InvalidTransition):
        claims.reject_claim(session=session, user=network_admin, claim_id=claim.id, reason="Too late.", now=NOW)
