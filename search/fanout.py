"""One search over several indexes: send the queries (one multi-search per server, servers in parallel),
then merge each query's per-shard results into what one index holding all their documents would answer.

Shards are disjoint, so totals and facet counts add up exactly. Hits are merged on the key Meilisearch
itself ranks by: the ranking score details of each ranking rule in order (words, the distance of a geo sort,
typo, proximity, attribute, exactness, then the custom rules `verified_day:desc` and `id:asc`). The last
rule makes the order total, so no tie is left to the internal document order of one index.
"""

import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import total_ordering
from typing import Any

from search.index_spec import MAX_FACET_VALUES, MAX_TOTAL_HITS
from search.layout import MultiSearch

DETAILS = "_rankingScoreDetails"
GEO_RULE = "_geoPoint("
GEO_MARGIN_M = 1.0  # Meilisearch's geo sort ranks distances this close as equal
EARTH_RADIUS_M = 6_371_000.0


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


def rank_key(hit: Mapping[str, Any], point: tuple[float, float] | None = None) -> tuple[Any, ...]:
    """Smaller ranks first: one entry per ranking rule that decided something, in the rules' order.

    For a geo sort the entry is the hit's own distance from `point` (a shard reports the distance of the
    first listing of the group it ranked the hit in, see `merge_hits`).
    """
    parts: list[tuple[int, Any]] = []
    details = hit.get(DETAILS) or {}
    for name, rule in sorted(details.items(), key=lambda item: item[1].get("order", 0)):
        if name.startswith(GEO_RULE):  # always ascending here
            geo = hit.get("_geo")
            parts.append((0, metres(point, geo) if point and geo else rule.get("distance", math.inf)))
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


def merge_hits(
    results: Sequence[Mapping[str, Any]], limit: int, point: tuple[float, float] | None = None
) -> list[tuple[int, dict[str, Any]]]:
    """The first `limit` hits of all results in rank order, each with the position of the result it came from.

    With a geo sort (`point`), Meilisearch ranks listings less than a metre apart in distance as equals and
    lets the next rules order them; their distances are compared the same way here, since such listings
    may sit in different shards (two listings at mirror positions around the searched point).
    """
    tagged = [(rank_key(hit, point), n, hit) for n, result in enumerate(results) for hit in result.get("hits", [])]
    tagged.sort(key=lambda entry: entry[0])
    if point is not None and tagged:
        tagged = _within_a_metre(tagged, _geo_position(tagged[0][2]))
    return [(n, hit) for _, n, hit in tagged[:limit]]


def _geo_position(hit: Mapping[str, Any]) -> int:
    rules = sorted((rule.get("order", 0), name) for name, rule in (hit.get(DETAILS) or {}).items())
    return next(n for n, (_, name) in enumerate(rules) if name.startswith(GEO_RULE))


def _within_a_metre(tagged: list[Any], at: int) -> list[Any]:
    """Re-sort each run of hits whose distance is within `GEO_MARGIN_M` of the run's first by the later rules."""
    regrouped: list[Any] = []
    start = 0
    while start < len(tagged):
        head = tagged[start][0]
        end = start + 1
        while (
            end < len(tagged)
            and tagged[end][0][:at] == head[:at]
            and tagged[end][0][at][1] - head[at][1] <= GEO_MARGIN_M
        ):
            end += 1
        regrouped += sorted(tagged[start:end], key=lambda entry: entry[0][at + 1 :])
        start = end
    return regrouped


def metres(point: tuple[float, float], geo: Mapping[str, Any]) -> float:
    """Haversine distance on a sphere of 6,371 km, as Meilisearch measures for `_geoPoint` sorts."""
    lat1, lat2 = math.radians(point[0]), math.radians(float(geo["lat"]))
    half = (1 - math.cos(lat2 - lat1)) / 2
    half += math.cos(lat1) * math.cos(lat2) * (1 - math.cos(math.radians(float(geo["lng"]) - point[1]))) / 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(half))


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
