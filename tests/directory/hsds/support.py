"""Shared helpers for the HSDS and Meeting Guide tests: the standard's files, schema validators, sample data.

The standard's files are read from `../shared/standards` (never copied into the project). Outside CI a
missing folder skips the test with a reason; under CI=true it fails.
"""

import copy
import json
import os
from collections.abc import Iterator
from datetime import date, time
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlmodel import Session

from directory.listings.models import Attendance, Capacity, ServiceKind
from directory.listings.schemas import (
    AddressIn,
    ConfidentialAddressIn,
    CostOptionIn,
    ListingIn,
    LocationIn,
    MeetingIn,
    OrganizationIn,
    PhoneIn,
    ScheduleIn,
)
from directory.listings.service import ensure_taxonomy, upsert_listings
from tests.conftest import STANDARDS

HSDS = STANDARDS / "hsds-3.0"
COMPILED = HSDS / "schema" / "compiled"
EXAMPLES = HSDS / "examples"
MEETING_GUIDE = STANDARDS / "meeting-guide"


def standards_dir() -> Path:
    """The shared standards folder; skip (or, under CI, fail) when it is not there."""
    if not (HSDS / "datapackage.json").exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"the standards folder {STANDARDS} is missing; CI must provide ../shared/standards")
        pytest.skip(f"the standards folder {STANDARDS} is not present outside CI")
    return STANDARDS


@cache
def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def standard_json(relative: str) -> Any:
    standards_dir()
    return copy.deepcopy(_load(HSDS / relative))


def strict(schema: Any) -> Any:
    """The schema with `additionalProperties: false` on every object schema, recursively."""
    schema = copy.deepcopy(schema)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "object" or "properties" in node:
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return schema


@cache
def _validators(name: str) -> tuple[Draft202012Validator, Draft202012Validator]:
    schema = _load(COMPILED / f"{name}.json")
    checker = FormatChecker()
    return Draft202012Validator(schema, format_checker=checker), Draft202012Validator(
        strict(schema), format_checker=checker
    )


def schema_errors(name: str, body: Any) -> list[str]:
    """Problems of `body` against compiled/<name>.json, both as published and in the strict variant."""
    standards_dir()
    found = []
    for label, validator in zip(("schema", "strict"), _validators(name), strict=True):
        for err in validator.iter_errors(body):
            found.append(f"{label}: /{'/'.join(map(str, err.absolute_path))}: {err.message[:200]}")
    return found


@cache
def _plain_validators(name: str) -> tuple[Draft202012Validator, Draft202012Validator]:
    """For the schemas that have no compiled form (taxonomy, taxonomy_term), with their `$ref`s resolved."""
    resources = []
    for path in sorted((HSDS / "schema").glob("*.json")):
        if path.name != "openapi.json":
            contents = _load(path)
            resources.append((path.name, Resource.from_contents(contents, default_specification=DRAFT202012)))
    registry: Registry = Registry().with_resources(resources)
    strict_registry: Registry = Registry().with_resources(
        (uri, Resource.from_contents(strict(r.contents), default_specification=DRAFT202012)) for uri, r in resources
    )
    schema = _load(HSDS / "schema" / f"{name}.json")
    checker = FormatChecker()
    return (
        Draft202012Validator(schema, format_checker=checker, registry=registry),
        Draft202012Validator(strict(schema), format_checker=checker, registry=strict_registry),
    )


def plain_schema_errors(name: str, body: Any) -> list[str]:
    standards_dir()
    return [f"/{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for v in _plain_validators(name)
            for e in v.iter_errors(body)]  # fmt: skip


# --- sample data ---------------------------------------------------------------------------------------

_ORG = OrganizationIn(
    key="org:central-office",
    name="Central Office",
    website="https://central.example.org",
    email="info@central.example.org",
    description="Meeting lists and help for the area.",
)
_PANTRY_ORG = OrganizationIn(key="org:pantry", name="Northside Pantry", description="")


def _place(key: str, **kw: Any) -> LocationIn:
    base: dict[str, Any] = {
        "key": key,
        "name": "St. Mark's Church",
        "latitude": 41.8864,
        "longitude": -87.6186,
        "timezone": "America/Chicago",
        "address": AddressIn(address_1="100 N Michigan Ave", city="Chicago", state_province="IL", postal_code="60601"),
        "accessibility": ["wheelchair"],
    }
    base.update(kw)
    return LocationIn(**base)


