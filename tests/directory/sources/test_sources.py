"""Real feeds of real service bodies (../shared/fixtures/meeting-guide-feeds): every meeting the format's
prose allows goes in under its own source, a broken row is skipped and named, slugs are unique only within
a source, an unchanged re-sync writes nothing and a meeting gone from its feed is retired, not deleted."""

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col

from core.app import create_app
from core.settings import Settings
from directory.listings.models import Address, Attendance, Location, Meeting, Service, ServiceAtLocation
from directory.meeting_guide.importer import import_meeting_guide
from directory.sources.models import FeedSource
from tests.conftest import STANDARDS

FEEDS = STANDARDS.parent / "fixtures" / "meeting-guide-feeds"
# Meetings stored per feed: every row but aasanjose's second "pass-it-on-group".
EXPECTED = {
    "atlanta": 6, "sussexaa": 123, "benlomond": 35, "oc": 1967, "kc": 206, "aasanjose": 692, "timezones": 2,
    "appointment": 2,
}  # fmt: skip


def per_source(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        stmt = (
            select(col(FeedSource.code), func.count(col(Meeting.id)))
            .join(Meeting, col(Meeting.source_id) == col(FeedSource.id))
            .group_by(col(FeedSource.code))
        )
        return {code: n for code, n in conn.execute(stmt)}


def table_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in SQLModel.metadata.sorted_tables if t.name != "feed_source"}  # fmt: skip


def meeting(session: Session, source: str, slug: str) -> tuple[Meeting, Service]:
    stmt = (
        select(Meeting, Service)
        .join(Service, col(Service.id) == col(Meeting.service_id))
        .join(FeedSource, col(FeedSource.id) == col(Meeting.source_id))
        .where(col(FeedSource.code) == source, col(Meeting.source_slug) == slug)
    )
    found = session.execute(stmt).one()
    return found[0], found[1]


def test_every_real_feed_goes_in_under_its_own_source(engine: Engine, session: Session) -> None:
    reports = {path.name.split(".")[0]: import_meeting_guide(engine=engine, source=path)
               for path in sorted(FEEDS.glob("*.json")) if path.name != "invalid.json"}  # fmt: skip
    assert all(r.ok for r in reports.values()), {k: [str(p) for p in r.errors] for k, r in reports.items()}
    assert per_source(engine) == EXPECTED
    # San José's one duplicated slug is named by row; the other 692 meetings are in.
    skipped = [p for p in reports["aasanjose"].problems if p.severity == "skipped"]
    assert [(p.row, p.field) for p in skipped] == [(512, "slug")]
    assert "pass-it-on-group" in skipped[0].message and "row 332" in skipped[0].message
    assert reports["aasanjose"].counts["meeting"].inserted == 692
    # Kansas City: integer slugs, and empty conference_url strings are simply absent.
    kc, kc_service = meeting(session, "kc", "254")
    assert kc_service.name == "Ward Parkway Group" and kc.conference_url is None
    assert kc.attendance_mode == Attendance.in_person
    # Ben Lomond's and Orange County's "big-book-study" are two meetings, each served under its own slug.
    ben, ben_service = meeting(session, "benlomond", "big-book-study")
    oc, oc_service = meeting(session, "oc", "big-book-study")
    assert ben_service.id != oc_service.id and ben.slug != oc.slug
    assert {ben_service.name, oc_service.name} >= {"Big Book Study"}
    # Online meetings with an approximate place are online and keep that place, marked approximate.
    online, online_service = meeting(session, "oc", _first_online(FEEDS / "oc.json"))
    assert online.attendance_mode == Attendance.online
    place = session.execute(
        select(Location).join(ServiceAtLocation, col(ServiceAtLocation.location_id) == col(Location.id))
        .where(col(ServiceAtLocation.service_id) == online_service.id)
    ).scalar_one()  # fmt: skip
    assert place.coordinates_approximate and place.latitude is not None
    # http:// conference links are kept and flagged, unknown type codes kept and reported.
    assert sum("http://" in p.message for p in reports["oc"].warnings) == 4
    assert online.source_updated is not None


def _first_online(path: Path) -> str:
    return next(e["slug"] for e in json.loads(path.read_text()) if e.get("approximate") == "yes")


def test_invalid_json_gets_one_clear_message(engine: Engine) -> None:
    report = import_meeting_guide(engine=engine, source=FEEDS / "invalid.json")
    assert not report.ok and len(report.problems) == 1
    assert "is not valid JSON (line 80" in report.problems[0].message
    assert "no meeting was read" in report.problems[0].message
    assert table_counts(engine)["service"] == 0


def test_strict_is_all_or_nothing(engine: Engine) -> None:
    report = import_meeting_guide(engine=engine, source=FEEDS / "aasanjose.test.json", strict=True)
    assert not report.ok and [(p.row, p.field) for p in report.errors] == [(512, "slug")]
    assert table_counts(engine)["meeting"] == 0


def _feed_without(tmp_path: Path, source: Path, slug: str) -> tuple[Path, list[dict[str, Any]]]:
    data = json.loads(source.read_text())
    path = tmp_path / source.name
    path.write_text(json.dumps([e for e in data if e["slug"] != slug]))
    return path, data


