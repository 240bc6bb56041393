"""The benchmark's data: `size` generated listings in a SQLite file under bench/data/<size>/ (reused)."""

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

import core.models_registry  # noqa: F401  (registers every table)
from core.db import make_engine
from core.settings import PROJECT_ROOT, Settings
from directory.listings.models import Service
from directory.listings.service import ensure_taxonomy
from seed_data.load import load_generated

DATA_ROOT = PROJECT_ROOT / "bench" / "data"
SEED = 42


@dataclass(frozen=True)
class Dataset:
    size: int
    data_dir: Path
    listings: int
    load_seconds: float | None  # None: reused from an earlier run

    def engine(self) -> Engine:
        return make_engine(Settings(data_dir=self.data_dir))


def prepare(size: int, *, seed: int = SEED) -> Dataset:
    """Generate the listings once; later runs reuse the file (a READY marker records size and seed)."""
    data_dir = DATA_ROOT / str(size)
    marker = data_dir / "READY.json"
    if marker.is_file() and json.loads(marker.read_text()) == {"size": size, "seed": seed}:
        return Dataset(size=size, data_dir=data_dir, listings=_count(data_dir), load_seconds=None)
    data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(Settings(data_dir=data_dir))
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        ensure_taxonomy(session=session)
    started = time.monotonic()
    load_generated(engine=engine, size=size, seed=seed, progress=sys.stderr.isatty())
    seconds = round(time.monotonic() - started, 1)
    engine.dispose()
    marker.write_text(json.dumps({"size": size, "seed": seed}))
    return Dataset(size=size, data_dir=data_dir, listings=_count(data_dir), load_seconds=seconds)


def _count(data_dir: Path) -> int:
    engine = make_engine(Settings(data_dir=data_dir))
    with Session(engine) as session:
        count = int(session.exec(select(func.count()).select_from(Service)).one())
    engine.dispose()
    return count
