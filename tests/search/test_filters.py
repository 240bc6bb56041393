"""Filter building and input validation (no Meilisearch needed)."""

from datetime import UTC, datetime, time
from typing import Any

import pytest

from core.errors import ValidationFailed
from search.filters import (
    NEVER,
    combine,
    geo_clause,
    open_at_clause,
    parse_params,
    quote,
    relative_time_clauses,
    starts_within_clause,
    vocabulary_clauses,
    weekday_clauses,
)
from search.index_spec import INDEX_SETTINGS, filterable_names, synonyms
from search.schemas import SearchParams


def test_quote_escapes_backslashes_and_quotes() -> None:
    assert quote('x" OR kind = "meeting') == '"x\\" OR kind = \\"meeting"'
    assert quote("a\\") == '"a\\\\"'
    assert quote('\\"') == '"\\\\\\""'


def test_parse_params_normalizes() -> None:
    p = parse_params({
        "q": "  coffee  ", "category": ["FOOD", "food"], "day": ["tue", "0", "Saturday"], "time_from": "18:30",
        "language": ["ES"], "type": ["O", "12x12"], "at": "2026-03-08T19:30:00 06:00", "tz": "America/Denver",
        "kind": "Meeting", "sort": "soonest",
    })  # fmt: skip
    assert p.q == "coffee" and p.categories == ("food",) and p.days == (2, 0, 6) and p.time_from == time(18, 30)
    assert p.languages == ("es",) and p.types == ("O", "12x12") and p.kind == "meeting" and p.sort == "soonest"
    assert p.at is not None and p.at.isoformat() == "2026-03-08T19:30:00+06:00"  # a '+' lost to URL decoding
    assert parse_params({"at": "2026-03-08T19:30:00"}).at == datetime(2026, 3, 8, 19, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"category": ['x" OR kind = "meeting']}, "category"),
        ({"category": ["nope"]}, "category"),
        ({"kind": "event"}, "kind"),
        ({"attendance": "inactive"}, "attendance"),
        ({"fellowship": ["xx"]}, "fellowship"),
        ({"type": ['O" OR kind = "service']}, "type"),
        ({"type": ["WAYTOOLONGCODE"]}, "type"),
        ({"language": ["english"]}, "language"),
        ({"accessibility": ["ramp"]}, "accessibility"),
        ({"cost": ["cheap"]}, "cost"),
        ({"day": ["funday"]}, "day"),
        ({"day": ["7"]}, "day"),
        ({"time_from": "25:00"}, "time_from"),
        ({"time_to": "7pm"}, "time_to"),
        ({"at": "yesterday"}, "at"),
        ({"tz": "Mars/Olympus"}, "tz"),
        ({"sort": "price"}, "sort"),
        ({"sort": "distance"}, "sort"),  # no place
        ({"lat": 41.0}, "lng"),
        ({"lng": -87.0}, "lat"),
        ({"near": "60601", "lat": 41.0, "lng": -87.0}, "near"),
        ({"radius_km": 501}, "radius_km"),
        ({"starting_within": 0}, "starting_within"),
        ({"category": [f"c{i}" for i in range(30)]}, "category"),
    ],
    ids=lambda v: str(v)[:40],
)
def test_bad_input_names_the_parameter(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_params(raw)
    assert caught.value.field == field and field in caught.value.errors


def test_vocabulary_clauses_quote_every_value() -> None:
    p = SearchParams(categories=("food", "aa"), kind="service", types=("O",), languages=("es",), cost=("free",))
    assert vocabulary_clauses(p) == [
        'categories IN ["food", "aa"]', 'kind IN ["service"]', 'types IN ["O"]', 'languages IN ["es"]',
        'cost IN ["free"]',
    ]  # fmt: skip


def test_vocabulary_is_checked_even_without_parse_params() -> None:
    with pytest.raises(ValidationFailed):
        vocabulary_clauses(SearchParams(categories=('x" OR kind = "meeting',)))


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (SearchParams(days=(2,)), ["days IN [2]"]),
        (SearchParams(time_from=time(18), time_to=time(21)), ["start_of_day 1080 TO 1260"]),
        (SearchParams(time_from=time(22), time_to=time(2)), ["(start_of_day 1320 TO 1439 OR start_of_day 0 TO 120)"]),
        (SearchParams(days=(2,), time_from=time(18)), ["start_minutes 3960 TO 4319"]),
        # Saturday 23:00 to 01:00 crosses the week's end into Sunday.
        (SearchParams(days=(6,), time_from=time(23), time_to=time(1)),
         ["(start_minutes 10020 TO 10079 OR start_minutes 0 TO 60)"]),
        (SearchParams(days=(1, 3), time_to=time(12)), ["(start_minutes 1440 TO 2160 OR start_minutes 4320 TO 5040)"]),
        (SearchParams(), []),
    ],
)  # fmt: skip
def test_weekday_clauses(params: SearchParams, expected: list[str]) -> None:
    assert weekday_clauses(params) == expected


