"""bench/results/latest.json and a short markdown table with each target and whether it was met."""

import json
from pathlib import Path
from typing import Any

from core.settings import PROJECT_ROOT

RESULTS = PROJECT_ROOT / "bench" / "results"


def targets(size_result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    e2e, raw = size_result["e2e_ms"]["p95"], size_result["raw_ms"]["p95"]
    reindex, ingest = size_result["reindex"]["seconds"], size_result["raw_ingest_seconds"]
    # Whichever process reindexes stays under the limit: the app while a reindex runs beside it, the
    # reindex process itself, and the app's high-water mark when it built the index at startup this run.
    memory = size_result["app_rss_mb"]
    app_mb = max(memory["peak_during_reindex"], size_result["reindex"]["peak_rss_mb"])
    if size_result.get("initial_build_seconds") is not None:
        app_mb = max(app_mb, memory["high_water_mark"])
    edit = size_result["edit_visible_ms"]["p95"]
    # The issue: <= 1.3 x raw p95 + 3 ms at 100k, "<= 1.2 x at 1M" (read as the same rule with 1.2).
    factor = 1.2 if size_result["listings"] >= 1_000_000 else 1.3
    return {
        "e2e_p95_vs_raw": {
            "value": e2e,
            "limit": round(factor * raw + 3, 2),
            "rule": f"e2e p95 <= {factor} x raw p95 + 3 ms",
        },
        "reindex_vs_raw_ingest": {
            "value": reindex,
            "limit": round(1.25 * ingest, 2),
            "rule": "reindex <= 1.25 x raw ingest",
        },
        "app_memory_during_reindex": {"value": app_mb, "limit": 500, "rule": "RSS < 500 MB during reindex"},
        "edit_visible_p95": {"value": edit, "limit": 2000, "rule": "edit searchable p95 <= 2 s"},
    }


def write(results: dict[str, Any], out: Path = RESULTS) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    for size_result in results["sizes"].values():
        size_result["targets"] = {
            name: {
                **t,
                "met": t["value"] <= t["limit"] if name != "app_memory_during_reindex" else t["value"] < t["limit"],
            }
            for name, t in targets(size_result).items()
        }
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
    ]
    for size, r in results["sizes"].items():
        lines += [
            f"## {int(size):,} generated listings ({r['documents']:,} documents)",
            "",
            *(
                [f"Measured {r['measured_at']}; load average at the start {r.get('load_average')}.", ""]
                if r.get("measured_at")
                else []
            ),
            *(
                [
                    f"The reindex and raw ingest rows were measured again on {r['reindex_measured_at']} "
                    f"(`--only-reindex`, {r['reindex'].get('workers')} document-building process).",
                    "",
                ]
                if r.get("reindex_measured_at", r.get("measured_at")) != r.get("measured_at")
                else []
            ),
            "| measure | value | target | met |",
            "|---|---|---|---|",
        ]
        t = r["targets"]
        task = r.get("edit_meilisearch_task_ms") or {}
        lines += [
            f"| search p50 / p95, end to end `GET /api/v1/search` | {r['e2e_ms']['p50']} / {r['e2e_ms']['p95']} ms "
            f"| p95 <= {t['e2e_p95_vs_raw']['limit']} ms | {_mark(t['e2e_p95_vs_raw'])} |",
            f"| search p50 / p95, raw Meilisearch (same requests) | {r['raw_ms']['p50']} / {r['raw_ms']['p95']} ms "
            "| reference | |",
            f"| full reindex (new index, swap, replay) | {r['reindex']['seconds']} s, of which building documents "
            f"{r['reindex'].get('build_seconds', '?')} s "
            f"| <= {t['reindex_vs_raw_ingest']['limit']} s | {_mark(t['reindex_vs_raw_ingest'])} |",
            f"| raw batched ingest of the same documents | {r['raw_ingest_seconds']} s | reference | |",
            f"| memory during reindex: app (sampled) / reindex process (peak) | "
            f"{r['app_rss_mb']['peak_during_reindex']} / {r['reindex']['peak_rss_mb']} MB | < 500 MB "
            f"| {_mark(t['app_memory_during_reindex'])} |",
            f"| searches during reindex: ok / failed / empty | {r['reindex']['probe']['ok']} / "
            f"{r['reindex']['probe']['failed']} / {r['reindex']['probe']['empty']} | 0 failed, 0 empty "
            f"| {'yes' if not r['reindex']['probe']['failed'] and not r['reindex']['probe']['empty'] else 'no'} |",
            f"| edit → searchable p50 / p95 ({r['edit_visible_ms']['n']} edits) | {r['edit_visible_ms']['p50']} / "
            f"{r['edit_visible_ms']['p95']} ms | p95 <= 2000 ms | {_mark(t['edit_visible_p95'])} |",
            f"| of which Meilisearch indexing the one-document update, p50 / p95 | {task.get('p50')} / "
            f"{task.get('p95')} ms | reference | |",
            f"| throughput, {r['throughput']['clients']} clients x {r['throughput']['seconds']} s | "
            f"{r['throughput']['rps']} req/s (p95 {r['throughput']['latency_ms']['p95']} ms, "
            f"{r['throughput']['errors']} errors) | | |",
            "",
        ]
        overhead = r.get("app_overhead_p50_ms") or {}
        lines += [
            f"App overhead per query (median of e2e - raw): {overhead.get('without_near')} ms without `near`, "
            f"{overhead.get('with_near')} ms with `near` (a ZIP or city to geocode).",
            "",
        ]
        if r.get("initial_build_seconds") is not None:
            lines += [
                f"Initial index build by the starting app: {r['initial_build_seconds']} s "
                f"(app peak RSS {r['app_rss_mb']['high_water_mark']} MB).",
                "",
            ]
    load = results.get("load_average_at_start"), results.get("load_average_at_end")
    lines += [
        f"One run; load average (1, 5, 15 min) {load[0]} at the start and {load[1]} at the end: on a shared "
        "machine the app, Meilisearch and the load generator compete for the same CPUs. See latest.json for "
        "every figure, including per-query medians.",
        "",
    ]
    return "\n".join(lines)


def _mark(target: dict[str, Any]) -> str:
    return "yes" if target.get("met") else "**no**"
