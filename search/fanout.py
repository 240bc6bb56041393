"""One search over several indexes: send the queries (one multi-search per server, servers in parallel),
then merge each query's per-shard results into what one index holding all their documents would answer.

Shards are disjoint, so totals and facet counts add up exactly. Hits are merged on the key Meilisearch
itself ranks by: the ranking score details of each ranking rule in order (words, the distance of a geo sort,
typo, proximity, attribute, exactness, then the custom rules `verified_day:desc` and `id:asc`). The last
rule makes the order total, so no tie is left to the internal document order of one index.
"""

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import total_ordering
from typing import Any

from search.index_spec import MAX_FACET_VALUES, MAX_TOTAL_HITS
from search.layout import MultiSearch

DETAILS = "_rankingScoreDetails"


@dataclass(frozen=True)
class Target:
    """One index on one server."""

    client: MultiSearch
    uid: str


@total_ordering
class _Reversed:
    """Orders a value backwards (a descending custom ranking rule on text)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reversed) and self.value == other.value

    def __lt__(self, other: "_Reversed") -> bool:
        return bool(other.value < self.value)

    def __hash__(self) -> int:
        return hash(self.value)


def rank_key(hit: Mapping[str, Any]) -> tuple[Any, ...]:
    """Smaller ranks first: one entry per ranking rule that decided something, in the rules' order."""
    parts: list[tuple[int, Any]] = []
    details = hit.get(DETAILS) or {}
    for name, rule in sorted(details.items(), key=lambda item: item[1].get("order", 0)):
        if "distance" in rule:  # a geo sort (always ascending here)
            parts.append((0, rule["distance"]))
        elif "score" in rule:
            parts.append((0, -rule["score"]))
        elif rule.get("value") is not None:
            value = rule["value"]
            if name.endswith(":desc"):
                value = -value if isinstance(value, int | float) else _Reversed(value)
            parts.append((0, value))
        else:  # documents without the sorted field come after those with it, as in Meilisearch
            parts.append((1, 0))
    return tuple(parts)


def merge_hits(results: Sequence[Mapping[str, Any]], limit: int) -> list[tuple[int, dict[str, Any]]]:
    """The first `limit` hits of all results in rank order, each with the position of the result it came from."""
    tagged = [(rank_key(hit), n, hit) for n, result in enumerate(results) for hit in result.get("hits", [])]
    tagged.sort(key=lambda entry: entry[0])
    return [(n, hit) for _, n, hit in tagged[:limit]]


def total_hits(results: Sequence[Mapping[str, Any]]) -> int:
    """The sum of the shards' totals, capped as one index caps it (`maxTotalHits`)."""
    return min(MAX_TOTAL_HITS, sum(int(r.get("totalHits", 0)) for r in results))


def facet_counts(results: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """Counts added up per facet value; as in one index, at most `maxValuesPerFacet` values, the first by name.

    Exact: a value among the first N by name overall is among the first N of every shard that has it.
    """
    summed: dict[str, dict[str, int]] = {}
    for result in results:
        for facet, counts in (result.get("facetDistribution") or {}).items():
            into = summed.setdefault(facet, {})
            for value, count in counts.items():
                into[value] = into.get(value, 0) + int(count)
    return {
        facet: dict(sorted(counts.items(), key=lambda kv: kv[0].lower())[:MAX_FACET_VALUES])
        for facet, counts in summed.items()
    }


def run(queries: Sequence[tuple[MultiSearch, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Every query's result, in order: one multi-search request per server, the servers asked in parallel."""
    if not queries:
        return []
    batches: dict[int, tuple[MultiSearch, list[int]]] = {}
    for n, (client, _) in enumerate(queries):
        batches.setdefault(id(client), (client, []))[1].append(n)
    results: list[dict[str, Any]] = [{} for _ in queries]
    failures: list[BaseException] = []

    def ask(client: MultiSearch, positions: list[int]) -> None:
        try:
            answered = client.multi_search([queries[n][1] for n in positions])["results"]
        except BaseException as exc:  # re-raised in the caller's thread below
            failures.append(exc)
            return
        for n, result in zip(positions, answered, strict=True):
            results[n] = result

    first, *others = batches.values()
    threads = [threading.Thread(target=ask, args=batch, daemon=True) for batch in others]
    for thread in threads:
        thread.start()
    ask(*first)
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return results
