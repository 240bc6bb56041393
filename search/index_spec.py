"""The listings index: its name and settings, declared in code and applied by the reindex command only."""

from typing import Any

import meilisearch
from meilisearch.errors import MeilisearchApiError
from meilisearch.models.task import Task

SETTINGS_TIMEOUT_MS = 60_000
PRIMARY_KEY = "id"  # pass it to add_documents too: documents also carry service_id and organization_id


class IndexTaskFailed(RuntimeError):
    """A Meilisearch task ended in a state other than `succeeded`."""


def index_name(prefix: str) -> str:
    """The live listings index uid."""
    return f"{prefix}_listings"


# Mutual synonym groups: every entry finds the others. Multi-word entries work in Meilisearch.
SYNONYM_GROUPS: tuple[tuple[str, ...], ...] = (
    ("aa", "alcoholics anonymous"),
    ("na", "narcotics anonymous"),
    ("ca", "cocaine anonymous"),
    ("cma", "crystal meth anonymous"),
    ("ga", "gamblers anonymous"),
    ("oa", "overeaters anonymous"),
    ("al-anon", "alanon", "al anon"),
    # Meilisearch matches a query phrase of at most 3 words against a synonym key: longer entries still
    # work as targets ("mat" also finds "medication for opioid use disorder"), not as what is typed.
    ("mat", "moud", "medication-assisted treatment", "medication assisted treatment", "opioid use disorder", "oud",
     "medication for opioid use disorder", "buprenorphine", "suboxone", "subutex"),
    ("food bank", "pantry", "food pantry", "food shelf"),
    ("free meals", "soup kitchen", "hot meals"),
    ("ride", "rides", "transportation", "transport"),
    ("detox", "withdrawal management"),
    ("naloxone", "narcan"),
    ("iop", "intensive outpatient"),
    ("sober living", "sober house", "recovery residence"),
    ("counseling", "counselling", "therapy"),
)  # fmt: skip
# One-way: searching the key also finds these (methadone clinics are MAT, but not every MAT is methadone).
ONE_WAY_SYNONYMS: dict[str, tuple[str, ...]] = {
    "mat": ("methadone", "naltrexone", "vivitrol"),
    "moud": ("methadone", "naltrexone", "vivitrol"),
    "medication-assisted treatment": ("methadone", "naltrexone", "vivitrol"),
    "vivitrol": ("naltrexone",),
}


def synonyms() -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for group in SYNONYM_GROUPS:
        for word in group:
            result.setdefault(word, []).extend(w for w in group if w != word)
    for word, extra in ONE_WAY_SYNONYMS.items():
        result.setdefault(word, []).extend(extra)
    return {word: list(dict.fromkeys(found)) for word, found in result.items()}


SEARCHABLE = [
    "name", "alternate_name", "fellowship_name", "group_name", "category_names", "organization",
    "organization_alternate_name", "location_name", "city", "postal_code", "language_names",
    "broader_category_names", "description",
]  # fmt: skip
FILTERABLE = [
    "categories", "kind", "fellowship", "types", "attendance", "languages", "accessibility", "cost", "status",
    "capacity", "timezone", "days", "start_minutes", "start_of_day", "open_blocks", "has_schedule",
    "service_id", "organization_id", "id", "_geo", "regions",
]  # fmt: skip
# Only these take range filters (`a TO b`); every other field is matched by equality. No field needs facet
# search. Declaring just that (granular filterable attributes) spares Meilisearch the range trees and the
# facet-search structures: a fifth less indexing time, and a one-document update costs less. `_geo` stays a
# plain entry: Meilisearch only enables `_geoRadius` for it that way.
RANGE_FILTERABLE = ("start_minutes", "start_of_day")


def _filterable_setting() -> list[str | dict[str, Any]]:
    def features(comparison: bool) -> dict[str, Any]:
        return {"facetSearch": False, "filter": {"equality": True, "comparison": comparison}}

    equality = [f for f in FILTERABLE if f not in RANGE_FILTERABLE and f != "_geo"]
    return [
        "_geo",
        {"attributePatterns": equality, "features": features(False)},
        {"attributePatterns": list(RANGE_FILTERABLE), "features": features(True)},
    ]


def filterable_names(setting: list[Any] | None = None) -> set[str]:
    """Attribute names of a filterableAttributes setting (plain names or granular objects)."""
    names: set[str] = set()
    for entry in INDEX_SETTINGS["filterableAttributes"] if setting is None else setting:
        names.update([entry] if isinstance(entry, str) else entry["attributePatterns"])
    return names


