"""Every role against every endpoint this issue adds: nobody reaches another organization's data.

An editor of organization A tries every HTML and JSON endpoint on organization B's objects (and on random
ids): each answer is 403 or 404 and the database is unchanged, row for row. Anonymous visitors get 401.
A signed-in request without the right CSRF token gets 403 and changes nothing.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from accounts.models import Invitation, Membership, OrgRole, User
from accounts.tokens import token_hash
from core.clock import utcnow
from directory.edits.models import ChangeRequest, ListingChange
from directory.listings.models import Location, ServiceAtLocation
from directory.stewardship.models import ClaimRequest, Suggestion
from tests.factories import add_member, make_listing, make_user
from tests.support import signed_in_as, table_counts


@dataclass
class World:
    ids: dict[str, uuid.UUID]


@pytest.fixture
def world(session: Session) -> World:
    a = make_listing(session, "org-a", name="A Pantry")
    b = make_listing(session, "org-b", name="B Pantry")
    loc_a = session.exec(select(ServiceAtLocation.location_id).where(ServiceAtLocation.service_id == a.id)).one()
    loc_b = session.exec(select(ServiceAtLocation.location_id).where(ServiceAtLocation.service_id == b.id)).one()
    editor_a = make_user(session, "editor-a@example.org")
    add_member(session, editor_a, a.organization_id, OrgRole.editor, trusted=True)
    admin_a = make_user(session, "admin-a@example.org")
    add_member(session, admin_a, a.organization_id, OrgRole.admin)
    admin_b = make_user(session, "admin-b@example.org")
    member_b = add_member(session, admin_b, b.organization_id, OrgRole.admin)
    held = ChangeRequest(
        organization_id=b.organization_id,
        service_id=b.id,
        op="service.capacity",
        payload={"capacity": "full", "capacity_note": None},
        submitted_by_id=admin_b.id,
    )
    report = Suggestion(
        kind="closed",
        text="Closed for renovation",
        service_id=b.id,
        organization_id=b.organization_id,
        status_token_hash=token_hash("status-b"),
    )
    invitation = Invitation(
        organization_id=b.organization_id,
        email="new@example.org",
        role="editor",
        token_hash=token_hash("invite-b"),
        expires_at=utcnow() + timedelta(days=7),
    )
    claim = ClaimRequest(organization_id=b.organization_id, service_id=b.id, user_id=admin_b.id, message="mine")
    session.add_all([held, report, invitation, claim])
    session.add(
        ListingChange(
            organization_id=b.organization_id,
            service_id=b.id,
            entity="service",
            entity_id=b.id,
            action="service.capacity",
            before={"capacity": "accepting"},
            after={"capacity": "full"},
        )
    )
    session.commit()
    return World(
        {
            "org_a": a.organization_id,
            "svc_a": a.id,
            "loc_a": loc_a,
            "org_b": b.organization_id,
            "svc_b": b.id,
            "loc_b": loc_b,
            "change_b": held.id,
            "suggestion_b": report.id,
            "member_b": member_b.id,
            "invitation_b": invitation.id,
            "claim_b": claim.id,
            "user_b": admin_b.id,
            "editor_a": editor_a.id,
        }
    )


SECTION_DATA = {
    "details": {"name": "Hijacked"},
    "status": {"status": "defunct"},
    "capacity": {"capacity": "full"},
    "hours": {"timezone": "America/Chicago", "row_count": "1", "rows-0-days": "SU", "rows-0-opens_at": "01:00"},
    "meeting": {"fellowship": "aa", "attendance_mode": "online", "conference_url": "https://x.example"},
    "verify": {},
}
LOCATION = {"address_1": "1 Evil St", "city": "Chicago", "state_province": "IL", "postal_code": "60601"}

# (method, path template, form or JSON body). Templates name ids from `World.ids`.
HTML_ENDPOINTS: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/workspace/organizations/{org_b}", {}),
    ("POST", "/workspace/organizations/{org_b}", {"name": "Hijacked"}),
    ("GET", "/workspace/organizations/{org_b}/services/new", {}),
    (
        "POST",
        "/workspace/organizations/{org_b}/services/new",
        {"name": "Spam", "category": "food-pantry", "timezone": "America/Chicago"},
    ),
    ("GET", "/workspace/services/{svc_b}", {}),
    *[("POST", "/workspace/services/{svc_b}/" + s, d) for s, d in SECTION_DATA.items()],
    ("POST", "/workspace/locations/{loc_b}?service_id={svc_b}", LOCATION),
    ("POST", "/workspace/locations/{loc_b}?service_id={svc_a}", LOCATION),
    ("GET", "/workspace/organizations/{org_b}/audit", {}),
    ("GET", "/workspace/organizations/{org_b}/import", {}),
    ("POST", "/workspace/organizations/{org_b}/import", {"kind": "hsds"}),
    ("GET", "/workspace/organizations/{org_b}/members", {}),
    ("POST", "/workspace/organizations/{org_b}/invitations", {"email": "spy@example.org", "role": "admin"}),
    ("POST", "/workspace/organizations/{org_b}/members/{member_b}", {"role": "editor"}),
    ("POST", "/workspace/organizations/{org_b}/members/{member_b}/remove", {}),
    ("POST", "/workspace/organizations/{org_a}/members/{member_b}/remove", {}),
    ("POST", "/workspace/organizations/{org_b}/invitations/{invitation_b}/revoke", {}),
    ("POST", "/workspace/organizations/{org_a}/invitations/{invitation_b}/revoke", {}),
    ("GET", "/workspace/moderation/changes/{change_b}", {}),
    ("POST", "/workspace/moderation/changes/{change_b}/approve", {}),
    ("POST", "/workspace/moderation/changes/{change_b}/reject", {"reason": "no"}),
    ("GET", "/workspace/moderation/suggestions/{suggestion_b}", {}),
    ("POST", "/workspace/moderation/suggestions/{suggestion_b}/approve", {"status": "defunct"}),
    ("POST", "/workspace/moderation/suggestions/{suggestion_b}/reject", {"reason": "no"}),
    ("GET", "/admin/claims", {}),
    ("POST", "/admin/claims/{claim_b}/approve", {}),
    ("POST", "/admin/claims/{claim_b}/reject", {"reason": "no"}),
    ("GET", "/admin/freshness", {}),
    ("GET", "/admin/users", {}),
    ("POST", "/admin/users", {"email": "spy2@example.org"}),
    ("GET", "/admin/users/{user_b}", {}),
    ("POST", "/admin/users/{user_b}/flags", {"is_active": "false"}),
    ("POST", "/admin/users/{editor_a}/flags", {"is_active": "true", "is_network_admin": "true"}),
    ("POST", "/admin/users/{user_b}/peer", {"is_peer": "true"}),
]
JSON_ENDPOINTS: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/api/v1/workspace/organizations/{org_b}/services", {}),
    ("GET", "/api/v1/workspace/services/{svc_b}", {}),
    ("GET", "/api/v1/workspace/organizations/{org_b}/audit", {}),
    ("POST", "/api/v1/workspace/services/{svc_b}/capacity", {"capacity": "full"}),
    ("POST", "/api/v1/workspace/services/{svc_b}/status", {"status": "defunct"}),
    (
        "POST",
        "/api/v1/workspace/services/{svc_b}/hours",
        {"timezone": "America/Chicago", "rows": [{"days": ["SU"], "opens_at": "01:00"}]},
    ),
    ("POST", "/api/v1/workspace/services/{svc_b}/verify", {}),
    ("POST", "/api/v1/workspace/services/{svc_b}/details", {"name": "Hijacked"}),
]
ALL = HTML_ENDPOINTS + JSON_ENDPOINTS


def _id(endpoint: tuple[str, str, dict[str, Any]]) -> str:
    return f"{endpoint[0]} {endpoint[1]}"


def _call(client: TestClient, method: str, path: str, body: dict[str, Any], csrf: str | None) -> Any:
    if method == "GET":
        return client.get(path, follow_redirects=False)
    if path.startswith("/api/"):
        headers = {"X-CSRF-Token": csrf} if csrf else {}
        return client.post(path, json=body, headers=headers, follow_redirects=False)
    data = {**body, **({"csrf_token": csrf} if csrf else {})}
    return client.post(path, data=data, follow_redirects=False)


def _fill(template: str, ids: dict[str, uuid.UUID], swap: Callable[[str], uuid.UUID] | None = None) -> str:
    return template.format(**{k: (swap(k) if swap else v) for k, v in ids.items()})


def _state(engine: Engine) -> dict[str, Any]:
    """Row counts of every table plus every row of the tables these endpoints could change."""
    rows: dict[str, Any] = {"counts": table_counts(engine)}
    with Session(engine) as session:
        for table in SQLModel.metadata.sorted_tables:
            if table.name in ("login_attempt", "user_session", "api_token"):
                continue
            rows[table.name] = sorted(map(repr, session.connection().execute(table.select()).all()))
    return rows


@pytest.mark.parametrize("endpoint", ALL, ids=_id)
def test_an_editor_of_a_cannot_read_or_change_b(
    web: TestClient, world: World, engine: Engine, endpoint: tuple[str, str, dict[str, Any]], session: Session
) -> None:
    csrf = signed_in_as(web, session, "editor-a@example.org")
    method, template, body = endpoint
    before = _state(engine)
    response = _call(web, method, _fill(template, world.ids), body, csrf)
    assert response.status_code in (403, 404), response.text[:500]
    assert _state(engine) == before
    assert "B Pantry" not in response.text and "admin-b@example.org" not in response.text


@pytest.mark.parametrize("endpoint", [e for e in ALL if "{" in e[1]], ids=_id)
def test_random_ids_reveal_nothing_and_change_nothing(
    web: TestClient, world: World, engine: Engine, endpoint: tuple[str, str, dict[str, Any]], session: Session
) -> None:
    csrf = signed_in_as(web, session, "admin-a@example.org")
    method, template, body = endpoint
    before = _state(engine)
    response = _call(web, method, _fill(template, world.ids, lambda _k: uuid.uuid4()), body, csrf)
    assert response.status_code in (403, 404), response.text[:500]
    assert _state(engine) == before


@pytest.mark.parametrize("endpoint", ALL, ids=_id)
def test_anonymous_visitors_get_401_and_change_nothing(
    web: TestClient, world: World, engine: Engine, endpoint: tuple[str, str, dict[str, Any]]
) -> None:
    method, template, body = endpoint
    before = _state(engine)
    response = _call(web, method, _fill(template, world.ids), body, None)
    assert response.status_code == 401
    assert _state(engine) == before


OWN_WRITES: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/workspace/organizations/{org_a}", {"name": "Renamed"}),
    (
        "POST",
        "/workspace/organizations/{org_a}/services/new",
        {"name": "New", "category": "food-pantry", "timezone": "America/Chicago"},
    ),
    *[("POST", "/workspace/services/{svc_a}/" + s, d) for s, d in SECTION_DATA.items() if s != "meeting"],
    ("POST", "/workspace/locations/{loc_a}?service_id={svc_a}", LOCATION),
    ("POST", "/workspace/organizations/{org_a}/invitations", {"email": "friend@example.org", "role": "editor"}),
    ("POST", "/api/v1/workspace/services/{svc_a}/capacity", {"capacity": "full"}),
    ("POST", "/logout", {}),
    ("POST", "/account/tokens", {"name": "token"}),
    ("POST", "/account/password", {"current_password": "x", "new_password": "yyyyyyyyyyyy"}),
]


@pytest.mark.parametrize("csrf", ["missing", "wrong"])
@pytest.mark.parametrize("endpoint", OWN_WRITES, ids=_id)
def test_writes_without_the_csrf_token_are_refused(
    web: TestClient,
    world: World,
    engine: Engine,
    endpoint: tuple[str, str, dict[str, Any]],
    csrf: str,
    session: Session,
) -> None:
    signed_in_as(web, session, "admin-a@example.org")
    method, template, body = endpoint
    before = _state(engine)
    response = _call(web, method, _fill(template, world.ids), body, None if csrf == "missing" else "not-the-token")
    assert response.status_code == 403
    assert _state(engine) == before


def test_the_same_writes_succeed_with_the_token(web: TestClient, world: World, session: Session) -> None:
    """Control for the test above: the admin of A may make every one of these changes."""
    csrf = signed_in_as(web, session, "admin-a@example.org")
    for method, template, body in OWN_WRITES[:-3]:
        response = _call(web, method, _fill(template, world.ids), body, csrf)
        assert response.status_code in (200, 303), (template, response.text[:300])
    assert session.exec(select(ListingChange).where(ListingChange.organization_id == world.ids["org_a"])).all()


def test_an_untrusted_editor_cannot_approve_a_held_change_of_their_own_organization(
    web: TestClient, world: World, session: Session, engine: Engine
) -> None:
    novice = make_user(session, "novice-a@example.org")
    add_member(session, novice, world.ids["org_a"], OrgRole.editor, trusted=False)
    held = ChangeRequest(
        organization_id=world.ids["org_a"],
        service_id=world.ids["svc_a"],
        op="service.capacity",
        payload={"capacity": "full"},
        submitted_by_id=novice.id,
    )
    session.add(held)
    session.commit()
    csrf = signed_in_as(web, session, "novice-a@example.org")
    assert web.get(f"/workspace/moderation/changes/{held.id}").status_code == 200  # may see it
    before = _state(engine)
    response = web.post(f"/workspace/moderation/changes/{held.id}/approve", data={"csrf_token": csrf})
    assert response.status_code == 403
    assert _state(engine) == before


def test_editors_do_not_see_other_organizations_in_the_queue_or_lists(
    web: TestClient, world: World, session: Session
) -> None:
    signed_in_as(web, session, "editor-a@example.org")
    queue = web.get("/workspace/moderation")
    assert str(world.ids["change_b"]) not in queue.text and str(world.ids["suggestion_b"]) not in queue.text
    mine = web.get("/api/v1/workspace/organizations").json()["organizations"]
    assert [o["id"] for o in mine] == [str(world.ids["org_a"])]


def test_a_network_admin_reaches_every_organization(web: TestClient, world: World, session: Session) -> None:
    make_user(session, "root@example.org", network_admin=True)
    signed_in_as(web, session, "root@example.org")
    for path in (
        "/workspace/organizations/{org_b}",
        "/workspace/services/{svc_b}",
        "/workspace/organizations/{org_b}/audit",
        "/workspace/moderation/changes/{change_b}",
        "/workspace/moderation/suggestions/{suggestion_b}",
        "/admin/claims",
        "/admin/freshness",
        "/admin/users",
    ):
        assert web.get(_fill(path, world.ids)).status_code == 200, path


def test_memberships_and_locations_used_above_exist(world: World, session: Session) -> None:
    """Guards the matrix: its ids point at real rows, so 403/404 above is access control, not absence."""
    assert session.get(Membership, world.ids["member_b"]) is not None
    assert session.get(Location, world.ids["loc_b"]) is not None
    assert session.get(User, world.ids["user_b"]) is not None
