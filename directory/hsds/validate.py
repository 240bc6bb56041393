"""Row checks for imports: HSDS field types, formats, enums and required fields, then what our tables hold
(lengths, whole numbers, ranges). The same function gives the typed values the writer stores, so what was
checked is exactly what is written.
"""

import types
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import cache
from typing import Any, Union, get_args, get_origin

from annotated_types import Ge, Le, MaxLen, MinLen

from directory.hsds.report import Problem, Severity
from directory.hsds.serialize import STREET_PLACEHOLDERS
from directory.hsds.sources import SourceRow
from directory.hsds.spec import BY_NAME, Field, table_of
from directory.hsds.timezones import MAX_OFFSET, MIN_OFFSET
from directory.hsds.values import BadValue, parse

Report = Callable[[Problem], None]
# Columns HSDS leaves optional but our tables need.
ALSO_REQUIRED = frozenset({("address", "location_id")})
_KINDS = (bool, int, float, str, datetime, date, time, uuid.UUID)


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: type
    nullable: bool
    default: Any
    max_length: int | None = None
    min_length: int | None = None
    ge: float | None = None
    le: float | None = None


def _base(annotation: Any) -> type:
    if get_origin(annotation) in (Union, types.UnionType):
        annotation = next(a for a in get_args(annotation) if a is not type(None))
    for kind in _KINDS:
        if annotation is kind:
            return kind
    return object


@cache
def columns(resource: str) -> dict[str, Column]:
    """What our table for `resource` accepts, read from its model."""
    model = BY_NAME[resource].model
    table = table_of(model)
    found = {}
    for name, info in model.model_fields.items():
        if name not in table.c:
            continue
        limits: dict[str, Any] = {}
        for item in info.metadata:
            if isinstance(item, MaxLen):
                limits["max_length"] = item.max_length
            elif isinstance(item, MinLen):
                limits["min_length"] = item.min_length
            elif isinstance(item, Ge):
                limits["ge"] = item.ge
            elif isinstance(item, Le):
                limits["le"] = item.le
        default = None if info.is_required() else info.get_default(call_default_factory=True)
        found[name] = Column(name, _base(info.annotation), bool(table.c[name].nullable), default, **limits)
    return found


def check_row(src: SourceRow, report: Report | None = None) -> dict[str, Any]:
    """The row's stated fields as Python values; problems go to `report` (the value becomes None)."""
    spec = BY_NAME[src.resource]
    typed: dict[str, Any] = {}

    def problem(name: str, message: str, severity: Severity = "error") -> None:
        if report is not None:
            where = f"{src.pointer}/{name}" if src.pointer else name
            report(Problem(src.file, src.row, where, message, severity))

    for name, raw in src.values.items():
        field = spec.by_name[name]
        try:
            value = parse(field, raw)
            typed[name] = None if value is None else _fits(src.resource, field, value)
        except BadValue as exc:
            problem(name, str(exc))
            typed[name] = None
    _required(src, spec.fields, typed, problem)
    _special(src.resource, typed, problem)
    return typed


def _required(src: SourceRow, fields: tuple[Field, ...], typed: dict[str, Any], problem: Any) -> None:
    for field in fields:
        ours = (src.resource, field.name) in ALSO_REQUIRED
        if not (field.required or ours):
            continue
        stated = field.name in src.values
        if stated and typed.get(field.name) is None and src.values[field.name] in (None, ""):
            problem(field.name, "required but empty")
        elif not stated and (ours or (field.ref and not src.tabular)):
            # A CSV without the column was reported once for its header; a body implies ids by nesting.
            problem(field.name, f"missing: say which {field.ref or 'record'} this belongs to")


def _fits(resource: str, field: Field, value: Any) -> Any:
    """Our table's limits on top of HSDS: raises BadValue, returns the value as the column stores it."""
    column = columns(resource).get(field.name)
    if column is None or (field.name == "timezone" and resource == "schedule"):
        return value
    if column.kind is int and isinstance(value, int | float):
        if isinstance(value, float) and not value.is_integer():
            raise BadValue(f"{value} is not a whole number")
        value = int(value)
    if column.kind is str and not isinstance(value, str):
        value = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    if isinstance(value, str):
        if resource == "address" and field.name == "address_1" and value in STREET_PLACEHOLDERS:
            return ""
        if column.max_length is not None and len(value) > column.max_length:
            raise BadValue(f"longer than {column.max_length} characters")
        if column.min_length is not None and len(value) < column.min_length:
            raise BadValue(f"shorter than {column.min_length} characters")
    if isinstance(value, int | float) and field.name not in ("latitude", "longitude"):
        if column.ge is not None and value < column.ge:
            raise BadValue(f"{value} is below {column.ge}")
        if column.le is not None and value > column.le:
            raise BadValue(f"{value} is above {column.le}")
    return value


def _special(resource: str, typed: dict[str, Any], problem: Any) -> None:
    if resource == "location":
        lat, lng = typed.get("latitude"), typed.get("longitude")
        if (lat is not None and not -90 <= lat <= 90) or (lng is not None and not -180 <= lng <= 180):
            problem("latitude", f"point ({lat}, {lng}) is off the globe; an approximate point is used", "warning")
            typed["latitude"] = typed["longitude"] = None
        elif (lat is None) != (lng is None) and ("latitude" in typed or "longitude" in typed):
            problem("latitude", "latitude and longitude come together; the lone one is ignored", "warning")
            typed["latitude"] = typed["longitude"] = None
    offset = typed.get("timezone") if resource == "schedule" else None
    if offset is not None and (not MIN_OFFSET <= offset <= MAX_OFFSET or (offset * 4) % 1):
        problem("timezone", f"{offset} is not a UTC offset in hours (-12 to +14, in quarter hours)")
        typed["timezone"] = None
