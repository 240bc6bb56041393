"""bench/results/latest.json and a markdown report: both layouts side by side, each target met or missed.

Targets (issue 16): at 1M the sharded layout's edit -> searchable p95 <= 1 s, search p95 end to end <= 0.5 x
the single index's raw p95, throughput >= 3 x the single index's, full reindex <= 1.25 x a raw ingest of the
same documents, app and reindex process < 500 MB each, searches during a reindex never fail or come back
empty; at 100k search p95 <= 1.3 x single raw p95 + 3 ms and edit -> searchable p95 <= 0.5 s.
`bench/results/notes.md`, when present, is appended (what a missed target needs next).
"""

import json
from pathlib import Path
from typing import Any

from core.settings import PROJECT_ROOT

RESULTS = PROJECT_ROOT / "bench" / "results"
NOTES = RESULTS / "notes.md"
BIG = 1_000_000
MISSING = "n/a"


def _target(name: str, value: float, limit: float, rule: str, *, at_least: bool = False, strict: bool = False) -> Any:
    met = value >= limit if at_least else (value < limit if strict else value <= limit)
    return name, {"value": round(value, 2), "limit": round(limit, 2), "rule": rule, "met": met, "at_least": at_least}


def targets(size_result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    layouts = size_result.get("layouts", {})
    single, sharded = layouts.get("single"), layouts.get("sharded")
    big = size_result["listings"] >= BIG
    found: list[Any] = []
    if sharded and "e2e_ms" in sharded:
        edit_limit = 1000 if big else 500
        found.append(_target("edit_visible_p95", sharded["edit_visible_ms"]["p95"], edit_limit, f"<= {edit_limit} ms"))
        if single and "raw_ms" in single:
            raw = single["raw_ms"]["p95"]
            if big:
                found.append(_target("search_p95", sharded["e2e_ms"]["p95"], 0.5 * raw, "<= 0.5 x single raw p95"))
                rps = single["throughput"]["rps"]
                found.append(
                    _target("throughput", sharded["throughput"]["rps"], 3 * rps, ">= 3 x single", at_least=True)
                )
            else:
                found.append(
                    _target("search_p95", sharded["e2e_ms"]["p95"], 1.3 * raw + 3, "<= 1.3 x single raw + 3 ms")
                )
    if sharded and "reindex" in sharded:
        ratio_rule = "<= 1.25 x raw ingest (same layout)"
        found.append(
            _target("reindex", sharded["reindex"]["seconds"], 1.25 * sharded["raw_ingest_seconds"], ratio_rule)
        )
        found.append(_target("app_memory", _app_mb(sharded), 500, "< 500 MB", strict=True))
        found.append(_target("reindex_memory", sharded["reindex"]["peak_rss_mb"], 500, "< 500 MB", strict=True))
        probe = sharded["reindex"]["probe"]
        found.append(_target("searches_during_reindex", probe["failed"] + probe["empty"], 0, "0 failed, 0 empty"))
    return dict(found)


def _app_mb(r: dict[str, Any]) -> float:
    """The app while a reindex runs beside it, and its high-water mark when it built the index at startup (or
    when no reindex was measured)."""
    memory = r["app_rss_mb"]
    during = memory["peak_during_reindex"]  # MISSING when this layout's reindex was not measured
    peaks = [float(during)] if isinstance(during, int | float) else []
    if r.get("initial_build_seconds") is not None or not peaks:
        peaks.append(float(memory["high_water_mark"]))
    return max(peaks)


def write(results: dict[str, Any], out: Path = RESULTS) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    for size_result in results["sizes"].values():
        size_result["targets"] = targets(size_result)
    json_path, md_path = out / "latest.json", out / "latest.md"
    json_path.write_text(json.dumps(results, indent=2) + "\n")
    md_path.write_text(markdown(results))
    return json_path, md_path


def markdown(results: dict[str, Any]) -> str:
    env = results["environment"]
    lines = [
        "# Search benchmark",
        "",
        f"{results['generated_at']} · {env['cpus']} CPUs · {env['memory_gb']} GB RAM · Meilisearch "
        f"{env['meilisearch']} · Python {env['python']} · loopback only · `python -m bench.run`",
        "",
        "Two layouts of the same documents, measured one after the other in one run with the same query set: "
        "**single**, one index with `_geo` (the layout before regional shards), and **sharded**, a flat index "
        "without `_geo` plus regional shards (`search_shard_max_documents` per shard).",
        "",
    ]
    for size, r in results["sizes"].items():
        lines += _size_section(int(size), r)
    load = results.get("load_average_at_start"), results.get("load_average_at_end")
    lines += [
        f"Load average (1, 5, 15 min) {load[0]} at the start and {load[1]} at the end: the machine is shared, and "
        "the app, Meilisearch and the load generator compete for the same CPUs. latest.json has every figure, "
        "including per-query medians.",
        "",
    ]
    lines += _soak_section(out=RESULTS)
    if NOTES.is_file():
        lines += [NOTES.read_text().strip(), ""]
    return "\n".join(lines)


def _soak_section(out: Path) -> list[str]:
    """`python -m bench.soak`: a small deployment's memory while imports are indexed."""
    path = out / "soak_2k.json"
    if not path.is_file():
        return []
    soak = json.loads(path.read_text())
    lines = [
        f"## {soak['listings']:,} listings (`make run`): memory while 5-meeting imports are indexed",
        "",
        f"Measured {soak['measured_at']} (`python -m bench.soak`); target: app + embedded Meilisearch peak "
        f"<= {soak['target_mb']} MB.",
        "",
        "| embedded Meilisearch | imports | RSS before: app / Meilisearch | peak: app / Meilisearch / both | met |",
        "|---|---|---|---|---|",
    ]
    for run in soak["runs"]:
        label = (
            f"bounded ({soak['settings']['meili_max_indexing_memory_mb']} MiB indexing memory, the default)"
            if run["bounded"]
            else "Meilisearch's own defaults (`MEILI_MAX_INDEXING_MEMORY_MB=0`)"
        )
        peak, before = run["peak_rss_mb"], run["rss_before_mb"]
        met = "yes" if peak["both"] <= soak["target_mb"] else f"**no** (by {peak['both'] - soak['target_mb']:.0f} MB)"
        lines.append(
            f"| {label} | {run['imports']} in {run['seconds']:.0f} s | {before['app']} / {before['meilisearch']} MB "
            f"| {peak['app']} / {peak['meilisearch']} / {peak['both']} MB | {met} |"
        )
    return [*lines, ""]


def _size_section(size: int, r: dict[str, Any]) -> list[str]:
    layouts = r.get("layouts", {})
    names = [n for n in ("single", "sharded") if n in layouts]
    header = " | ".join(_layout_title(n, layouts[n]) for n in names)
    lines = [f"## {size:,} generated listings ({_documents(layouts)} documents)", ""]
    for name in names:
        lay = layouts[name]
        when = (
            f"measured {lay['measured_at']}, load average {lay.get('load_average')}" if lay.get("measured_at") else ""
        )
        again = (
            f"; reindex rows {lay['reindex_measured_at']}"
            if lay.get("reindex_measured_at") and lay.get("reindex_measured_at") != lay.get("measured_at")
            else ""
        )
        lines.append(f"- {name}: {when}{again}")
    lines += ["", f"| measure | {header} |", "|---|" + "---|" * len(names)]
    for label, cell in ROWS:
        lines.append(f"| {label} | " + " | ".join(_cell(cell, layouts[n]) for n in names) + " |")
    lines += ["", "| target (sharded layout) | value | limit | met |", "|---|---|---|---|"]
    for name, t in r.get("targets", {}).items():
        lines.append(f"| {name.replace('_', ' ')} ({t['rule']}) | {t['value']} | {t['limit']} | {_mark(t)} |")
    return [*lines, ""]


def _layout_title(name: str, lay: dict[str, Any]) -> str:
    return f"{name} ({lay.get('shards', 0)} shards of <= {lay['shard_size']:,})" if lay.get("shards") else name


def _documents(layouts: dict[str, Any]) -> str:
    counts = {lay.get("documents") for lay in layouts.values() if lay.get("documents")}
    return ", ".join(f"{c:,}" for c in sorted(counts)) or "?"


def _get(lay: dict[str, Any], *path: str) -> Any:
    value: Any = lay
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return MISSING
        value = value[key]
    return value


def _pair(lay: dict[str, Any], key: str, unit: str = " ms") -> str:
    return f"{_get(lay, key, 'p50')} / {_get(lay, key, 'p95')}{unit}"


ROWS: list[tuple[str, Any]] = [
    ("search p50 / p95, end to end `GET /api/v1/search`", lambda lay: _pair(lay, "e2e_ms")),
    ("search p50 / p95, raw Meilisearch (the same requests)", lambda lay: _pair(lay, "raw_ms")),
    (
        "throughput, 8 clients (p95)",
        lambda lay: (
            f"{_get(lay, 'throughput', 'rps')} req/s ({_get(lay, 'throughput', 'latency_ms', 'p95')} ms, "
            f"{_get(lay, 'throughput', 'errors')} errors)"
        ),
    ),
    ("edit → searchable by words and by place, p50 / p95", lambda lay: _pair(lay, "edit_visible_ms")),
    (
        "of which Meilisearch's one-document task: flat/one index p50 / p95",
        lambda lay: _pair(lay, "edit_meilisearch_task_ms"),
    ),
    (
        "… and the shard's task p50 / p95",
        lambda lay: _pair(lay, "edit_shard_task_ms") if lay.get("edit_shard_task_ms") else MISSING,
    ),
    (
        "full reindex (new indexes, swap, replay)",
        lambda lay: (
            f"{_get(lay, 'reindex', 'seconds')} s (building documents {_get(lay, 'reindex', 'build_seconds')} s)"
        ),
    ),
    ("raw batched ingest of the same documents, same layout", lambda lay: f"{_get(lay, 'raw_ingest_seconds')} s"),
    (
        "reindex / raw ingest",
        lambda lay: f"{lay['reindex']['seconds'] / lay['raw_ingest_seconds']:.2f} x" if lay.get("reindex") else MISSING,
    ),
    (
        "peak RSS: app / reindex process / Meilisearch during reindex",
        lambda lay: (
            f"{_app_mb(lay) if lay.get('app_rss_mb') else MISSING} / {_get(lay, 'reindex', 'peak_rss_mb')} / "
            f"{_get(lay, 'meilisearch_rss_mb', 'peak_during_reindex')} MB"
        ),
    ),
    (
        "Meilisearch high-water mark (since the app started)",
        lambda lay: f"{_get(lay, 'meilisearch_rss_mb', 'high_water_mark')} MB",
    ),
    (
        "searches during reindex: ok / failed / empty",
        lambda lay: (
            f"{_get(lay, 'reindex', 'probe', 'ok')} / {_get(lay, 'reindex', 'probe', 'failed')} / "
            f"{_get(lay, 'reindex', 'probe', 'empty')}"
        ),
    ),
    (
        "initial build by the starting app",
        lambda lay: f"{lay['initial_build_seconds']} s" if lay.get("initial_build_seconds") is not None else "(reused)",
    ),
]


def _cell(cell: Any, lay: dict[str, Any]) -> str:
    try:
        return str(cell(lay))
    except (KeyError, TypeError, ZeroDivisionError):
        return MISSING


def _mark(target: dict[str, Any]) -> str:
    if target.get("met"):
        return "yes"
    value, limit = target["value"], target["limit"]
    if target.get("at_least"):
        return f"**no** ({value / limit:.2f} of the target)" if limit else "**no**"
    return f"**no** ({value - limit:.2f} over, {value / limit:.2f} x the limit)" if limit else f"**no** ({value})"
