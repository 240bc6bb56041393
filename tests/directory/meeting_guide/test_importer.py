"""Importing Meeting Guide feeds: from a file or a loopback HTTP server, attendance and time zones derived
by the format's rules, per-row reports that change nothing, idempotency, and the feed's round trip."""

import http.server
import json
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col
from typer.testing import CliRunner

from core.app import create_app
from core.cli import app
from core.db import make_engine
from core.settings import Settings, get_settings
from directory.listings.models import (
    Address,
    Attendance,
    Location,
    Meeting,
    Organization,
    Schedule,
    Service,
    ServiceAtLocation,
)
from directory.meeting_guide.importer import attendance, import_meeting_guide
from tests.directory.hsds.support import load_sample

FEED: list[dict[str, Any]] = [
    {"name": "Sunrise", "slug": "sunrise", "day": [1, 3], "time": "07:00", "end_time": "08:00",
     "timezone": "America/Chicago", "types": ["O", "D", "X"], "location": "St. Mark's",
     "formatted_address": "100 N Michigan Ave, Chicago, IL 60601, USA", "latitude": 41.8864, "longitude": -87.6186,
     "group": "Sunrise Group", "entity": "Chicago Area Service Office", "entity_url": "https://aa.example.org"},
    {"name": "Online Step", "slug": "online-step", "day": 2, "time": "20:30", "timezone": "America/New_York",
     "types": ["C", "ONL"], "conference_url": "https://zoom.us/j/1", "approximate": "yes"},
    {"name": "Noon Hybrid", "slug": "noon-hybrid", "day": 5, "time": "12:00", "types": ["O"],
     "address": "4400 N Broadway", "city": "Chicago", "state": "IL", "postal_code": "60640",
     "conference_phone": "+13125550100"},
    {"name": "Closed For Now", "slug": "closed-for-now", "day": 0, "time": "18:00", "types": ["TC"],
     "formatted_address": "1 Main St, Evanston, IL 60201, USA", "latitude": 42.0, "longitude": -87.7,
     "timezone": "America/Chicago"},
]  # fmt: skip


def _write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in SQLModel.metadata.sorted_tables}  # fmt: skip


def meetings(engine: Engine) -> dict[str, Meeting]:
    with Session(engine) as session:
        return {m.slug: m for m in session.execute(select(Meeting)).scalars()}


@pytest.fixture
def feed_file(tmp_path: Path) -> Path:
    return _write(tmp_path / "meetings.json", FEED)


def test_import_from_a_file(engine: Engine, feed_file: Path) -> None:
    report = import_meeting_guide(engine=engine, source=feed_file)
    assert report.ok, [str(p) for p in report.problems]
    found = meetings(engine)
    modes = {"sunrise": "in_person", "online-step": "online", "noon-hybrid": "hybrid", "closed-for-now": "inactive"}
    assert {slug: m.attendance_mode for slug, m in found.items()} == modes
    assert all(m.fellowship == "aa" for m in found.values())
    assert found["online-step"].types == ["C"]  # the legacy ONL is read as a hint, not kept
    assert any(p.severity == "warning" and p.field == "types" for p in report.problems)
    with Session(engine) as session:
        zones = {s.service_id: s.timezone for s in session.execute(select(Schedule)).scalars()}
        hybrid_place = session.execute(select(Location).where(Location.name.is_(None))).scalars().first()  # type: ignore[union-attr]
    assert zones[found["noon-hybrid"].service_id] == "America/Chicago"  # from its place (no timezone given)
    assert hybrid_place is not None and hybrid_place.coordinates_approximate  # placed by its ZIP
    assert counts(engine)["outbox_event"] == 4


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    _write(tmp_path / "feed.json", FEED)
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_import_from_a_url(engine: Engine, server: str) -> None:
    assert import_meeting_guide(engine=engine, source=f"{server}/feed.json").ok
    assert len(meetings(engine)) == 4
    missing = import_meeting_guide(engine=engine, source=f"{server}/nope.json")
    assert not missing.ok and "404" in missing.problems[0].message


