"""JSON Schemas (draft 2020-12) for incoming HSDS bodies, generated from `spec` at run time.

The app cannot read the standard's compiled schemas, so it builds equivalent ones from our description of
the resources: the same field types, formats, enums and required fields, and the same nesting. Ids a body
implies by nesting (a phone inside a service needs no `service_id`) are not required, as in HSDS.
Unknown properties are allowed here; the importer reports them as ignored.
"""

from functools import cache
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from directory.hsds.spec import BY_NAME, Field, nests

DIALECT = "https://json-schema.org/draft/2020-12/schema"
_METADATA = {"type": "array", "items": {"type": "object"}}
MAX_DEPTH = 10  # deeper than any HSDS body (organization > location > contact > phone > language > ...)


def _field(field: Field) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "number" if field.type == "number" else "string"}
    if field.format or field.type == "datetime":
        schema["format"] = field.format or "date-time"
    if field.enum:
        schema["enum"] = list(field.enum)
    return schema


def _json_required(field: Field) -> bool:
    # References are implied by nesting in a body; only the CSV form must spell them out.
    return field.required and (field.name == "id" or field.format != "uuid") and field.name != "link_entity"


@cache
def _entity(name: str, depth: int) -> dict[str, Any]:
    """The schema of one resource with its nesting written out to `depth` levels (deeper: any object).

    Written out rather than `$ref`-erenced: validating a large dump is then much faster. Sub-schemas are
    shared objects, so the schema stays small."""
    spec = BY_NAME[name]
    properties: dict[str, Any] = {f.name: _field(f) for f in spec.fields}
    for nest in nests(name):
        inner = _entity(nest.resource, depth - 1) if depth > 0 else {"type": "object"}
        properties[nest.key] = {"type": "array", "items": inner} if nest.many else inner
    properties["metadata"] = _METADATA
    return {"type": "object", "properties": properties, "required": [f.name for f in spec.fields if _json_required(f)]}


def body_schema(resource: str) -> dict[str, Any]:
    return {"$schema": DIALECT, **_entity(resource, MAX_DEPTH)}


@cache
def validator(resource: str) -> Draft202012Validator:
    return Draft202012Validator(body_schema(resource), format_checker=FormatChecker())
