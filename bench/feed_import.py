"""Measure importing a 2,038-meeting Meeting Guide feed, the daily sync of it unchanged, and a sync with one
meeting changed, into an empty SQLite database.

    .venv/bin/python -m bench.feed_import [--meetings 2038]

The feed is Orange County's real one (../shared/fixtures/meeting-guide-feeds/oc.json, 1,967 meetings) with
its first meetings repeated under new slugs up to the size asked for. Target: the first import in at most
10 s on this machine (issue 13: it took 72 s). Results go to bench/results/feed_import.{md,json}. Not part
of the test suite.
"""

import argparse
import json
import os
import platform
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
RESULTS = PROJECT / "bench" / "results"
FEED = PROJECT.parent / "shared" / "fixtures" / "meeting-guide-feeds" / "oc.json"
TARGET_SECONDS = 10.0


def build_feed(size: int, path: Path) -> int:
    meetings = json.loads(FEED.read_text(encoding="utf-8"))
    extra = [{**m, "slug": f"{m['slug']}-bench-{i}"} for i, m in enumerate(meetings[: max(0, size - len(meetings))])]
    feed = (meetings + extra)[:size]
    path.write_text(json.dumps(feed), encoding="utf-8")
    return len(feed)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return round(time.perf_counter() - start, 2), result


def run(size: int) -> dict[str, Any]:
    from sqlmodel import Session, SQLModel

    import core.models_registry  # noqa: F401  (every table)
    from core.db import make_engine
    from core.settings import Settings
    from directory.meeting_guide.importer import import_meeting_guide
    from directory.sources.service import add_source
    from directory.sources.sync import sync_source

    with tempfile.TemporaryDirectory(prefix="bench-feed-") as tmp:
        folder = Path(tmp)
        feed = folder / "feed.json"
        count = build_feed(size, feed)
        engine = make_engine(Settings(data_dir=folder), f"sqlite:///{folder / 'bench.sqlite3'}")
        SQLModel.metadata.create_all(engine)
        with Session(engine, expire_on_commit=False) as session:
            source = add_source(session=session, name="Orange County", location=str(feed), code="oc")
            first, outcome = timed(lambda: sync_source(session=session, source=source))
            report = outcome.report
            unchanged, skipped = timed(lambda: sync_source(session=session, source=source))
            reread, again = timed(lambda: import_meeting_guide(session=session, source=feed, feed=source))
            data = json.loads(feed.read_text(encoding="utf-8"))
            data[0]["name"] += " (moved)"
            feed.write_text(json.dumps(data), encoding="utf-8")
            one, changed = timed(lambda: sync_source(session=session, source=source))
        engine.dispose()
    return {
        "meetings": count,
        "first_import_s": first,
        "first_import_summary": report.summary() if report else outcome.summary,
        "unchanged_sync_s": unchanged,
        "unchanged_sync_status": skipped.status,
        "unchanged_reimport_s": reread,
        "unchanged_reimport_services_changed": again.services_changed,
        "one_change_sync_s": one,
        "one_change_services_changed": changed.report.services_changed if changed.report else None,
        "target_s": TARGET_SECONDS,
        "met": first <= TARGET_SECONDS,
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
    }


def write(result: dict[str, Any]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "feed_import.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    lines = [
        f"# Meeting Guide feed import ({result['meetings']:,} meetings)",
        "",
        f"Measured {result['measured_at']}, load average {result['load_average']}, {result['machine']}.",
        "",
        "| step | seconds | notes |",
        "|---|---|---|",
        f"| first import (sync of a new source) | {result['first_import_s']} | target <= {result['target_s']} s: "
        f"{'met' if result['met'] else 'NOT met'}; {result['first_import_summary']} |",
        f"| daily sync, feed unchanged | {result['unchanged_sync_s']} | {result['unchanged_sync_status']}: "
        "same content hash, no meeting read or written |",
        f"| re-import of the unchanged feed (full comparison) | {result['unchanged_reimport_s']} | "
        f"{result['unchanged_reimport_services_changed']} services changed |",
        f"| sync with one meeting renamed | {result['one_change_sync_s']} | "
        f"{result['one_change_services_changed']} service changed |",
        "",
    ]
    (RESULTS / "feed_import.md").write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--meetings", type=int, default=2038)
    result = run(parser.parse_args().meetings)
    write(result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