def sample_listings() -> list[ListingIn]:
    """Meetings (in person, online, hybrid, inactive), a food pantry and a confidential shelter."""
    weekly = ScheduleIn(byday=["MO", "WE"], opens_at=time(19, 0), closes_at=time(20, 0))
    return [
        ListingIn(
            key="mtg:sunrise",
            organization=_ORG,
            kind=ServiceKind.meeting,
            name="Sunrise Group",
            timezone="America/Chicago",
            description="Open discussion meeting.",
            categories=["aa"],
            locations=[_place("loc:st-marks")],
            schedules=[ScheduleIn(byday=["SU", "SA"], opens_at=time(7, 0), closes_at=time(8, 0))],
            meeting=MeetingIn(
                fellowship="aa",
                types=["O", "D", "X"],
                slug="sunrise-group",
                group_name="Sunrise Group",
                location_notes="Use the side door.",
            ),
        ),
        ListingIn(
            key="mtg:online-step",
            organization=_ORG,
            kind=ServiceKind.meeting,
            name="Online Step Study",
            timezone="America/New_York",
            categories=["aa"],
            schedules=[ScheduleIn(byday=["TU"], opens_at=time(20, 30), closes_at=time(21, 30))],
            meeting=MeetingIn(
                fellowship="aa",
                types=["C", "ST"],
                attendance_mode=Attendance.online,
                conference_url="https://zoom.us/j/123456789",
                conference_url_notes="Password: hope",
                conference_phone="+16465588656,,123456789#",
            ),
        ),
        ListingIn(
            key="mtg:hybrid",
            organization=_ORG,
            kind=ServiceKind.meeting,
            name="Noon Hybrid",
            timezone="America/Chicago",
            categories=["aa"],
            locations=[_place("loc:st-marks")],
            schedules=[weekly],
            meeting=MeetingIn(
                fellowship="aa",
                types=["O", "S"],
                attendance_mode=Attendance.hybrid,
                conference_url="https://meet.example.org/noon",
            ),
        ),
        ListingIn(
            key="mtg:closed-down",
            organization=_ORG,
            kind=ServiceKind.meeting,
            name="Old Tuesday Group",
            timezone="America/Chicago",
            categories=["aa"],
            locations=[_place("loc:st-marks")],
            schedules=[ScheduleIn(byday=["TU"], opens_at=time(18, 0))],
            meeting=MeetingIn(fellowship="aa", types=["C"], attendance_mode=Attendance.inactive),
        ),
        ListingIn(
            key="svc:pantry",
            organization=_PANTRY_ORG,
            name="Northside Food Pantry",
            timezone="America/Chicago",
            description="Groceries every week.",
            categories=["food-pantry"],
            languages=["en", "es"],
            url="https://pantry.example.org",
            capacity=Capacity.waitlist,
            capacity_note="Call first.",
            assured_date=date(2025, 1, 15),
            locations=[
                _place(
                    "loc:pantry",
                    name="Northside Pantry",
                    latitude=41.97,
                    longitude=-87.66,
                    address=AddressIn(
                        address_1="4400 N Broadway", city="Chicago", state_province="IL", postal_code="60640"
                    ),
                )
            ],
            schedules=[ScheduleIn(byday=["TH"], opens_at=time(10, 0), closes_at=time(13, 0))],
            phones=[PhoneIn(number="312-555-0100", extension="12"), PhoneIn(number="312-555-0101", type="text")],
            cost_options=[CostOptionIn(kind="free", option="No cost")],
        ),
        ListingIn(
            key="svc:shelter",
            organization=_PANTRY_ORG,
            name="Safe Harbor Shelter",
            timezone="America/Chicago",
            categories=["emergency-shelter"],
            locations=[
                LocationIn(
                    key="loc:shelter",
                    name="Safe Harbor House",
                    description="Secret house",
                    address=AddressIn(city="Chicago", state_province="IL", postal_code="60614"),
                    confidential_address=ConfidentialAddressIn(
                        address_1="77 Hidden Lane", latitude=41.9214, longitude=-87.6513
                    ),
                )
            ],
            phones=[PhoneIn(number="800-555-0199", description="24-hour hotline")],
        ),
    ]


def load_sample(session: Session) -> list[Any]:
    ensure_taxonomy(session=session)
    return upsert_listings(session=session, listings=sample_listings())


def ndjson(text: str) -> Iterator[Any]:
    for line in text.splitlines():
        if line.strip():
            yield json.loads(line)


# --- an independent check of CSV files against the standard's datapackage.json ------------------------

_CSV_DATE = r"^\d{4}-\d{2}-\d{2}$"
_CSV_TIME = r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$"


def _cell_problem(spec: dict[str, Any], value: str) -> str | None:
    import re
    import uuid as uuid_module
    from datetime import datetime

    constraints = spec.get("constraints", {})
    if value == "":
        return "required but empty" if constraints.get("required") else None
    kind, fmt = spec.get("type", "string"), spec.get("format")
    try:
        if kind == "number":
            float(value)
        elif kind == "date" and not re.match(_CSV_DATE, value):
            return f"{value!r} is not a date"
        elif kind == "time" and not re.match(_CSV_TIME, value):
            return f"{value!r} is not a time"
        elif kind == "datetime":
            datetime.fromisoformat(value)
        elif fmt == "uuid":
            uuid_module.UUID(value)
        elif fmt in ("email", "uri") and not FormatChecker().conforms(value, fmt):
            return f"{value!r} is not a valid {fmt}"
    except ValueError:
        return f"{value!r} is not a valid {kind}"
    if "enum" in constraints and value not in constraints["enum"]:
        return f"{value!r} not in {constraints['enum']}"
    return None


def datapackage_problems(folder: Path, names: list[str] | None = None) -> list[str]:
    """Problems of the CSV files in `folder` against the standard's datapackage.json (only files present)."""
    import csv

    package = standard_json("datapackage.json")
    found = []
    for resource in package["resources"]:
        path = folder / resource["path"]
        if not path.exists() or (names and resource["name"] not in names):
            continue
        fields = resource["schema"]["fields"]
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            if header != [f["name"] for f in fields]:
                found.append(f"{path.name}: header {header} differs from {[f['name'] for f in fields]}")
                continue
            for number, row in enumerate(reader, start=2):
                for spec, value in zip(fields, row, strict=True):
                    if (problem := _cell_problem(spec, value)) is not None:
                        found.append(f"{path.name} row {number} {spec['name']}: {problem}")
    return found
