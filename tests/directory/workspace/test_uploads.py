"""Bulk upload from the workspace: an organization's own HSDS package or Meeting Guide feed, and nobody else's."""

import csv
import json
import uuid
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from accounts.models import OrgRole
from directory.edits.models import ListingChange
from directory.hsds.export import export_hsds
from directory.listings.models import Service
from tests.factories import add_member, make_listing, make_user
from tests.html import elements, field_errors
from tests.support import LISTING_MODELS, signed_in_as, snapshot_rows, table_counts


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
