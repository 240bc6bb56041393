"""Open Referral's official HSDS 1.1 sample (../shared/fixtures/hsds-older): its version is named, it is
upgraded to 3.0 on import with every row accounted for, and importing it again changes nothing."""

import uuid
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from directory.hsds.export import export_hsds
from directory.hsds.importer import import_hsds
from directory.hsds.upgrade import detect_version
from directory.listings.details import Language
from directory.listings.models import Organization, Program, Schedule, Service
from tests.conftest import STANDARDS

SAMPLE = STANDARDS.parent / "fixtures" / "hsds-older" / "hsds-1.1-sample"
HELPLINE = uuid.UUID("c89eb05c-62dd-4b64-b494-0cc347b6ea7f")  # "Never Homeless Helpline"
SIMPLE = {"organization": 10, "service": 13, "location": 10, "service_at_location": 13, "phone": 5}
ALL_RESOURCES = {
    **SIMPLE, "program": 1, "address": 2, "contact": 1, "schedule": 3, "language": 2, "accessibility": 1,
    "funding": 1, "service_area": 1, "required_document": 1, "taxonomy_term": 1,
}  # fmt: skip


def table_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in SQLModel.metadata.sorted_tables}  # fmt: skip


@pytest.mark.parametrize(("folder", "expected"), [("simple", SIMPLE), ("all_resources", ALL_RESOURCES)])
def test_the_official_1_1_sample_is_upgraded_on_import(engine: Engine, folder: str, expected: dict[str, int]) -> None:
    assert detect_version(SAMPLE / folder) == "1.1"
    report = import_hsds(engine=engine, path_or_files=SAMPLE / folder)
    assert report.ok, [str(p) for p in report.errors]
    assert report.source_format == "HSDS 1.1 (upgraded to 3.0)"
    assert report.summary().startswith("read HSDS 1.1 (upgraded to 3.0); imported")
    assert {name: c.inserted for name, c in report.counts.items()} == expected
    assert report.services_changed == 13
    assert "metadata.csv" in {p.file for p in report.warnings}  # named, not silently dropped


def test_every_older_table_lands_somewhere(engine: Engine, session: Session) -> None:
    report = import_hsds(engine=engine, path_or_files=SAMPLE / "all_resources")
    assert report.ok
    warnings = {p.file: p.message for p in report.warnings}
    assert "holiday closures left out" in warnings["holiday_schedules.csv"]
    assert "program ids were not UUIDs" in warnings["program"]
    helpline = session.get(Service, HELPLINE)
    assert helpline is not None and helpline.eligibility_description == "adult"
    assert helpline.fees_description == "Payments accepted: cash, credit card"
    hours = session.exec(select(Schedule).where(col(Schedule.service_id) == HELPLINE)).all()
    assert sorted((s.byday, str(s.opens_at), str(s.closes_at)) for s in hours) == [
        ("MO", "09:00:00", "17:00:00"), ("TU", "09:00:00", "17:00:00"), ("WE", "09:00:00", "17:00:00")]  # fmt: skip
    languages = session.exec(select(Language.code).where(col(Language.service_id) == HELPLINE)).all()
    assert sorted(c for c in languages if c) == ["en", "es"]
    program = session.exec(select(Program)).one()  # its id "7c92d010-...-0800200c9a" is not a UUID
    assert program.name == "Program 1" and program.id != uuid.UUID(int=0)
    assert session.exec(select(func.count()).select_from(Organization)).one() == 10


def test_reimporting_the_1_1_sample_changes_nothing(engine: Engine) -> None:
    assert import_hsds(engine=engine, path_or_files=SAMPLE / "all_resources").ok
    before = table_counts(engine)
    again = import_hsds(engine=engine, path_or_files=SAMPLE / "all_resources")
    assert again.ok and again.services_changed == 0
    assert all(c.inserted == 0 and c.updated == 0 for c in again.counts.values()), again.summary()
    assert table_counts(engine) == before


def test_versions_are_told_apart(engine: Engine, tmp_path: Path) -> None:
    assert import_hsds(engine=engine, path_or_files=SAMPLE / "simple").ok
    export_hsds(engine=engine, out=tmp_path / "ours", fmt="csv")
    assert detect_version(tmp_path / "ours") == "3.0"
    ours = import_hsds(engine=engine, path_or_files=tmp_path / "ours")
    assert ours.source_format == "HSDS 3.0" and ours.services_changed == 0  # our own export: a no-op
    (tmp_path / "empty").mkdir()
    assert detect_version(tmp_path / "empty") is None


def test_another_format_gets_one_clear_sentence(engine: Engine, tmp_path: Path) -> None:
    feed = STANDARDS.parent / "fixtures" / "meeting-guide-feeds" / "oc.json"  # 1,967 meetings, not HSDS
    report = import_hsds(engine=engine, path_or_files=feed)
    assert not report.ok and len(report.problems) == 1
    assert "this is a Meeting Guide feed, not HSDS" in report.problems[0].message
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "stuff.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    assert detect_version(tmp_path / "other") is None
    unknown = import_hsds(engine=engine, path_or_files=tmp_path / "other")
    assert not unknown.ok and [p.message for p in unknown.errors] == ["no HSDS files found"]
    assert unknown.source_format is None and table_counts(engine)["service"] == 0
