"""One stored row -> one HSDS row (every field of the resource, JSON-ready values, None when absent).

This is the single place deciding what of a row is public: a confidential location shows no name,
description, links or street and only a coarse point (the same rounding as the search documents); its
address keeps city, state and ZIP. `confidential_address` is never read by this package.
Required HSDS fields we may hold empty get a stated fallback so every row stays valid.
"""

import uuid
from typing import Any

from directory.hsds import extensions
from directory.hsds.spec import BY_NAME
from directory.hsds.timezones import standard_offset
from directory.hsds.values import number, to_hsds

Row = dict[str, Any]

CONFIDENTIAL_STREET = "Address withheld (confidential location)"
NO_STREET = "Street address not given"
STREET_PLACEHOLDERS = frozenset({CONFIDENTIAL_STREET, NO_STREET})
CONFIDENTIAL_POINT_DECIMALS = 2
_HIDDEN_LOCATION_FIELDS = (
    "url", "name", "alternate_name", "description", "transportation", "external_identifier",
    "external_identifier_type",
)  # fmt: skip


def hsds_row(resource: str, obj: Any, *, confidential: bool = False) -> Row:
    """`confidential` is the location's flag, for an address row (a location row reads its own)."""
    spec = BY_NAME[resource]
    values = {f.name: getattr(obj, f.name, None) for f in spec.fields}
    adjust = _ADJUST.get(resource)
    if adjust is not None:
        adjust(values, obj, confidential)
    return {f.name: to_hsds(f, values[f.name]) for f in spec.fields}


def _location(values: Row, obj: Any, _confidential: bool) -> None:
    if not obj.is_confidential:
        return
    for name in _HIDDEN_LOCATION_FIELDS:
        values[name] = None
    for name in ("latitude", "longitude"):
        if values[name] is not None:
            values[name] = round(float(values[name]), CONFIDENTIAL_POINT_DECIMALS)


def _address(values: Row, obj: Any, confidential: bool) -> None:
    if confidential:
        values.update(address_1=CONFIDENTIAL_STREET, address_2=None, attention=None)
    elif not (obj.address_1 or "").strip():
        values["address_1"] = NO_STREET


def _schedule(values: Row, obj: Any, _confidential: bool) -> None:
    values["timezone"] = standard_offset(obj.timezone) if obj.timezone else None


def _phone(values: Row, obj: Any, _confidential: bool) -> None:
    text = (obj.extension or "").strip()
    values["extension"] = number(text) if text.isdigit() else None


def _described(values: Row, obj: Any, _confidential: bool) -> None:
    # HSDS requires a description; ours may be empty, so the name stands in.
    if not (values.get("description") or "").strip():
        values["description"] = obj.name


_ADJUST = {
    "location": _location,
    "address": _address,
    "schedule": _schedule,
    "phone": _phone,
    "organization": _described,
    "program": _described,
    "taxonomy": _described,
    "taxonomy_term": _described,
}


def clean(row: Row) -> Row:
    """A row for a JSON body: absent values are left out (HSDS types do not allow null)."""
    return {k: v for k, v in row.items() if v is not None}


def extension_rows(table: str, obj: Any) -> list[Row]:
    """Our extension attributes of a stored row, as HSDS attribute rows."""
    return [hsds_row("attribute", _AttributeView(a)) for a in extensions.attributes_for(table, obj)]


class _AttributeView:
    """Lets a plain attribute dict go through `hsds_row` like a stored Attribute."""

    def __init__(self, values: Row) -> None:
        self.__dict__.update(values)


def term_rows() -> list[Row]:
    """Our constant terms as HSDS rows (absent values left out)."""
    return [clean(hsds_row("taxonomy_term", _AttributeView(t))) for t in extensions.term_rows()]


def taxonomy_rows() -> list[Row]:
    return [clean(hsds_row("taxonomy", _AttributeView(t))) for t in extensions.TAXONOMIES]


def is_constant(resource: str, row_id: uuid.UUID) -> bool:
    """Taxonomies and terms of our extensions: listed from code, never stored."""
    if resource == "taxonomy":
        return row_id in extensions.TAXONOMY_IDS
    return resource == "taxonomy_term" and row_id in extensions.TERM_IDS