@pytest.mark.parametrize(
    ("entry", "mode"),
    [
        ({}, Attendance.in_person),
        ({"conference_url": "https://x.org/j", "address": "1 Main St"}, Attendance.hybrid),
        ({"conference_phone": "+1555", "formatted_address": "1 Main St, Evanston, IL 60201, USA"}, Attendance.hybrid),
        # A link and only a city: the city is where an online meeting is rooted (the spec's prose).
        ({"conference_url": "https://x.org/j", "city": "San Francisco"}, Attendance.online),
        ({"conference_url": "https://x.org/j", "formatted_address": "San Jose, CA, USA"}, Attendance.online),
        ({"conference_url": "https://x.org/j", "approximate": "yes"}, Attendance.online),
        ({"conference_url": "https://x.org/j", "types": ["TC"]}, Attendance.online),
        ({"types": ["TC"]}, Attendance.inactive),
        ({"approximate": "yes"}, Attendance.inactive),
        ({"approximate": "no", "types": ["O"]}, Attendance.in_person),
    ],
)
def test_attendance_follows_the_format(entry: dict[str, Any], mode: Attendance) -> None:
    assert attendance(entry) == mode


def test_fellowship_from_the_option_or_the_entry(engine: Engine, tmp_path: Path) -> None:
    feed = [dict(FEED[0]), {**FEED[1], "fellowship": "Al-Anon"}]
    assert import_meeting_guide(engine=engine, source=_write(tmp_path / "f.json", feed), fellowship="NA").ok
    assert {s: m.fellowship for s, m in meetings(engine).items()} == {"sunrise": "na", "online-step": "al-anon"}
    unknown = import_meeting_guide(engine=engine, source=tmp_path / "f.json", fellowship="XA")
    assert not unknown.ok and unknown.errors[0].field == "fellowship"


def test_a_strict_import_of_a_bad_feed_changes_nothing(engine: Engine, session: Session, tmp_path: Path) -> None:
    load_sample(session)
    feed = [dict(FEED[0]), {**FEED[1], "day": 9}, {**FEED[2], "slug": "sunrise"}, {**FEED[3], "types": ["ZZ"]}]
    before = counts(engine)
    report = import_meeting_guide(engine=engine, source=_write(tmp_path / "bad.json", feed), strict=True)
    assert not report.ok
    assert {(p.row, p.field) for p in report.errors} == {(2, "day"), (3, "slug")}
    # The legacy ONL (row 2) and an unknown code (row 4) are warnings: kept or read as a hint, never fatal.
    assert [(p.row, p.field) for p in report.warnings] == [(2, "types"), (4, "types")]
    assert counts(engine) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("url", "javascript:alert(1)"),
        ("entity_url", "data:text/html,<script>alert(1)</script>"),
        ("conference_url", "vbscript:msgbox(1)"),
        ("url", "www.example.org/no-scheme"),
        ("name", "Sunrise\r\nX-Injected: 1"),
    ],
)
def test_links_and_names_follow_the_one_rule(engine: Engine, tmp_path: Path, field: str, value: str) -> None:
    feed = [dict(FEED[1]), {**FEED[0], field: value}]
    report = import_meeting_guide(engine=engine, source=_write(tmp_path / "f.json", feed))
    assert report.ok and (2, field) in {(p.row, p.field) for p in report.problems}  # refused and named
    assert counts(engine)["service"] == 2  # the meeting itself still goes in, without the bad value
    with Session(engine) as s:
        columns: tuple[Any, ...] = (Service.name, Service.url, Meeting.conference_url, Organization.website)
        stored = [v for column in columns for v in s.scalars(select(column))]
    assert value not in stored and not any(v and ("\r" in v or "\n" in v) for v in stored)


def test_a_lenient_import_skips_the_broken_rows_only(engine: Engine, tmp_path: Path) -> None:
    feed = [dict(FEED[0]), {**FEED[1], "day": 9}, {**FEED[2], "slug": "sunrise"}, {**FEED[3], "types": ["ZZ"]}]
    report = import_meeting_guide(engine=engine, source=_write(tmp_path / "bad.json", feed))
    assert report.ok and report.skipped_rows == [2, 3]
    assert set(meetings(engine)) == {"sunrise", "closed-for-now"}
    assert meetings(engine)["closed-for-now"].types == ["ZZ"]


def test_mapping_problems_are_reported_too(engine: Engine, tmp_path: Path) -> None:
    feed = [{**FEED[1], "conference_url": "http://insecure.example.org/j"},
            {"name": "Nowhere", "slug": "nowhere", "day": 1, "time": "09:00"}]  # fmt: skip
    report = import_meeting_guide(engine=engine, source=_write(tmp_path / "f.json", feed))
    assert report.ok and report.skipped_rows == [2]
    assert sorted(p.field or "" for p in report.warnings) == ["conference_url", "types"]  # http kept; legacy ONL
    assert "in-person meeting needs coordinates or an address" in report.problems[-1].message
    assert meetings(engine)["online-step"].conference_url == "http://insecure.example.org/j"
    assert counts(engine)["service"] == 1


