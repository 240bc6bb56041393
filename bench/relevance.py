"""Relevance benchmark: judged queries on the curated sample data, scored as success@3 and nDCG@10.

`python -m bench.relevance` loads `seed_data/curated.json` into a scratch SQLite database, builds the index
in a scratch embedded Meilisearch, runs every query of `bench/relevance_queries.json` the way the results
page runs it (the words read by `search.understanding`, then `search.query.search`) and, for comparison,
with the words taken literally, and writes `bench/results/relevance.json` and `.md`.

- success@3: the share of queries with a listing judged "should come first" (grade 2) in the top 3.
- nDCG@10: discounted cumulative gain of the top 10 (gain 2^grade - 1), over the best possible order.

Listings are judged by identity (their curated key), so a change of ranking is scored, not compared with a
recorded output. With a place, the ranked list is the main (in-person) results; without one, every listing.
`tests/search/test_relevance.py` keeps a floor under both figures.
"""

import json
import math
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import meilisearch
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from directory.listings.rows import service_id
from search import filters, understanding
from search.layout import SearchTarget
from search.query import search
from seed_data.load import CURATED_PATH

QUERIES = Path(__file__).with_name("relevance_queries.json")
RESULTS = Path(__file__).with_name("results")
SUCCESS_K, NDCG_K = 3, 10
FIRST = 2  # the grade of a listing that should come first


@dataclass(frozen=True)
class Judged:
    id: str
    q: str
    at: str
    tz: str
    relevant: dict[str, int]
    near: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def raw(self) -> dict[str, Any]:
        return {"q": self.q, "near": self.near, "at": self.at, "tz": self.tz, **self.params}


def curated_keys(path: Path = CURATED_PATH) -> dict[str, str]:
    """Service id (as the index stores it) -> the curated key it was loaded from."""
    data = json.loads(path.read_text(encoding="utf-8"))
    keys = [svc["key"] for org in data["organizations"] for svc in org["services"]]
    return {str(service_id(f"curated:{key}")): key for key in keys}


def load_judged(path: Path = QUERIES) -> list[Judged]:
    data = json.loads(path.read_text(encoding="utf-8"))
    defaults, known = data["defaults"], set(curated_keys().values())
    judged = []
    for entry in data["queries"]:
        unknown = set(entry["relevant"]) - known
        if unknown or not any(g == FIRST for g in entry["relevant"].values()):
            raise ValueError(f"query {entry['id']}: unknown keys {sorted(unknown)} or nothing graded {FIRST}")
        judged.append(Judged(**({"at": defaults["at"], "tz": defaults["tz"]} | entry)))
    if len({j.id for j in judged}) != len(judged):
        raise ValueError("query ids must be unique")
    return judged


def ranked(judged: Judged, *, target: SearchTarget, timezones: Sequence[str], understand: bool) -> list[str]:
    """The curated keys of the listings found, best first (the first page of 20)."""
    params = filters.parse_params(judged.raw())
    now = params.at or datetime.fromisoformat(judged.at)
    if understand:
        params, _ = understanding.read(params, tz_given=True, now=now)
    result = search(target=target, params=params, timezones=timezones, now=now)
    keys = curated_keys()
    return [keys.get(str(hit["service_id"]), str(hit["service_id"])) for hit in result.hits]


def success_at(found: Sequence[str], relevant: dict[str, int], k: int = SUCCESS_K) -> float:
    return 1.0 if any(relevant.get(key) == FIRST for key in found[:k]) else 0.0


def ndcg_at(found: Sequence[str], relevant: dict[str, int], k: int = NDCG_K) -> float:
    def dcg(grades: Sequence[int]) -> float:
        return sum((2**g - 1) / math.log2(rank + 2) for rank, g in enumerate(grades[:k]))

    ideal = dcg(sorted(relevant.values(), reverse=True))
    return dcg([relevant.get(key, 0) for key in found]) / ideal if ideal else 0.0


