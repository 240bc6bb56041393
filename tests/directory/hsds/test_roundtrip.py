"""Round trips: export, import into an empty database, export again -> the same files, in both formats.

The source is our hand-made sample plus the curated and generated seed data (meetings of every attendance
mode, confidential shelters, costs, languages, accessibility, capacity); the target is the test database
(SQLite, or PostgreSQL with TEST_DATABASE_URL).
"""

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col

from core.db import make_engine
from core.outbox import OutboxEvent
from core.settings import Settings
from directory.hsds.export import ExportFormat, export_hsds
from directory.hsds.importer import import_hsds
from directory.listings.models import Location, Organization
from seed_data.load import load_curated, load_generated
from tests.directory.hsds.support import datapackage_problems, load_sample, ndjson, schema_errors


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    folder = tmp_path_factory.mktemp("source")
    engine = make_engine(Settings(data_dir=folder), f"sqlite:///{folder / 'source.sqlite3'}")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        load_sample(session)
        load_curated(session=session)
    load_generated(engine=engine, size=150, seed=7, progress=False)
    return engine


def _files(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_import_export_gives_the_same_data(
    source: Engine, engine: Engine, tmp_path: Path, fmt: ExportFormat
) -> None:
    export_hsds(engine=source, out=tmp_path / "first", fmt=fmt)
    report = import_hsds(engine=engine, path_or_files=tmp_path / "first")
    assert report.ok, [str(p) for p in report.errors[:10]]
    assert report.warnings == []
    export_hsds(engine=engine, out=tmp_path / "second", fmt=fmt)
    first, second = _files(tmp_path / "first"), _files(tmp_path / "second")
    assert first.keys() == second.keys()
    for name in first:
        assert first[name] == second[name], f"{name} differs after the round trip"


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_importing_the_same_export_again_changes_nothing(
    source: Engine, engine: Engine, tmp_path: Path, fmt: ExportFormat
) -> None:
    export_hsds(engine=source, out=tmp_path / "export", fmt=fmt)
    assert import_hsds(engine=engine, path_or_files=tmp_path / "export").ok
    again = import_hsds(engine=engine, path_or_files=tmp_path / "export")
    changed = {name: (c.inserted, c.updated) for name, c in again.counts.items() if c.inserted or c.updated}
    assert changed == {}


def test_the_round_tripped_data_is_still_valid_hsds(source: Engine, tmp_path: Path) -> None:
    export_hsds(engine=source, out=tmp_path / "csv", fmt="csv")
    assert datapackage_problems(tmp_path / "csv") == []
    export_hsds(engine=source, out=tmp_path / "json", fmt="json")
    bodies = list(ndjson((tmp_path / "json" / "services.ndjson").read_text(encoding="utf-8")))
    assert len(bodies) > 150
    for body in bodies:
        assert schema_errors("service", body) == []


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_reimporting_our_export_into_the_same_database_writes_and_queues_nothing(
    source: Engine, tmp_path: Path, fmt: ExportFormat
) -> None:
    """The database the export came from (seeded, with confidential places and empty descriptions)."""
    export_hsds(engine=source, out=tmp_path / "export", fmt=fmt)
    before = _state(source)
    report = import_hsds(engine=source, path_or_files=tmp_path / "export")
    assert report.ok, [str(p) for p in report.errors[:10]]
    changed = {name: (c.inserted, c.updated) for name, c in report.counts.items() if c.inserted or c.updated}
    assert changed == {} and report.services_changed == 0
    assert _state(source) == before


def _state(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        return {
            "outbox": conn.execute(select(func.count()).select_from(OutboxEvent)).scalar_one(),
            "organizations": conn.execute(select(func.max(col(Organization.last_modified)))).scalar_one(),
            "locations": sorted(
                conn.execute(select(col(Location.id), col(Location.name), col(Location.latitude))).all()
            ),
        }