def test_time_zone_option_for_meetings_without_any(engine: Engine, tmp_path: Path) -> None:
    feed = [{k: v for k, v in FEED[1].items() if k != "timezone"}]
    source = _write(tmp_path / "f.json", feed)
    assert import_meeting_guide(engine=engine, source=source).skipped_rows == [1]
    assert import_meeting_guide(engine=engine, source=source, timezone="America/Denver").skipped_rows == []
    with Session(engine) as session:
        assert session.execute(select(col(Schedule.timezone))).scalar_one() == "America/Denver"


def test_reimport_changes_nothing(engine: Engine, feed_file: Path) -> None:
    assert import_meeting_guide(engine=engine, source=feed_file).ok
    before = counts(engine)
    again = import_meeting_guide(engine=engine, source=feed_file)
    assert again.ok and again.services_changed == 0
    assert again.counts["meeting"].unchanged == 4
    assert counts(engine) == before


def test_our_feed_round_trips(engine: Engine, session: Session, settings: Settings, tmp_path: Path) -> None:
    load_sample(session)
    first = TestClient(create_app(settings, engine=engine)).get("/api/meeting-guide.json").json()
    target_settings = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'target.sqlite3'}"})
    target = make_engine(target_settings)
    SQLModel.metadata.create_all(target)
    assert import_meeting_guide(engine=target, source=_write(tmp_path / "feed.json", first)).ok
    second = TestClient(create_app(target_settings, engine=target)).get("/api/meeting-guide.json").json()
    target.dispose()

    def comparable(feed: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(
            ({k: v for k, v in e.items() if k not in ("url", "updated")} for e in feed), key=lambda e: e["slug"]
        )

    assert comparable(second) == comparable(first)


def test_cli(engine: Engine, feed_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["import-meeting-guide", str(feed_file), "--fellowship", "AA"])
        assert result.exit_code == 0, result.output
        assert "meeting: +4" in result.output
        bad = CliRunner().invoke(app, ["import-meeting-guide", str(_write(tmp_path / "bad.json", {"x": 1}))])
        assert bad.exit_code == 1 and "JSON array" in bad.output
    finally:
        get_settings.cache_clear()


def test_the_feeds_neighbourhood_becomes_the_region_filter_and_the_served_regions(
    engine: Engine, session: Session, tmp_path: Path, settings: Settings
) -> None:
    """`regions`' last name, else `sub_region`, else `region` is the address's neighbourhood, unless it only
    repeats the city: the region filter offers it and our served feed hands it on."""
    feed = [
        {**FEED[0], "regions": ["Chicago", "The Loop"]},
        {**FEED[2], "region": "Uptown", "sub_region": "Buena Park"},
        {**FEED[3], "region": "EVANSTON"},  # only the city again
    ]
    assert import_meeting_guide(engine=engine, source=_write(tmp_path / "r.json", feed), fellowship="AA").ok
    from search.documents import regions_of

    with Session(engine) as s:
        found = {
            m.slug: regions_of(a.city, a.state_province, a.region)
            for m, a in s.execute(
                select(Meeting, Address)
                .join(Service, col(Service.id) == col(Meeting.service_id))
                .join(ServiceAtLocation, col(ServiceAtLocation.service_id) == col(Service.id))
                .join(Address, col(Address.location_id) == col(ServiceAtLocation.location_id))
            ).all()
        }
    assert found["sunrise"] == ["Illinois", "Chicago, IL", "The Loop, Chicago"]
    assert found["noon-hybrid"] == ["Illinois", "Chicago, IL", "Buena Park, Chicago"]
    assert found["closed-for-now"] == ["Illinois", "Evanston, IL"]
    served = TestClient(create_app(settings, engine=engine)).get("/api/meeting-guide/aa.json").json()
    assert {e["slug"]: e["regions"][-1] for e in served}["sunrise"] == "The Loop"


def test_a_real_feeds_sub_regions_are_kept(engine: Engine) -> None:
    source = Path(__file__).parents[4] / "shared/fixtures/meeting-guide-feeds/aasanjose.test.json"
    assert import_meeting_guide(engine=engine, source=source, fellowship="AA").ok
    with Session(engine) as s:
        areas = set(s.execute(select(col(Address.region))).scalars())
    assert "South San Jose" in areas and "West San Jose" in areas
