"""Our own description of HSDS 3.0 (spec.py, schema.py, extensions) against the standard's published files."""

import json

import pytest

from directory.hsds import extensions
from directory.hsds.schema import body_schema
from directory.hsds.spec import RESOURCES, UNSTORED, Field, descriptor
from directory.hsds.timezones import fixed_zone, standard_offset, zone_for_offset
from directory.listings import labels
from directory.listings.meeting_types import CODES, TYPES, label
from tests.directory.hsds.support import MEETING_GUIDE, standard_json, standards_dir

STORED = [r.name for r in RESOURCES]
OURS: dict[str, tuple[str, tuple[Field, ...]]] = {r.name: (r.path, r.fields) for r in RESOURCES} | {
    u.name: (u.path, u.fields) for u in UNSTORED
}


def _their_resources() -> dict[str, dict]:
    return {r["name"]: r for r in standard_json("datapackage.json")["resources"]}


@pytest.mark.parametrize("name", list(OURS))
def test_fields_match_the_datapackage(name: str) -> None:
    theirs = _their_resources()[name]
    path, fields = OURS[name]
    assert path == theirs["path"]
    assert [f.name for f in fields] == [f["name"] for f in theirs["schema"]["fields"]]
    for mine, field in zip(fields, theirs["schema"]["fields"], strict=True):
        assert (mine.type, mine.format) == (field["type"], field.get("format")), field["name"]
        assert mine.required == field["constraints"]["required"], field["name"]
        assert mine.enum == (tuple(field["constraints"]["enum"]) if "enum" in field["constraints"] else None)


def test_every_resource_is_described_and_only_change_history_is_not_stored() -> None:
    assert set(_their_resources()) == set(OURS)
    assert set(OURS) - set(STORED) == {"metadata", "meta_table_description"}


def test_our_descriptor_describes_every_exported_file() -> None:
    ours = descriptor()
    theirs = _their_resources()
    assert ours["profile"] == "tabular-data-package"
    assert [r["name"] for r in ours["resources"]] == list(OURS)
    for resource in ours["resources"]:
        their_fields = theirs[resource["name"]]["schema"]["fields"]
        assert [f["name"] for f in resource["schema"]["fields"]] == [f["name"] for f in their_fields]
        json.dumps(resource)  # plain JSON
    # Written by us, not a copy: no titles, descriptions or examples of the standard's text.
    assert "example" not in json.dumps(ours)


@pytest.mark.parametrize("kind", ["service", "organization", "service_at_location"])
def test_generated_body_schema_agrees_with_the_compiled_one(kind: str) -> None:
    compiled = standard_json(f"schema/compiled/{kind}.json")
    ours = body_schema(kind)
    scalars = {k for k, v in compiled["properties"].items() if v.get("type") not in ("array", "object")}
    assert scalars <= set(ours["properties"])
    assert set(compiled["required"]) == set(ours["required"])
    for name in scalars:
        theirs, mine = compiled["properties"][name], ours["properties"][name]
        assert mine["type"] == theirs["type"], name
        assert mine.get("format") == theirs.get("format"), name
        assert mine.get("enum") == theirs.get("enum"), name
    nested = {k for k, v in compiled["properties"].items() if v.get("type") in ("array", "object")}
    assert nested <= set(ours["properties"])


def test_every_registry_code_is_a_meeting_guide_type_and_all_are_covered() -> None:
    standards_dir()
    official = json.loads((MEETING_GUIDE / "data" / "types.json").read_text(encoding="utf-8"))
    assert len(official) == 87
    assert set(CODES) - set(official) == set(), "codes the standard does not have"
    assert set(official) - set(CODES) == set(), "codes of the standard missing from our registry"
    assert label("O") == "Open" and label("C", "es") == "Cerrada"
    assert all(t.en and t.es for t in TYPES.values())
    # One registry, every label the standard publishes, word for word; the pages' labels are the same.
    assert {code: dict(t.labels) for code, t in TYPES.items()} == official
    assert all(labels.meeting_type(code, "es") == names["es"] for code, names in official.items())
    assert TYPES.keys() == official.keys() and label("TH", "ja") == official["TH"]["ja"]
    assert label("LGBTQIA", "es") == "LGBTQIA"  # a feed's own code is shown as it is


def test_extension_terms_are_constant_and_distinct() -> None:
    rows = extensions.term_rows()
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)) == len(extensions.FIELDS) + len(TYPES)
    assert {r["taxonomy_id"] for r in rows} == extensions.TAXONOMY_IDS
    assert extensions.type_term_id("O") == extensions.type_term_id("O")


@pytest.mark.parametrize(
    ("zone", "offset"),
    [("America/Chicago", -6), ("America/New_York", -5), ("Asia/Kolkata", 5.5), ("Etc/UTC", 0), ("Etc/GMT-3", 3)],
)
def test_export_offset_is_the_standard_offset(zone: str, offset: float) -> None:
    assert standard_offset(zone) == offset


@pytest.mark.parametrize(
    ("offset", "place", "expected"),
    [
        (-6, "America/Chicago", "America/Chicago"),  # winter offset of the place
        (-5, "America/Chicago", "America/Chicago"),  # summer offset of the place
        (-8, "America/Chicago", "Etc/GMT+8"),  # does not fit the place: a fixed zone
        (3, None, "Etc/GMT-3"),
        (0, None, "Etc/UTC"),
        (None, "America/Denver", "America/Denver"),  # no offset: the place's zone
        (None, None, "Etc/UTC"),  # HSDS: times without an offset are UTC
    ],
)
def test_import_maps_an_offset_to_a_named_zone(offset: float | None, place: str | None, expected: str) -> None:
    assert zone_for_offset(offset, place) == expected


def test_half_hour_offsets_get_a_real_zone() -> None:
    assert standard_offset(fixed_zone(5.5)) == 5.5
    assert standard_offset(fixed_zone(-3.5)) == -3.5
