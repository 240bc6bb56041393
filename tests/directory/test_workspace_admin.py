"""Organization administration: invitations, members and trust, claims, bulk upload, accounts and peers."""

import csv
import json
import uuid
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from accounts.models import Invitation, Membership, OrgRole, PeerProfile, User
from core.app import create_app
from core.settings import Settings
from directory.hsds.export import export_hsds
from directory.models import Service
from directory.models_admin import ClaimRequest, ListingChange
from tests.accounts import fixtures
from tests.accounts.fixtures import (
    LISTING_MODELS,
    Mailbox,
    add_member,
    elements,
    field_errors,
    folder_links,
    hidden,
    make_listing,
    make_user,
    signed_in_as,
    snapshot_rows,
    table_counts,
)

web = fixtures.web
smtp = fixtures.smtp
smtp_settings = fixtures.smtp_settings


def test_an_invitation_by_email_creates_an_editor_account(
    engine: Engine, session: Session, smtp_settings: Settings, smtp: Mailbox
) -> None:
    service = make_listing(session, "north-pantry")
    add_member(session, make_user(session, "boss@example.org"), service.organization_id, OrgRole.admin)
    client = TestClient(create_app(smtp_settings, engine=engine), base_url="http://testserver")
    csrf = signed_in_as(client, session, "boss@example.org")
    sent = client.post(
        f"/workspace/organizations/{service.organization_id}/invitations",
        data={"csrf_token": csrf, "email": "New.Helper@Example.org", "role": "editor"},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    (link,) = smtp.links("/invitations/")
    assert smtp.messages[0]["To"] == "new.helper@example.org"
    newcomer = TestClient(client.app, base_url="http://testserver")
    path = link.removeprefix(smtp_settings.base_url)
    page = newcomer.get(path)
    assert page.status_code == 200 and "North Pantry" in page.text
    short = newcomer.post(path, data={"form_token": hidden(page, "form_token"), "password": "short"})
    assert short.status_code == 422 and "password" in field_errors(short)
    joined = newcomer.post(
        path,
        data={
            "form_token": hidden(page, "form_token"),
            "display_name": "Helper",
            "password": "a long enough passphrase",
        },
        follow_redirects=False,
    )
    assert joined.status_code == 303 and "sid" in newcomer.cookies
    user = session.exec(select(User).where(User.email == "new.helper@example.org")).one()
    member = session.exec(select(Membership).where(Membership.user_id == user.id)).one()
    assert (member.organization_id, member.role, member.trusted) == (service.organization_id, "editor", False)
    assert newcomer.get(joined.headers["location"]).status_code == 200
    assert newcomer.get(path).status_code == 404  # used


def test_an_invitation_for_an_existing_account_needs_that_account_signed_in(
    web: TestClient, session: Session, settings: Settings
) -> None:
    service = make_listing(session)
    add_member(session, make_user(session, "boss@example.org"), service.organization_id, OrgRole.admin)
    make_user(session, "known@example.org")
    make_user(session, "someone-else@example.org")
    csrf = signed_in_as(web, session, "boss@example.org")
    web.post(
        f"/workspace/organizations/{service.organization_id}/invitations",
        data={"csrf_token": csrf, "email": "known@example.org", "role": "admin"},
    )
    path = folder_links(settings, "/invitations/")[-1].removeprefix(settings.base_url)
    other = TestClient(web.app, base_url="http://testserver")
    signed_in_as(other, session, "someone-else@example.org")
    page = other.get(path)
    refused = other.post(
        path, data={"form_token": hidden(page, "form_token"), "csrf_token": hidden(page, "csrf_token")}
    )
    assert refused.status_code == 403
    owner = TestClient(web.app, base_url="http://testserver")
    owner_csrf = signed_in_as(owner, session, "known@example.org")
    page = owner.get(path)
    accepted = owner.post(
        path, data={"form_token": hidden(page, "form_token"), "csrf_token": owner_csrf}, follow_redirects=False
    )
    assert accepted.status_code == 303
    known = session.exec(select(User).where(User.email == "known@example.org")).one()
    member = session.exec(select(Membership).where(Membership.user_id == known.id)).one()
    assert (member.role, member.trusted) == ("admin", True)


def test_admins_manage_trust_and_keep_at_least_one_admin(web: TestClient, session: Session) -> None:
    service = make_listing(session)
    boss = add_member(session, make_user(session, "boss@example.org"), service.organization_id, OrgRole.admin)
    helper = add_member(session, make_user(session, "helper@example.org"), service.organization_id)
    csrf = signed_in_as(web, session, "boss@example.org")
    base = f"/workspace/organizations/{service.organization_id}/members"
    assert (
        web.post(
            f"{base}/{helper.id}",
            data={"csrf_token": csrf, "role": "editor", "trusted": "true"},
            follow_redirects=False,
        ).status_code
        == 303
    )
    session.refresh(helper)
    assert helper.trusted is True
    assert web.post(f"{base}/{boss.id}/remove", data={"csrf_token": csrf}).status_code == 409
    assert web.post(f"{base}/{boss.id}", data={"csrf_token": csrf, "role": "editor"}).status_code == 409
    helper_id = helper.id
    assert web.post(f"{base}/{helper_id}/remove", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    session.expire_all()
    assert session.exec(select(Membership).where(Membership.id == helper_id)).first() is None
    duplicate = web.post(
        f"/workspace/organizations/{service.organization_id}/invitations",
        data={"csrf_token": csrf, "email": "boss@example.org", "role": "editor"},
    )
    assert duplicate.status_code == 422 and "email" in field_errors(duplicate)
    assert session.exec(select(Invitation)).all() == []


def test_claiming_a_listing_makes_the_claimant_admin_after_approval(
    web: TestClient, session: Session, settings: Settings
) -> None:
    service = make_listing(session, "unclaimed-org", name="Unclaimed Pantry")
    claimant = make_user(session, "director@example.org")
    make_user(session, "root@example.org", network_admin=True)
    csrf = signed_in_as(web, session, "director@example.org")
    empty = web.post(f"/services/{service.id}/claim", data={"csrf_token": csrf, "message": ""})
    assert empty.status_code == 422 and "message" in field_errors(empty)
    sent = web.post(
        f"/services/{service.id}/claim",
        data={"csrf_token": csrf, "message": "I run this pantry."},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    assert web.get(f"/workspace/organizations/{service.organization_id}").status_code == 403
    admin = TestClient(web.app, base_url="http://testserver")
    admin_csrf = signed_in_as(admin, session, "root@example.org")
    claim = session.exec(select(ClaimRequest)).one()
    assert [e.attrs["data-claim"] for e in elements(admin.get("/admin/claims"), "article")] == [str(claim.id)]
    approved = admin.post(f"/admin/claims/{claim.id}/approve", data={"csrf_token": admin_csrf}, follow_redirects=False)
    assert approved.status_code == 303
    member = session.exec(select(Membership).where(Membership.user_id == claimant.id)).one()
    assert (member.organization_id, member.role) == (service.organization_id, "admin")
    assert folder_links(settings, f"/workspace/organizations/{service.organization_id}")
    assert web.get(f"/workspace/organizations/{service.organization_id}").status_code == 200


def _export(engine: Engine, folder: Path) -> Path:
    export_hsds(engine=engine, out=folder, fmt="csv")
    return folder


def _rename(folder: Path, old: str, new: str) -> None:
    path = folder / "services.csv"
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    for row in rows:
        if row["name"] == old:
            row["name"] = new
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _upload(client: TestClient, org_id: object, csrf: str, folder: Path, kind: str = "hsds") -> httpx.Response:
    files = [("files", (p.name, p.read_bytes(), "text/csv")) for p in sorted(folder.iterdir()) if p.is_file()]
    return client.post(
        f"/workspace/organizations/{org_id}/import", data={"csrf_token": csrf, "kind": kind}, files=files
    )


def test_a_bulk_upload_updates_the_organizations_own_listings_with_audit(
    web: TestClient, session: Session, engine: Engine, tmp_path: Path
) -> None:
    mine = make_listing(session, "org-a", name="A Pantry")
    make_listing(session, "org-b", name="B Pantry")
    add_member(session, make_user(session, "boss@example.org"), mine.organization_id, OrgRole.admin)
    folder = _export(engine, tmp_path / "export")
    _rename(folder, "A Pantry", "A Pantry and Kitchen")
    csrf = signed_in_as(web, session, "boss@example.org")
    response = _upload(web, mine.organization_id, csrf, folder)
    assert response.status_code == 200, response.text[-2000:]
    assert elements(response, "section", data_report="ok")
    session.expire_all()
    assert session.get(Service, mine.id).name == "A Pantry and Kitchen"  # type: ignore[union-attr]
    (change,) = session.exec(select(ListingChange).where(ListingChange.action == "import.hsds")).all()
    assert (change.service_id, change.via, change.actor_email) == (mine.id, "import", "boss@example.org")
    assert change.before is not None and change.after is not None
    assert (change.before["name"], change.after["name"]) == ("A Pantry", "A Pantry and Kitchen")


def test_a_bulk_upload_creates_new_listings_for_the_uploaders_organization(
    web: TestClient, session: Session, engine: Engine, tmp_path: Path
) -> None:
    mine = make_listing(session, "org-a", name="A Pantry")
    add_member(session, make_user(session, "boss@example.org"), mine.organization_id, OrgRole.admin)
    folder = _export(engine, tmp_path / "export")
    path = folder / "services.csv"
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    new_id = str(uuid.uuid4())
    new = {"id": new_id, "organization_id": str(mine.organization_id), "name": "A Pantry Mobile Van",
           "description": "Groceries at your door.", "status": "active"}  # fmt: skip
    rows.append({**{k: "" for k in rows[0]}, **new})
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    csrf = signed_in_as(web, session, "boss@example.org")
    response = _upload(web, mine.organization_id, csrf, folder)
    assert response.status_code == 200, response.text[-2000:]
    assert elements(response, "section", data_report="ok")
    session.expire_all()
    created = session.get(Service, uuid.UUID(new_id))
    assert created is not None and created.organization_id == mine.organization_id
    (change,) = session.exec(select(ListingChange).where(ListingChange.service_id == created.id)).all()
    assert change.before is None and change.after is not None and change.after["name"] == "A Pantry Mobile Van"


def test_a_bulk_upload_touching_another_organization_changes_nothing(
    web: TestClient, session: Session, engine: Engine, tmp_path: Path
) -> None:
    mine = make_listing(session, "org-a", name="A Pantry")
    make_listing(session, "org-b", name="B Pantry")
    add_member(session, make_user(session, "boss@example.org"), mine.organization_id, OrgRole.admin)
    folder = _export(engine, tmp_path / "export")
    _rename(folder, "A Pantry", "A Pantry renamed")
    _rename(folder, "B Pantry", "B Pantry hijacked")
    csrf = signed_in_as(web, session, "boss@example.org")
    counts, rows = table_counts(engine), snapshot_rows(engine, *LISTING_MODELS)
    response = _upload(web, mine.organization_id, csrf, folder)
    assert response.status_code == 422
    assert elements(response, "section", data_report="rejected") and "another organization" in response.text
    assert snapshot_rows(engine, *LISTING_MODELS) == rows
    assert {k: v for k, v in table_counts(engine).items() if k != "login_attempt"} == {
        k: v for k, v in counts.items() if k != "login_attempt"
    }


def test_a_meeting_guide_feed_of_another_entity_is_refused(
    web: TestClient, session: Session, engine: Engine, tmp_path: Path
) -> None:
    mine = make_listing(session, "org-a")
    add_member(session, make_user(session, "boss@example.org"), mine.organization_id, OrgRole.admin)
    feed = tmp_path / "feed"
    feed.mkdir()
    (feed / "meetings.json").write_text(
        json.dumps(
            [
                {
                    "name": "Sunday Serenity",
                    "slug": "sunday-serenity",
                    "day": 0,
                    "time": "10:00",
                    "end_time": "11:00",
                    "types": ["O"],
                    "location": "Hall",
                    "formatted_address": "100 N State St, Chicago, IL 60602, USA",
                    "timezone": "America/Chicago",
                    "entity": "Somebody Else's Intergroup",
                }
            ]
        )
    )
    csrf = signed_in_as(web, session, "boss@example.org")
    counts = table_counts(engine)
    response = _upload(web, mine.organization_id, csrf, feed, kind="meeting_guide")
    assert response.status_code == 422
    assert table_counts(engine)["service"] == counts["service"]
    bad_type = web.post(
        f"/workspace/organizations/{mine.organization_id}/import",
        data={"csrf_token": csrf, "kind": "hsds"},
        files=[("files", ("evil.exe", b"MZ", "x"))],
    )
    assert bad_type.status_code == 422 and "files" in field_errors(bad_type)


def test_network_admins_create_accounts_and_peer_profiles(
    web: TestClient, session: Session, settings: Settings
) -> None:
    org = make_listing(session, "employer-org")
    make_user(session, "root@example.org", network_admin=True)
    supervisor = make_user(session, "sup@example.org")
    csrf = signed_in_as(web, session, "root@example.org")
    created = web.post(
        "/admin/users",
        data={"csrf_token": csrf, "email": "peer@example.org", "display_name": "Pat Peer"},
        follow_redirects=False,
    )
    assert created.status_code == 303
    assert folder_links(settings, "/password/reset/")  # the new person chooses a password by e-mail
    peer = session.exec(select(User).where(User.email == "peer@example.org")).one()
    not_supervisor = web.post(
        f"/admin/users/{peer.id}/peer",
        data={"csrf_token": csrf, "is_peer": "true", "credential": "CPRS", "supervisor_id": str(supervisor.id)},
    )
    assert not_supervisor.status_code == 422 and "supervisor_id" in field_errors(not_supervisor)
    web.post(
        f"/admin/users/{supervisor.id}/flags", data={"csrf_token": csrf, "is_active": "true", "is_supervisor": "true"}
    )
    saved = web.post(
        f"/admin/users/{peer.id}/peer",
        data={
            "csrf_token": csrf,
            "is_peer": "true",
            "credential": "CPRS",
            "supervisor_id": str(supervisor.id),
            "employer_organization_id": str(org.organization_id),
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    profile = session.get(PeerProfile, peer.id)
    assert profile is not None and (profile.credential, profile.supervisor_id, profile.employer_organization_id) == (
        "CPRS",
        supervisor.id,
        org.organization_id,
    )
    me = session.exec(select(User).where(User.email == "root@example.org")).one()
    assert web.post(f"/admin/users/{me.id}/flags", data={"csrf_token": csrf, "is_active": "true"}).status_code == 409


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
