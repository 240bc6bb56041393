"""HSDS import: the official examples, the validation report, all-or-nothing, idempotency, outbox rows,
approximate points and named time zones, zip files, and the CLI."""

import csv
import json
import shutil
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col
from typer.testing import CliRunner

from core.cli import app
from core.db import make_engine
from core.outbox import OutboxEvent
from core.settings import Settings, get_settings
from directory.hsds.export import export_hsds
from directory.hsds.importer import import_hsds
from directory.listings.models import Location, Meeting, Phone, Schedule, Service
from tests.directory.hsds.support import EXAMPLES, load_sample, standards_dir

ORG, SVC, LOC = (str(uuid.UUID(int=n)) for n in (1, 2, 3))


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in SQLModel.metadata.sorted_tables}  # fmt: skip


@pytest.fixture
def exported(tmp_path: Path) -> Path:
    """Our sample directory exported as CSV and JSON from a database of its own."""
    source = make_engine(Settings(data_dir=tmp_path), f"sqlite:///{tmp_path / 'source.sqlite3'}")
    SQLModel.metadata.create_all(source)
    with Session(source) as session:
        load_sample(session)
    for fmt in ("csv", "json"):
        export_hsds(engine=source, out=tmp_path / fmt, fmt=fmt)
    source.dispose()
    return tmp_path