def evaluate(*, target: SearchTarget, timezones: Sequence[str], understand: bool = True) -> dict[str, Any]:
    """Every judged query run and scored; the means as `success_at_3` and `ndcg_at_10`."""
    rows: list[dict[str, Any]] = []
    for judged in load_judged():
        found = ranked(judged, target=target, timezones=timezones, understand=understand)
        rows.append(
            {
                "id": judged.id,
                "q": judged.q,
                "near": judged.near,
                "top": found[:NDCG_K],
                "success_at_3": success_at(found, judged.relevant),
                "ndcg_at_10": round(ndcg_at(found, judged.relevant), 4),
            }
        )
    return {
        "queries": len(rows),
        "success_at_3": round(sum(r["success_at_3"] for r in rows) / len(rows), 4),
        "ndcg_at_10": round(sum(r["ndcg_at_10"] for r in rows) / len(rows), 4),
        "per_query": rows,
    }


def _markdown(results: dict[str, Any]) -> str:
    read: dict[str, Any] = results["understood"]
    literal: dict[str, Any] = results["literal"]
    lines = [
        "# Relevance on the curated sample data",
        "",
        f"{read['queries']} judged queries (`bench/relevance_queries.json`), measured {results['measured_at']}"
        " by `python -m bench.relevance`.",
        "",
        "| | success@3 | nDCG@10 |",
        "|---|---|---|",
        f"| as the results page reads them (query understanding) | {read['success_at_3']:.3f} | "
        f"{read['ndcg_at_10']:.3f} |",
        f"| words taken literally | {literal['success_at_3']:.3f} | {literal['ndcg_at_10']:.3f} |",
        "",
        "## Per query (query understanding)",
        "",
        "| id | q | near | success@3 | nDCG@10 | literal nDCG@10 |",
        "|---|---|---|---|---|---|",
    ]
    plain = {r["id"]: r for r in literal["per_query"]}
    for r in read["per_query"]:
        lines.append(
            f"| {r['id']} | {r['q']} | {r['near'] or ''} | {r['success_at_3']:.0f} | {r['ndcg_at_10']:.3f} | "
            f"{plain[r['id']]['ndcg_at_10']:.3f} |"
        )
    return "\n".join(lines) + "\n"


def build(engine: Engine, client: meilisearch.Client, prefix: str) -> SearchTarget:
    """The curated listings in the database and in fresh indexes of `prefix`."""
    from directory.listings.service import ensure_taxonomy
    from search.layout import Indexes
    from search.reindex import reindex
    from seed_data.load import load_curated

    with Session(engine) as session:
        ensure_taxonomy(session=session)
        load_curated(session=session)
    reindex(engine=engine, indexes=Indexes(prefix=prefix, home=client))
    return SearchTarget(prefix=prefix, home=client)


def main() -> None:
    import core.models_registry  # noqa: F401  (every table on SQLModel.metadata)
    from core.clock import utcnow
    from core.db import make_engine
    from core.settings import Settings
    from search.embedded import start_embedded
    from search.query import ZoneCache

    with tempfile.TemporaryDirectory(prefix="relevance-") as scratch:
        settings = Settings(data_dir=Path(scratch), embedded_workers=False)
        engine = make_engine(settings, f"sqlite:///{scratch}/relevance.sqlite3")
        SQLModel.metadata.create_all(engine)
        server = start_embedded(settings)
        try:
            target = build(engine, meilisearch.Client(server.url, server.api_key), "relevance")
            zones = ZoneCache(engine).get()
            results: dict[str, Any] = {
                "measured_at": utcnow().isoformat(timespec="seconds"),
                "understood": evaluate(target=target, timezones=zones, understand=True),
                "literal": evaluate(target=target, timezones=zones, understand=False),
            }
        finally:
            server.stop()
            engine.dispose()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "relevance.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (RESULTS / "relevance.md").write_text(_markdown(results), encoding="utf-8")
    for mode in ("understood", "literal"):
        print(f"{mode}: success@3 {results[mode]['success_at_3']:.3f}, nDCG@10 {results[mode]['ndcg_at_10']:.3f}")


if __name__ == "__main__":
    main()
