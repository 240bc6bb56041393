"""The benchmark reuses generated data across code changes: a file from an older tree is brought up to the
current model (new nullable columns added, empty tables with new required columns rebuilt), never silently
used with missing columns, and refused with a plain message when rows would have to be invented."""

import json
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import inspect
from sqlmodel import SQLModel

from bench import dataset


def _columns(data_dir: Path, table: str) -> set[str]:
    engine = dataset.Dataset(size=0, data_dir=data_dir, listings=0, load_seconds=None).engine()
    try:
        return {column["name"] for column in inspect(engine).get_columns(table)}
    finally:
        engine.dispose()


def _older_tree(data_dir: Path, *statements: str) -> None:
    with sqlite3.connect(data_dir / "directory.sqlite3") as db:
        for statement in statements:
            db.execute(statement)


def test_data_from_an_older_tree_is_brought_up_to_the_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dataset, "DATA_ROOT", tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)  # the benchmark's data is a SQLite file by design
    first = dataset.prepare(25)
    assert first.listings == 25 and first.load_seconds is not None
    _older_tree(
        first.data_dir,
        "ALTER TABLE suggestion DROP COLUMN notified_at",  # nullable, added by a later migration
        "ALTER TABLE claim_request DROP COLUMN display_name",  # required, in a table the generator leaves empty
        "DROP TABLE feed_source",  # a table added since
    )
    again = dataset.prepare(25)
    assert again.load_seconds is None, "the listings are reused, not generated again"
    assert again.listings == 25
    assert "notified_at" in _columns(again.data_dir, "suggestion")
    assert "display_name" in _columns(again.data_dir, "claim_request")
    assert _columns(again.data_dir, "feed_source") == {c.name for c in SQLModel.metadata.tables["feed_source"].columns}


def test_rows_that_would_lack_a_required_column_are_refused_plainly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dataset, "DATA_ROOT", tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    data_dir = dataset.prepare(10).data_dir
    _older_tree(data_dir, "ALTER TABLE phone DROP COLUMN number")
    with pytest.raises(SystemExit, match=r"table phone predates the model; delete .* to regenerate"):
        dataset.prepare(10)
    assert json.loads((data_dir / "READY.json").read_text()) == {"size": 10, "seed": dataset.SEED}
