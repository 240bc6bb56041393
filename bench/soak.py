"""`python -m bench.soak`: memory of a small deployment (what `make run` serves) while imports are indexed.

An intergroup may run this on a 2 GB server. The app starts as users start it (`python -m core serve`,
embedded Meilisearch and workers) on 2,000 generated listings (bench/data/2000, reused); then, for
`--seconds`, a Meeting Guide feed of 5 meetings is imported every `--every` seconds (half of them new
feeds, half re-imports of an earlier feed with the meetings renamed), each import going through the outbox
to Meilisearch as an intergroup's would. The app's and Meilisearch's resident memory are sampled every
100 ms. Run once with the embedded Meilisearch's indexing bounds as configured (the defaults), and once
with Meilisearch's own defaults (`MEILI_MAX_INDEXING_MEMORY_MB=0`) for comparison. Results:
bench/results/soak_2k.json (the report of `bench.run` includes them).
"""

import json
import os
import random
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from bench import dataset
from bench.procs import App, peak_rss_mb, rss_mb, start_app, stop_app
from bench.report import RESULTS
from bench.run import _wait_ready
from core.settings import Settings
from directory.meeting_guide.importer import import_meeting_guide
from search.embedded import free_port
from search.layout import DEFAULT_SHARD_SIZE

SIZE = 2000
TARGET_MB = 1536  # app + Meilisearch, issue 16
CITIES = [(41.88, -87.63, "Chicago", "IL", "60601"), (39.10, -94.58, "Kansas City", "MO", "64105")]
cli = typer.Typer(add_completion=False)


def feed(name: str, seed: int) -> list[dict[str, Any]]:
    """Five meetings of one group, as an intergroup's Meeting Guide feed lists them."""
    rng = random.Random(seed)
    lat, lng, city, state, zip_code = rng.choice(CITIES)
    return [
        {
            "slug": f"{name}-{n}",
            "name": f"{name.title()} Group {rng.randint(1, 999)} meeting {n}",
            "day": rng.randint(0, 6),
            "time": f"{rng.randint(6, 21):02d}:{rng.choice(['00', '15', '30', '45'])}",
            "types": rng.sample(["O", "C", "D", "B", "ST", "W", "M"], 2),
            "location": f"{name.title()} Hall",
            "address": f"{rng.randint(100, 9999)} Main St",
            "city": city,
            "state": state,
            "postal_code": zip_code,
            "country": "USA",
            "latitude": round(lat + rng.uniform(-0.2, 0.2), 6),
            "longitude": round(lng + rng.uniform(-0.2, 0.2), 6),
        }
        for n in range(5)
    ]


class Sampler:
    """Resident memory of the app, of Meilisearch and of both together, every 100 ms."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.peaks = {"app": 0.0, "meilisearch": 0.0, "both": 0.0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "Sampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            meili = self.app.meili_pid()
            app_mb, meili_mb = rss_mb(self.app.pid), rss_mb(meili) if meili else 0.0
            for key, value in (("app", app_mb), ("meilisearch", meili_mb), ("both", app_mb + meili_mb)):
                self.peaks[key] = max(self.peaks[key], value)
            self._stop.wait(0.1)


def soak(ds: dataset.Dataset, *, seconds: float, every: float, bounded: bool) -> dict[str, Any]:
    prefix = "soak"
    shard_size = DEFAULT_SHARD_SIZE
    saved = os.environ.get("MEILI_MAX_INDEXING_MEMORY_MB")
    if not bounded:
        os.environ["MEILI_MAX_INDEXING_MEMORY_MB"] = "0"
    try:
        app = start_app(ds.data_dir, free_port(), prefix, shard_size)
    finally:
        if saved is None:
            os.environ.pop("MEILI_MAX_INDEXING_MEMORY_MB", None)
        else:
            os.environ["MEILI_MAX_INDEXING_MEMORY_MB"] = saved
    engine = ds.engine()
    imports = 0
    try:
        _wait_ready(app, engine, prefix, shard_size, timeout=600)
        meili = app.meili_pid()
        before = {"app": round(rss_mb(app.pid), 1), "meilisearch": round(rss_mb(meili), 1) if meili else None}
        with tempfile.TemporaryDirectory() as tmp, Sampler(app) as sampler:
            stop_at = time.monotonic() + seconds
            names: list[str] = []
            while time.monotonic() < stop_at:
                fresh = imports % 2 == 0 or not names
                name = f"soak{int(time.time() * 1000)}" if fresh else random.Random(imports).choice(names)
                path = Path(tmp) / f"{name}.json"
                path.write_text(json.dumps(feed(name, imports)))
                report = import_meeting_guide(engine=engine, source=path, fellowship="AA", timezone="America/Chicago")
                if not report.ok:
                    raise RuntimeError(f"import failed: {report}")
                names += [name] if fresh else []
                imports += 1
                time.sleep(every)
            time.sleep(5)  # the last imports reach Meilisearch
        return {
            "bounded": bounded,
            "seconds": seconds,
            "imports": imports,
            "meetings_per_import": 5,
            "rss_before_mb": before,
            "peak_rss_mb": {k: round(v, 1) for k, v in sampler.peaks.items()},
            "meilisearch_high_water_mark_mb": round(peak_rss_mb(meili), 1) if meili else None,
            "load_average": [round(x, 2) for x in os.getloadavg()],
        }
    finally:
        stop_app(app)
        engine.dispose()


@cli.command()
def main(
    seconds: Annotated[float, typer.Option(help="How long imports run, per configuration.")] = 600.0,
    every: Annotated[float, typer.Option(help="Seconds between imports.")] = 2.0,
) -> None:
    """Soak both configurations and write bench/results/soak_2k.json."""
    ds = dataset.prepare(SIZE)
    runs = [soak(ds, seconds=seconds, every=every, bounded=bounded) for bounded in (True, False)]
    result = {
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "listings": ds.listings,
        "target_mb": TARGET_MB,
        "settings": {
            "meili_max_indexing_memory_mb": Settings().meili_max_indexing_memory_mb,
            "meili_max_indexing_threads": Settings().meili_max_indexing_threads,
        },
        "runs": runs,
    }
    path = RESULTS / "soak_2k.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    typer.echo(json.dumps(result, indent=2))
    typer.echo(f"wrote {path}", err=True)


if __name__ == "__main__":
    sys.exit(cli())