def test_resync_writes_nothing_and_a_dropped_meeting_is_retired(
    engine: Engine, session: Session, settings: Settings, tmp_path: Path
) -> None:
    for name in ("benlomond.test.json", "kc.test.json"):
        assert import_meeting_guide(engine=engine, source=FEEDS / name).ok
    before = table_counts(engine)
    stamps = session.execute(select(func.max(Service.last_modified))).scalar_one()
    for name in ("benlomond.test.json", "kc.test.json"):
        again = import_meeting_guide(engine=engine, source=FEEDS / name)
        assert again.ok and again.services_changed == 0 and again.counts["meeting"].unchanged > 0
    assert table_counts(engine) == before
    assert session.execute(select(func.max(Service.last_modified))).scalar_one() == stamps

    # The same source, read from a copy that no longer has one meeting: that meeting is retired.
    source = session.execute(select(FeedSource).where(col(FeedSource.code) == "benlomond")).scalar_one()
    path, full = _feed_without(tmp_path, FEEDS / "benlomond.test.json", "big-book-study")
    report = import_meeting_guide(engine=engine, source=path, feed=source)
    assert report.ok and report.counts["meeting"].retired == 1 and report.services_changed == 1
    session.expire_all()
    gone, gone_service = meeting(session, "benlomond", "big-book-study")
    assert gone_service.status == "defunct"  # kept for the audit log, not deleted
    served = TestClient(create_app(settings, engine=engine)).get("/api/meeting-guide.json").json()
    assert gone.slug not in {e["slug"] for e in served}
    assert len(served) > 100
    # Kansas City's meetings were not touched by Ben Lomond's sync.
    assert per_source(engine)["kc"] == 206 and table_counts(engine)["meeting"] == before["meeting"]

    path.write_text(json.dumps(full))
    back = import_meeting_guide(engine=engine, source=path, feed=source)
    assert back.ok and back.counts["meeting"].updated == 1
    session.expire_all()
    assert meeting(session, "benlomond", "big-book-study")[1].status == "active"


@pytest.mark.parametrize(
    ("entry", "field", "severity"),
    [
        ({"time": "7:00 PM"}, "time", "warning"),
        ({"time": "19:00:00"}, "time", "warning"),
        ({"types": ["O", "LGBTQIA"]}, "types", "warning"),
        ({"conference_url": "http://zoom.us/j/1"}, "conference_url", "warning"),
        ({"time": "lunchtime"}, "time", "skipped"),
        ({"day": 9}, "day", "skipped"),
    ],
)
def test_slips_are_read_and_broken_rows_skipped(
    engine: Engine, tmp_path: Path, entry: dict[str, Any], field: str, severity: str
) -> None:
    good = {"name": "Sunrise", "slug": 7, "day": 1, "time": "07:00", "timezone": "America/Chicago",
            "formatted_address": "100 N Michigan Ave, Chicago, IL 60601, USA"}  # fmt: skip
    path = tmp_path / "feed.json"
    path.write_text(json.dumps([good, {**good, "slug": "other", **entry}]))
    report = import_meeting_guide(engine=engine, source=path)
    assert report.ok
    assert [(p.row, p.field, p.severity) for p in report.problems] == [(2, field, severity)]
    assert table_counts(engine)["meeting"] == (1 if severity == "skipped" else 2)


def test_the_feed_wins_over_a_workspace_edit(engine: Engine, session: Session) -> None:
    assert import_meeting_guide(engine=engine, source=FEEDS / "atlanta.json").ok
    edited, _ = meeting(session, "atlanta", "early-sunday-morning")
    edited.group_notes = "Edited in the workspace"
    session.add(edited)
    session.commit()
    report = import_meeting_guide(engine=engine, source=FEEDS / "atlanta.json")
    assert report.ok and report.counts["meeting"].updated == 1
    session.expire_all()
    assert meeting(session, "atlanta", "early-sunday-morning")[0].group_notes is None


ABROAD = [
    {"name": "Edmonton Online", "slug": "e1", "day": 1, "time": "19:00", "formatted_address": "Edmonton, AB, Canada",
     "conference_url": "https://zoom.us/j/1"},
    {"name": "Edmonton Downtown", "slug": "e2", "day": 2, "time": "19:00", "address": "10025 102A Ave NW",
     "city": "Edmonton", "state": "AB", "postal_code": "T5J 2Z2", "country": "CA"},
    {"name": "Dublin Online", "slug": "d1", "day": 3, "time": "20:00", "formatted_address": "Dublin, Ireland",
     "conference_url": "https://zoom.us/j/2"},
    {"name": "Fleet Street", "slug": "l1", "day": 4, "time": "12:30", "latitude": 51.5142, "longitude": -0.1076,
     "formatted_address": "10 Fleet St, London EC4Y 1AA, UK"},
]  # fmt: skip


def test_places_beyond_the_us_keep_their_country_and_zone(engine: Engine, session: Session, tmp_path: Path) -> None:
    path = tmp_path / "abroad.json"
    path.write_text(json.dumps(ABROAD))
    report = import_meeting_guide(engine=engine, source=path)
    assert report.ok and report.skipped_rows == [], [str(p) for p in report.problems]
    zones = {}
    for slug in ("e1", "e2", "d1", "l1"):
        found, service = meeting(session, "abroad", slug)
        place = session.execute(
            select(Location).join(ServiceAtLocation, col(ServiceAtLocation.location_id) == col(Location.id))
            .where(col(ServiceAtLocation.service_id) == service.id)
        ).scalar_one()  # fmt: skip
        zones[slug] = (place.timezone, round(place.latitude or 0), found.attendance_mode)
    assert zones == {
        "e1": ("America/Edmonton", 54, Attendance.online),  # never Edmonton, KY (America/Chicago)
        "e2": ("America/Edmonton", 54, Attendance.in_person),
        "d1": ("Europe/Dublin", 53, Attendance.online),
        "l1": ("Europe/London", 52, Attendance.in_person),
    }
    with engine.connect() as conn:
        address = conn.execute(select(Address).where(col(Address.postal_code) == "T5J 2Z2")).one()
    assert (address.city, address.state_province, address.country) == ("Edmonton", "AB", "CA")