def test_relative_time_groups_zones_by_local_wall_time() -> None:
    at = datetime(2026, 3, 10, 1, 30, tzinfo=UTC)  # Mon 20:30 Chicago and Winnipeg, 19:30 Denver
    zones = ["America/Chicago", "America/Denver", "America/Winnipeg"]
    clauses = relative_time_clauses(SearchParams(open_now=True), at, zones)
    chicago_bucket, denver_bucket = (1440 + 20 * 60 + 30) // 5, (1440 + 19 * 60 + 30) // 5
    chicago = ", ".join(str(level * 4096 + (chicago_bucket >> level)) for level in range(12))
    denver = ", ".join(str(level * 4096 + (denver_bucket >> level)) for level in range(12))
    assert clauses == [
        'status = "active"',
        f'((timezone IN ["America/Chicago", "America/Winnipeg"] AND open_blocks IN [{chicago}]) OR '
        f'(timezone IN ["America/Denver"] AND open_blocks IN [{denver}]))',
    ]
    meetings = relative_time_clauses(SearchParams(in_progress=True), at, zones)
    assert 'kind = "meeting"' in meetings


def test_starting_within_splits_at_the_week_wrap() -> None:
    at = datetime(2026, 3, 8, 5, 50, tzinfo=UTC)  # Saturday 23:50 CST
    assert starts_within_clause({10070: ["America/Chicago"]}, 10, 30) == (
        '(timezone IN ["America/Chicago"] AND (start_minutes 10060 TO 10079 OR start_minutes 0 TO 20))'
    )
    clause = relative_time_clauses(SearchParams(starting_within=30), at, ["America/Chicago"])[1]
    assert "start_minutes 10060 TO 10079 OR start_minutes 0 TO 20" in clause


def test_no_known_zone_matches_nothing() -> None:
    assert open_at_clause({}) == NEVER


def test_combine_and_geo() -> None:
    assert combine([]) is None
    assert combine(["a = 1"]) == "a = 1"
    assert combine(["a = 1", "(b = 1 OR c = 1)"]) == "(a = 1) AND ((b = 1 OR c = 1))"
    assert geo_clause(41.8781, -87.6298, 25) == "_geoRadius(41.878100, -87.629800, 25000)"


def test_synonyms_are_mutual_within_a_group() -> None:
    table = synonyms()
    assert "alcoholics anonymous" in table["aa"] and "aa" in table["alcoholics anonymous"]
    assert {"buprenorphine", "mat", "medication-assisted treatment"} <= set(table["suboxone"])
    assert "methadone" in table["mat"] and "mat" not in table.get("methadone", [])  # one-way
    assert INDEX_SETTINGS["synonyms"] == table


def test_settings_declare_the_time_fields() -> None:
    assert {"open_blocks", "start_minutes", "timezone", "service_id", "_geo"} <= set(filterable_names())
    assert {"_geo", "first_start"} <= set(INDEX_SETTINGS["sortableAttributes"])