MAX_FACET_VALUES = 200
FACETS = [
    "categories", "fellowship", "types", "attendance", "languages", "accessibility", "cost", "days", "regions",
]  # fmt: skip
MAX_TOTAL_HITS = 10_000

RANKING_RULES = [
    *("words", "closed:asc", "sort", "typo", "proximity", "attribute", "exactness"),
    *("verified_day:desc", "id:asc"),
]

INDEX_SETTINGS: dict[str, Any] = {
    "searchableAttributes": SEARCHABLE,
    "filterableAttributes": _filterable_setting(),
    "sortableAttributes": ["_geo", "first_start", "name"],
    # `sort` right after `words`: with sort=distance, every listing matching the words is ordered by distance.
    # `id:asc` last makes the order total: results merged from several shards come in the order one index
    # would give them, and paging stays stable across a reindex (`id` is filterable already: no new data).
    # `closed:asc` before `sort`: a temporarily closed listing comes after the open ones that match as many words.
    "rankingRules": RANKING_RULES,
    "synonyms": synonyms(),
    # Filler words people type ("AA meeting near me"); every other word must match (matchingStrategy last).
    "stopWords": ["a", "an", "the", "of", "for", "and", "near", "me"],
    "typoTolerance": {"enabled": True, "minWordSizeForTypos": {"oneTypo": 5, "twoTypos": 9}},
    "faceting": {"maxValuesPerFacet": MAX_FACET_VALUES},
    # Nothing uses /facet-search. Left on, every indexing batch rebuilds the facet-search structures of the
    # whole index: 300 of the 450 ms a one-document update took at a million listings.
    "facetSearch": False,
    "pagination": {"maxTotalHits": MAX_TOTAL_HITS},
}


def wait_for_success(client: meilisearch.Client, task_uid: int, *, timeout_ms: int = SETTINGS_TIMEOUT_MS) -> Task:
    """Wait for a task and raise unless it succeeded (`wait_for_task` returns failed tasks silently)."""
    task = client.wait_for_task(task_uid, timeout_in_ms=timeout_ms)
    if task.status != "succeeded":
        raise IndexTaskFailed(f"Meilisearch task {task_uid} ({task.type}) ended {task.status}: {task.error}")
    return task


def settings_outdated(client: meilisearch.Client, uid: str, expected: dict[str, Any] | None = None) -> bool:
    """The index's filterable or sortable fields, ranking rules or facet search differ from ours: an older
    version built it (its documents may lack fields)."""
    wanted = INDEX_SETTINGS if expected is None else expected
    live = client.index(uid).get_settings()
    return (
        live.get("filterableAttributes") != wanted["filterableAttributes"]
        or set(live.get("sortableAttributes") or []) != set(wanted["sortableAttributes"])
        or live.get("rankingRules") != wanted["rankingRules"]
        or live.get("facetSearch") != wanted["facetSearch"]
    )


def settings_without_geo() -> dict[str, Any]:
    """INDEX_SETTINGS minus `_geo`: for loading a new index before its geo R-tree is built.

    Meilisearch rewrites its whole geo R-tree on every indexing batch (0.8 s at 100k documents, 10 s at
    1M), so a load in many batches spends most of its time there; declaring `_geo` once at the end
    builds the tree once.
    """
    return {
        **INDEX_SETTINGS,
        "filterableAttributes": [f for f in INDEX_SETTINGS["filterableAttributes"] if f != "_geo"],
        "sortableAttributes": [f for f in INDEX_SETTINGS["sortableAttributes"] if f != "_geo"],
    }


def apply_settings(
    client: meilisearch.Client,
    uid: str,
    settings: dict[str, Any] | None = None,
    *,
    timeout_ms: int = SETTINGS_TIMEOUT_MS,
) -> None:
    """Create the index (primary key `id`) if needed and apply INDEX_SETTINGS, waiting until they apply."""
    try:
        client.get_index(uid)
    except MeilisearchApiError as exc:
        if exc.code != "index_not_found":
            raise
        wait_for_success(client, client.create_index(uid, {"primaryKey": PRIMARY_KEY}).task_uid)
    task = client.index(uid).update_settings(INDEX_SETTINGS if settings is None else settings)
    wait_for_success(client, task.task_uid, timeout_ms=timeout_ms)
