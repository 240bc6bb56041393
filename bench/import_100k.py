"""Measure an HSDS CSV import of generated listings (100,000 by default) into an empty SQLite database.

    .venv/bin/python -m bench.import_100k [--size 100000] [--seed 42]

1. Generate SIZE listings with `seed_data.load.load_generated` into bench/data/hsds-<size>/source.sqlite3
   (reused by later runs).
2. Export them as an HSDS CSV package (`directory.hsds.export.export_hsds`).
3. Import the package into an empty SQLite database (`directory.hsds.importer.import_hsds`).

Every step runs in a child process started by this small parent (Linux carries a process's peak RSS across
fork and exec, so a big parent would inflate its children's `ru_maxrss`); each child reports its own peak
(`resource.getrusage(RUSAGE_SELF).ru_maxrss`, cross-checked with /proc/self/status VmHWM) and its baseline
after its imports. Results go to bench/results/import_<size>.md. Not part of the test suite.
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
RESULTS = PROJECT / "bench" / "results"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _hwm_mb() -> float | None:
    status = Path("/proc/self/status")
    if not status.exists():
        return None
    for line in status.read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


def _engine(path: Path) -> Any:
    from sqlmodel import SQLModel

    import core.models_registry  # noqa: F401  (every table)
    from core.db import make_engine
    from core.settings import Settings

    engine = make_engine(Settings(data_dir=path.parent), f"sqlite:///{path}")
    SQLModel.metadata.create_all(engine)
    return engine


def generate(folder: Path, size: int, seed: int) -> dict[str, Any]:
    from seed_data.load import load_generated

    marker = folder / "READY.json"
    if marker.is_file() and json.loads(marker.read_text()) == {"size": size, "seed": seed}:
        return {"reused": True}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "source.sqlite3").unlink(missing_ok=True)
    started = time.perf_counter()
    load_generated(engine=_engine(folder / "source.sqlite3"), size=size, seed=seed, progress=sys.stderr.isatty())
    marker.write_text(json.dumps({"size": size, "seed": seed}))
    return {"reused": False, "seconds": round(time.perf_counter() - started, 1)}


def step_export(folder: Path) -> dict[str, Any]:
    from directory.hsds.export import export_hsds

    engine = _engine(folder / "source.sqlite3")
    baseline = _rss_mb()
    started = time.perf_counter()
    summary = export_hsds(engine=engine, out=folder / "csv", fmt="csv")
    seconds = time.perf_counter() - started
    load = round(os.getloadavg()[1], 1)
    return {
        "seconds": round(seconds, 1), "peak_rss_mb": round(_rss_mb(), 1), "vm_hwm_mb": _hwm_mb(),
        "baseline_rss_mb": round(baseline, 1), "rows": sum(summary.files.values()), "files": summary.files,
        "load_average_5min": load,
    }  # fmt: skip


def step_import(folder: Path) -> dict[str, Any]:
    from directory.hsds.importer import import_hsds

    target = folder / "target.sqlite3"
    for leftover in folder.glob("target.sqlite3*"):
        leftover.unlink()
    engine = _engine(target)
    baseline = _rss_mb()
    started = time.perf_counter()
    report = import_hsds(engine=engine, path_or_files=folder / "csv")
    seconds = time.perf_counter() - started
    load = round(os.getloadavg()[1], 1)
    return {
        "seconds": round(seconds, 1), "peak_rss_mb": round(_rss_mb(), 1), "vm_hwm_mb": _hwm_mb(),
        "baseline_rss_mb": round(baseline, 1), "load_average_5min": load,
        "ok": report.ok, "rows": report.rows_read, "services_with_outbox_row": report.services_changed,
        "summary": report.summary(), "problems": [str(p) for p in report.problems[:5]],
        "database_mb": round(target.stat().st_size / 2**20, 1),
    }  # fmt: skip


def _child(step: str, folder: Path, *extra: str) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.import_100k", "--step", step, "--folder", str(folder), *extra]
    done = subprocess.run(command, cwd=PROJECT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{step} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _line(label: str, step: dict[str, Any]) -> str:
    memory = f"{step['peak_rss_mb']} MB | {step['vm_hwm_mb']} MB | {step['baseline_rss_mb']} MB"
    return f"| {label} | {step['seconds']} s | {memory} | {step['rows']:,} | {step['load_average_5min']} |"


def _report(size: int, generated: dict[str, Any], exported: dict[str, Any], imported: dict[str, Any]) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    rate = imported["rows"] / imported["seconds"] if imported["seconds"] else 0
    made = "reused" if generated.get("reused") else f"{generated['seconds']} s"
    return f"""# HSDS import of {size:,} generated listings

{when} · {os.cpu_count()} CPUs · {memory:.1f} GB RAM · Python {platform.python_version()} · SQLite (WAL) ·
`python -m bench.import_100k --size {size}`

Source: `seed_data.load.load_generated(size={size:,})` ({made}), exported with `export-hsds --format csv`,
imported with `import_hsds` into an empty SQLite database: validation pass, then one transaction.

| step | wall time | peak RSS (ru_maxrss) | VmHWM | RSS after imports | rows | 5-min load at the end |
|---|---|---|---|---|---|---|
{_line("export to CSV", exported)}
{_line("import from CSV", imported)}

Import: {rate:,.0f} rows/s; {imported["services_with_outbox_row"]:,} services given an outbox row;
resulting database {imported["database_mb"]} MB; ok = {imported["ok"]}.

`{imported["summary"]}`

Each step runs in its own process, so its peak RSS is its own. Numbers come from one run on a shared
machine.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--step", choices=["generate", "export", "import"])
    parser.add_argument("--folder", type=Path)
    args = parser.parse_args()
    if args.step:
        steps = {"export": step_export, "import": step_import}
        found = (
            generate(args.folder, args.size, args.seed) if args.step == "generate" else steps[args.step](args.folder)
        )
        print(json.dumps(found))
        return
    folder = PROJECT / "bench" / "data" / f"hsds-{args.size}"
    generated = _child("generate", folder, "--size", str(args.size), "--seed", str(args.seed))
    exported = _child("export", folder)
    imported = _child("import", folder)
    RESULTS.mkdir(parents=True, exist_ok=True)
    label = "100k" if args.size == 100_000 else str(args.size)
    (RESULTS / f"import_{label}.md").write_text(_report(args.size, generated, exported, imported))
    (RESULTS / f"import_{label}.json").write_text(json.dumps({"generated": generated, "export": exported,
                                                               "import": imported}, indent=2) + "\n")  # fmt: skip
    print(json.dumps({"export": exported, "import": imported}, indent=2))


if __name__ == "__main__":
    main()
