"""Alembic: empty → head → base, and the models match what the migrations build."""

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from core.cli import run_migrations
from core.settings import Settings


def _settings(engine: Engine, tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, database_url=engine.url.render_as_string(hide_password=False))


def test_upgrade_to_head_matches_models_then_downgrade_to_empty(engine: Engine, tmp_path: Path) -> None:
    SQLModel.metadata.drop_all(engine)  # the fixture built tables from the models; start from nothing
    settings = _settings(engine, tmp_path)
    run_migrations(settings, "head")
    tables = set(inspect(engine).get_table_names())
    assert set(SQLModel.metadata.tables) <= tables
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata)
    assert diff == [], f"models and migrations differ: {diff}"
    run_migrations(settings, "base", downgrade=True)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
