"""Whole-dataset HSDS exports: the CSV package against the standard's datapackage.json, the NDJSON bodies
against the compiled schemas (also strictly), streaming in keyset batches, privacy, and the CLI."""

import csv
import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from core.cli import app
from directory.hsds import export
from directory.hsds.export import export_hsds
from directory.hsds.spec import RESOURCES
from directory.listings.models import Schedule, Service
from tests.directory.hsds.support import datapackage_problems, load_sample, ndjson, plain_schema_errors, schema_errors


@pytest.fixture
def sample(session: Session) -> list[uuid.UUID]:
    return load_sample(session)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_csv_package_validates_against_the_standard(engine: Engine, sample: list[uuid.UUID], tmp_path: Path) -> None:
    out = tmp_path / "out"
    summary = export_hsds(engine=engine, out=out, fmt="csv")
    assert datapackage_problems(out) == []
    described = [r["path"] for r in json.loads((out / "datapackage.json").read_text())["resources"]]
    assert set(described) == {p.name for p in out.iterdir()} - {"datapackage.json"}
    assert {r.path for r in RESOURCES} < set(described)  # plus the header-only change history
    assert summary.files["services.csv"] == 6


def test_csv_package_passes_an_independent_data_package_validator(
    engine: Engine, sample: list[uuid.UUID], tmp_path: Path
) -> None:
    """frictionless reads the package as any Data Package consumer would: every cell against its field's
    type, format and constraints, primary keys unique, foreign keys resolved."""
    import frictionless

    export_hsds(engine=engine, out=tmp_path, fmt="csv")
    report = frictionless.validate(str(tmp_path / "datapackage.json"))
    assert report.flatten(["resourcePath", "rowNumber", "fieldName", "type", "note"]) == []
    assert report.valid and report.stats["tasks"] >= len(RESOURCES)


def test_csv_rows_carry_offsets_extensions_and_placeholders(
    engine: Engine, sample: list[uuid.UUID], tmp_path: Path
) -> None:
    export_hsds(engine=engine, out=tmp_path, fmt="csv")
    assert {r["timezone"] for r in _rows(tmp_path / "schedules.csv")} == {"-6", "-5"}
    attributes = _rows(tmp_path / "attributes.csv")
    assert sum(1 for a in attributes if a["link_type"] == "meeting_type") == 2 + 3 + 2 + 1  # codes of 4 meetings
    terms = {t["id"]: t for t in _rows(tmp_path / "taxonomy_terms.csv")}
    assert all(a["taxonomy_term_id"] in terms for a in attributes)
    organizations = {o["name"]: o for o in _rows(tmp_path / "organizations.csv")}
    assert organizations["Northside Pantry"]["description"] == "Northside Pantry"  # empty: the name stands in


def test_confidential_street_is_never_exported(engine: Engine, sample: list[uuid.UUID], tmp_path: Path) -> None:
    for fmt in ("csv", "json"):
        export_hsds(engine=engine, out=tmp_path / fmt, fmt=fmt)
        for path in (tmp_path / fmt).iterdir():
            text = path.read_text(encoding="utf-8")
            assert "77 Hidden Lane" not in text and "41.9214" not in text and "Safe Harbor House" not in text


def test_json_dump_lines_validate_strictly(engine: Engine, sample: list[uuid.UUID], tmp_path: Path) -> None:
    summary = export_hsds(engine=engine, out=tmp_path, fmt="json")
    assert summary.files == {"taxonomies.ndjson": 3, "taxonomy_terms.ndjson": summary.files["taxonomy_terms.ndjson"],
                             "organizations.ndjson": 2, "services.ndjson": 6}  # fmt: skip
    for name, schema in (("services.ndjson", "service"), ("organizations.ndjson", "organization")):
        for body in ndjson((tmp_path / name).read_text(encoding="utf-8")):
            assert schema_errors(schema, body) == []
    for name, schema in (("taxonomies.ndjson", "taxonomy"), ("taxonomy_terms.ndjson", "taxonomy_term")):
        for body in ndjson((tmp_path / name).read_text(encoding="utf-8")):
            assert plain_schema_errors(schema, body) == []


def test_exports_stream_in_keyset_batches(
    engine: Engine, sample: list[uuid.UUID], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With batches of 2 every row still comes out exactly once, in id order."""
    monkeypatch.setattr(export, "BATCH", 2)
    export_hsds(engine=engine, out=tmp_path / "csv", fmt="csv")
    export_hsds(engine=engine, out=tmp_path / "json", fmt="json")
    with Session(engine) as session:
        services = sorted(str(i) for i in session.exec(select(Service.id)))
        schedules = session.exec(select(func.count()).select_from(Schedule)).one()
    assert [r["id"] for r in _rows(tmp_path / "csv" / "services.csv")] == services
    assert len(_rows(tmp_path / "csv" / "schedules.csv")) == schedules
    assert [b["id"] for b in ndjson((tmp_path / "json" / "services.ndjson").read_text())] == services


def test_cli_export(engine: Engine, sample: list[uuid.UUID], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", str(engine.url.render_as_string(hide_password=False)))
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    from core.settings import get_settings

    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["export-hsds", "--format", "csv", "--out", str(tmp_path / "out")])
        assert result.exit_code == 0, result.output
        assert "services.csv: 6" in result.output
        bad = CliRunner().invoke(app, ["export-hsds", "--format", "xml", "--out", str(tmp_path / "x")])
        assert bad.exit_code == 2
    finally:
        get_settings.cache_clear()
    assert datapackage_problems(tmp_path / "out") == []