def write_csv(folder: Path, name: str, rows: list[dict[str, Any]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / name).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def edit_csv(path: Path, row: int, **changes: str) -> None:
    """Change data row `row` (1 = first under the header) of a CSV file."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    rows[row - 1].update(changes)
    write_csv(path.parent, path.name, rows)


def test_official_csv_example_imports_cleanly(engine: Engine) -> None:
    standards_dir()
    report = import_hsds(engine=engine, path_or_files=EXAMPLES / "csv")
    assert report.ok, report.errors
    assert report.errors == []
    assert counts(engine)["service"] == 1 and counts(engine)["cost_option"] == 1
    warned = {(p.file, p.field) for p in report.warnings}
    assert ("locations.csv", "latitude") in warned  # the example's (100, 101) is off the globe
    assert ("metadata.csv", None) in warned
    with Session(engine) as session:
        schedule = session.exec(select(Schedule)).scalars().one()  # type: ignore[call-overload]
        assert schedule.timezone == "Etc/GMT-3"  # offset 3 and no usable place: a fixed zone
        assert session.exec(select(OutboxEvent)).scalars().all()  # type: ignore[call-overload]


@pytest.mark.parametrize(
    "name",
    ["service_full.json", "organization_full.json", "service_list.json", "organization_list.json",
     "service_at_location_full.json", "service_at_location_list.json", "tabular.json", "location.json"],
)  # fmt: skip
def test_official_json_examples_import_cleanly(engine: Engine, name: str) -> None:
    standards_dir()
    report = import_hsds(engine=engine, path_or_files=EXAMPLES / name)
    assert report.ok, [str(p) for p in report.errors]
    assert report.rows_read >= 1


def test_an_object_met_in_several_places_becomes_one_row(engine: Engine) -> None:
    standards_dir()
    assert import_hsds(engine=engine, path_or_files=EXAMPLES / "service_full.json").ok
    with Session(engine) as session:
        phone = session.exec(select(Phone)).scalars().one()  # type: ignore[call-overload]
    # The example's phone appears under the service, its place, its contact and its organization.
    assert None not in (phone.service_id, phone.location_id, phone.contact_id, phone.organization_id,
                        phone.service_at_location_id)  # fmt: skip
    assert phone.extension == "100"


BAD_CSV = [
    ("services.csv", 2, {"status": "open"}, "status", "not one of"),
    ("services.csv", 1, {"id": "not-a-uuid"}, "id", "not a UUID"),
    ("phones.csv", 1, {"number": ""}, "number", "required but empty"),
    ("service_at_location.csv", 1, {"service_id": str(uuid.uuid4())}, "service_id", "neither in the import"),
    ("schedules.csv", 1, {"opens_at": "7pm"}, "opens_at", "not a time"),
    ("schedules.csv", 1, {"timezone": "25"}, "timezone", "not a UTC offset"),
    ("locations.csv", 1, {"location_type": "home"}, "location_type", "not one of"),
    ("addresses.csv", 1, {"country": "USA"}, "country", "longer than 2"),
    ("attributes.csv", 1, {"value": "maybe"}, "value", None),
    # The one URL rule (core/urls.py): only http(s) web links, whatever the standard's "uri" format allows.
    ("services.csv", 1, {"url": "javascript:alert(1)"}, "url", "not a web link"),
    ("organizations.csv", 1, {"website": "vbscript:msgbox(1)"}, "website", "not a web link"),
    ("locations.csv", 1, {"url": "data:text/html,<script>alert(1)</script>"}, "url", "not a web link"),
    ("services.csv", 2, {"url": "/relative/path"}, "url", "not a web link"),
    # Header-safe single-line text, and dates a calendar and datetime arithmetic can take.
    ("services.csv", 1, {"name": "Pantry\r\nX-Injected: 1"}, "name", "line breaks"),
    ("services.csv", 1, {"last_modified": "9999-12-31T23:59:59-14:00"}, "last_modified", "between the years"),
    ("schedules.csv", 1, {"valid_to": "9999-12-31"}, "valid_to", "between the years"),
]


@pytest.mark.parametrize(
    ("file", "row", "change", "field", "message"), BAD_CSV, ids=[f"{b[0]}:{b[3]}" for b in BAD_CSV]
)
def test_a_bad_csv_changes_nothing_and_says_where(
    engine: Engine, session: Session, exported: Path, file: str, row: int, change: dict[str, str], field: str,
    message: str | None,
) -> None:  # fmt: skip
    load_sample(session)
    edit_csv(exported / "csv" / "services.csv", 1, name="A renamed service")  # a valid change...
    edit_csv(exported / "csv" / file, row, **change)  # ...and one mistake
    before = counts(engine)
    report = import_hsds(engine=engine, path_or_files=exported / "csv")
    assert not report.ok
    problem = next(p for p in report.errors if p.file == file)
    assert (problem.row, problem.field) == (row + 1, field)
    if message:
        assert message in problem.message
    assert counts(engine) == before
    with Session(engine) as fresh:
        assert "A renamed service" not in {s.name for s in fresh.exec(select(Service)).scalars()}  # type: ignore[call-overload]


def test_a_bad_json_body_is_reported_by_pointer(engine: Engine, exported: Path) -> None:
    lines = (exported / "json" / "services.ndjson").read_text().splitlines()
    body = json.loads(lines[2])
    body["service_at_locations"] = [
        {"id": str(uuid.uuid4()), "location": {"id": str(uuid.uuid4()), "location_type": "home"}}
    ]
    lines[2] = json.dumps(body)
    (exported / "json" / "services.ndjson").write_text("\n".join(lines) + "\n")
    report = import_hsds(engine=engine, path_or_files=exported / "json")
    assert not report.ok
    problem = report.errors[0]
    assert (problem.file, problem.row, problem.field) == (
        "services.ndjson",
        3,
        "/service_at_locations/0/location/location_type",
    )
    assert counts(engine)["service"] == 0


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_reimporting_changes_nothing_and_queues_nothing(engine: Engine, exported: Path, fmt: str) -> None:
    first = import_hsds(engine=engine, path_or_files=exported / fmt)
    assert first.ok, [str(p) for p in first.errors]
    after_first = counts(engine)
    assert after_first["service"] == 6 and after_first["meeting"] == 4
    assert after_first["outbox_event"] == first.services_changed == 6  # every imported service
    second = import_hsds(engine=engine, path_or_files=exported / fmt)
    assert second.ok
    assert all(c.inserted == 0 and c.updated == 0 for c in second.counts.values()), second.summary()
    after_second = counts(engine)
    assert {k: v for k, v in after_second.items() if k != "outbox_event"} == {
        k: v for k, v in after_first.items() if k != "outbox_event"}  # fmt: skip
    assert second.services_changed == 0 and after_second["outbox_event"] == 6  # nothing to re-index


def _minimal_package(folder: Path, *, latitude: str = "", timezone: str = "-6") -> None:
    write_csv(folder, "organizations.csv", [{"id": ORG, "name": "Lakeside Help", "description": "Help."}])
    write_csv(
        folder, "services.csv", [{"id": SVC, "organization_id": ORG, "name": "Lakeside Pantry", "status": "active"}]
    )
    write_csv(folder, "locations.csv", [{"id": LOC, "location_type": "physical", "name": "Hall", "latitude": latitude,
                                          "longitude": "-87.62" if latitude else ""}])  # fmt: skip
    write_csv(folder, "addresses.csv", [{"id": str(uuid.UUID(int=4)), "location_id": LOC, "address_1": "1 Main St",
                                          "city": "Chicago", "state_province": "IL", "postal_code": "60601",
                                          "country": "US", "address_type": "physical"}])  # fmt: skip
    write_csv(folder, "service_at_location.csv", [{"id": str(uuid.UUID(int=5)), "service_id": SVC, "location_id": LOC}])
    write_csv(folder, "schedules.csv", [{"id": str(uuid.UUID(int=6)), "service_id": SVC, "timezone": timezone,
                                          "freq": "WEEKLY", "byday": "MO", "opens_at": "09:00"}])  # fmt: skip


def test_a_place_without_coordinates_gets_an_approximate_point_and_zone(engine: Engine, tmp_path: Path) -> None:
    _minimal_package(tmp_path / "pkg")
    report = import_hsds(engine=engine, path_or_files=tmp_path / "pkg")
    assert report.ok, [str(p) for p in report.errors]
    with Session(engine) as session:
        place = session.get(Location, uuid.UUID(LOC))
        schedule = session.exec(select(Schedule)).scalars().one()  # type: ignore[call-overload]
    assert place is not None and place.coordinates_approximate
    assert abs(place.latitude - 41.886) < 0.05 and abs(place.longitude + 87.62) < 0.05  # type: ignore[operator]
    assert place.timezone == "America/Chicago"
    assert schedule.timezone == "America/Chicago"  # -6 fits the place's zone


@pytest.mark.parametrize(
    ("offset", "zone"), [("-5", "America/Chicago"), ("5.5", "Asia/Kolkata"), ("", "America/Chicago")]
)
def test_offsets_become_named_zones(engine: Engine, tmp_path: Path, offset: str, zone: str) -> None:
    _minimal_package(tmp_path / "pkg", latitude="41.88", timezone=offset)
    assert import_hsds(engine=engine, path_or_files=tmp_path / "pkg").ok
    with Session(engine) as session:
        assert session.execute(select(col(Schedule.timezone))).scalar_one() == zone


def test_a_slug_of_another_meeting_is_refused(engine: Engine, session: Session, exported: Path) -> None:
    load_sample(session)
    attributes = exported / "csv" / "attributes.csv"
    with attributes.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    slug_rows = [i for i, r in enumerate(rows, start=1) if r["value"] == "mtg-hybrid"]
    edit_csv(attributes, slug_rows[0], value="sunrise-group")
    before = counts(engine)
    report = import_hsds(engine=engine, path_or_files=exported / "csv")
    assert not report.ok
    assert any("sunrise-group" in p.message for p in report.errors)
    assert counts(engine) == before


def test_zip_and_single_files_and_a_session(engine: Engine, exported: Path, tmp_path: Path) -> None:
    archive = tmp_path / "upload.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for path in (exported / "csv").iterdir():
            out.write(path, f"package/{path.name}")
    assert import_hsds(engine=engine, path_or_files=archive).ok
    assert counts(engine)["service"] == 6
    with Session(engine) as session:  # what an upload page does: its own session, a list of files
        files = [exported / "json" / "organizations.ndjson", exported / "json" / "services.ndjson"]
        report = import_hsds(session=session, path_or_files=files, actor="admin@example.org")
    assert report.ok and report.actor == "admin@example.org"


def test_nothing_to_import_is_an_error(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    report = import_hsds(engine=engine, path_or_files=tmp_path)
    assert not report.ok


def test_cli_import_reports_and_exits_non_zero(
    engine: Engine, exported: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        good = CliRunner().invoke(app, ["import-hsds", str(exported / "csv")])
        assert good.exit_code == 0, good.output
        assert "imported" in good.output
        bad_dir = tmp_path / "bad"
        shutil.copytree(exported / "csv", bad_dir)
        edit_csv(bad_dir / "services.csv", 1, status="open")
        report_file = tmp_path / "report.json"
        bad = CliRunner().invoke(app, ["import-hsds", str(bad_dir), "--report", str(report_file)])
        assert bad.exit_code == 1
        assert "services.csv row 2, field status" in bad.output
        assert json.loads(report_file.read_text())["ok"] is False
    finally:
        get_settings.cache_clear()


def test_meetings_come_back_from_their_attributes(engine: Engine, exported: Path) -> None:
    assert import_hsds(engine=engine, path_or_files=exported / "csv").ok
    with Session(engine) as session:
        meetings = {m.slug: m for m in session.exec(select(Meeting)).scalars()}  # type: ignore[call-overload]
        kinds = set(session.execute(text("select distinct kind from service")).scalars())
    assert meetings["sunrise-group"].types == ["O", "D", "X"]
    assert meetings["mtg-online-step"].attendance_mode == "online"
    assert meetings["mtg-online-step"].conference_url == "https://zoom.us/j/123456789"
    assert kinds == {"meeting", "service"}
