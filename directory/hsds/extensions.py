"""Our extensions carried as HSDS attributes, so exports stay valid against the strict schema.

Two taxonomies of our own: "Community Directory extensions" (one term per extra column, the attribute's
`value` holds the column's value) and "Meeting Guide meeting types" (one term per type code). A meeting is
an HSDS service whose attributes hold its slug, fellowship, attendance mode, conference details and type
codes; a schedule carries its IANA zone, a location its zone and whether its point is approximate or it is
confidential. These terms are constants: they are listed by the API and written to every export, and an
import folds their attributes back into our columns instead of storing them as attribute rows.
"""

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from core.inputs import check_day, check_instant, has_control_characters
from core.urls import web_href, web_url_problem
from directory.hsds.timezones import is_zone
from directory.hsds.values import BadValue, format_datetime
from directory.listings.codes import ACCESSIBILITY_LABELS
from directory.listings.meeting_types import TYPES
from directory.listings.models import Attendance, Capacity, ServiceKind
from directory.listings.schemas import SLUG_PATTERN, CostKind
from directory.listings.taxonomy import FELLOWSHIPS

NAMESPACE = uuid.UUID("9d3c1f4e-2b7a-5c60-8e15-4a6b9f0d2c37")
EXTENSIONS_TAXONOMY_ID = uuid.uuid5(NAMESPACE, "taxonomy:extensions")
MEETING_TYPES_TAXONOMY_ID = uuid.uuid5(NAMESPACE, "taxonomy:meeting-guide-types")

TAXONOMIES: tuple[dict[str, Any], ...] = (
    {"id": EXTENSIONS_TAXONOMY_ID, "name": "Community Directory extensions",
     "description": "Details the community directory keeps beyond HSDS 3.0 (meetings, time zones, capacity, "
     "confidential places); each term names one detail and an attribute's value holds it.", "version": "1"},
    {"id": MEETING_TYPES_TAXONOMY_ID, "name": "Meeting Guide meeting types",
     "description": "Meeting type codes of the Meeting Guide meeting-list format (code4recovery).",
     "uri": "https://github.com/code4recovery/spec", "version": "1"},
)  # fmt: skip
TAXONOMY_IDS = frozenset(t["id"] for t in TAXONOMIES)


@dataclass(frozen=True, slots=True)
class ExtField:
    entity: str  # the HSDS link_entity the attribute hangs on
    table: str  # our table holding the column ("meeting" for the meeting extension of a service)
    column: str
    kind: str  # text (one line) | note (may span lines) | link | bool | datetime | date | zone | choice
    description: str
    choices: tuple[str, ...] = ()

    @property
    def code(self) -> str:
        return f"{self.table}.{self.column}"

    @property
    def term_id(self) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"term:{self.code}")


def _choice(entity: str, table: str, column: str, description: str, choices: Any) -> ExtField:
    return ExtField(entity, table, column, "choice", description, tuple(str(c) for c in choices))


_COST_KINDS = CostKind.__args__  # type: ignore[attr-defined]

FIELDS: tuple[ExtField, ...] = (
    _choice("service", "service", "kind", "Kind of listing: meeting or service.", [k.value for k in ServiceKind]),
    _choice("service", "service", "capacity", "Whether the service takes new people.", [c.value for c in Capacity]),
    ExtField("service", "service", "capacity_note", "text", "A note about capacity."),
    ExtField("service", "service", "capacity_updated_at", "datetime", "When capacity was last set."),
    ExtField("service", "service", "reopening_date", "date", "When a temporarily closed service reopens."),
    ExtField("service", "meeting", "slug", "text", "Meeting Guide slug: stable, unique meeting identifier."),
    _choice("service", "meeting", "fellowship", "Fellowship or program of the meeting.", FELLOWSHIPS),
    _choice("service", "meeting", "attendance_mode", "In person, online, hybrid or inactive.",
            [a.value for a in Attendance]),
    ExtField("service", "meeting", "conference_url", "link", "Link to join the meeting online."),
    ExtField("service", "meeting", "conference_url_notes", "note", "Notes on joining online (meeting ID...)."),
    ExtField("service", "meeting", "conference_phone", "text", "Phone number to join the meeting."),
    ExtField("service", "meeting", "conference_phone_notes", "note", "Notes on joining by phone."),
    ExtField("service", "meeting", "group_name", "text", "Name of the group holding the meeting."),
    ExtField("service", "meeting", "group_notes", "note", "Notes about the group."),
    ExtField("service", "meeting", "location_notes", "note", "Notes about the meeting place (entrance...)."),
    ExtField("location", "location", "timezone", "zone", "IANA time zone of the place."),
    ExtField("location", "location", "coordinates_approximate", "bool", "The point is approximate (ZIP/city)."),
    ExtField("location", "location", "is_confidential", "bool",
             "Confidential place: street address withheld, point is coarse."),
    ExtField("schedule", "schedule", "timezone", "zone", "IANA time zone of the schedule's times."),
    _choice("cost_option", "cost_option", "kind", "Kind of cost option.", _COST_KINDS),
    _choice("accessibility", "accessibility", "code", "Accessibility feature code.", ACCESSIBILITY_LABELS),
)  # fmt: skip

BY_TERM: dict[uuid.UUID, ExtField] = {f.term_id: f for f in FIELDS}
BY_TABLE: dict[str, tuple[ExtField, ...]] = {
    table: tuple(f for f in FIELDS if f.table == table) for table in dict.fromkeys(f.table for f in FIELDS)
}
MEETING_FIELDS = BY_TABLE["meeting"]


def type_term_id(code: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"meeting-type:{code}")


TYPE_BY_TERM: dict[uuid.UUID, str] = {type_term_id(code): code for code in TYPES}
TERM_IDS = frozenset(BY_TERM) | frozenset(TYPE_BY_TERM)


def term_rows() -> list[dict[str, Any]]:
    """Every constant term as an HSDS taxonomy_term row."""
    rows = [
        {
            "id": f.term_id,
            "code": f.code,
            "name": f.code,
            "description": f.description,
            "taxonomy": TAXONOMIES[0]["name"],
            "language": "en",
            "taxonomy_id": EXTENSIONS_TAXONOMY_ID,
        }
        for f in FIELDS
    ]
    rows += [
        {"id": type_term_id(code), "code": code, "name": t.en, "description": f"Meeting type {code}: {t.en}.",
         "taxonomy": TAXONOMIES[1]["name"], "language": "en", "taxonomy_id": MEETING_TYPES_TAXONOMY_ID}
        for code, t in sorted(TYPES.items())
    ]  # fmt: skip
    return rows


def encode(field: ExtField, value: Any) -> str | None:
    if value is None:
        return None
    if field.kind == "bool":
        return "true" if value else "false"
    if field.kind == "datetime" and isinstance(value, datetime):
        return format_datetime(value)
    if field.kind == "date" and isinstance(value, date):
        return value.isoformat()
    if field.kind == "link":
        return web_href(value)  # a link stored before the URL rule is never republished
    return str(value)


def decode(field: ExtField, text: str | None) -> Any:
    """An attribute value back to the column's value; raises BadValue."""
    if text is None or text == "":
        return None
    if field.kind == "bool":
        if text not in ("true", "false"):
            raise BadValue(f"{field.code} is true or false, got {text!r}")
        return text == "true"
    if field.kind == "datetime":
        return _parse(lambda t: check_instant(datetime.fromisoformat(t)), text, field, "a date and time")
    if field.kind == "date":
        return _parse(lambda t: check_day(date.fromisoformat(t)), text, field, "a date")
    if field.kind == "link" and (problem := web_url_problem(text, secure=True)):
        raise BadValue(f"{field.code}: {problem}")
    if field.kind != "note" and has_control_characters(text):
        raise BadValue(f"{field.code} has line breaks or control characters")
    if has_control_characters(text, multiline=True):
        raise BadValue(f"{field.code} has control characters")
    if field.kind == "zone" and not is_zone(text):
        raise BadValue(f"{text!r} is not an IANA time zone")
    if field.kind == "choice" and text not in field.choices:
        raise BadValue(f"{field.code} must be one of {', '.join(field.choices)}, got {text!r}")
    if field.code == "meeting.slug" and not _slug_ok(text):
        raise BadValue(f"{text!r} is not a slug (lower-case letters, digits and dashes)")
    return text


def _parse(parser: Any, text: str, field: ExtField, what: str) -> Any:
    try:
        return parser(text)
    except ValueError:
        raise BadValue(f"{field.code} must be {what}, got {text!r}") from None


def _slug_ok(text: str) -> bool:
    return re.fullmatch(SLUG_PATTERN, text) is not None


def attribute(link_id: uuid.UUID, field: ExtField, value: str) -> dict[str, Any]:
    return {
        "id": uuid.uuid5(link_id, f"ext:{field.code}"),
        "link_id": link_id,
        "taxonomy_term_id": field.term_id,
        "link_type": "extension",
        "link_entity": field.entity,
        "value": value,
    }


def type_attribute(service_id: uuid.UUID, code: str) -> dict[str, Any]:
    return {
        "id": uuid.uuid5(service_id, f"meeting-type:{code}"),
        "link_id": service_id,
        "taxonomy_term_id": type_term_id(code),
        "link_type": "meeting_type",
        "link_entity": "service",
        "value": code,
    }


def attributes_for(table: str, row: Any) -> list[dict[str, Any]]:
    """Extension attributes of one stored row (a Service, Meeting, Location, Schedule...)."""
    link_id = row.service_id if table == "meeting" else row.id
    found = []
    for field in BY_TABLE.get(table, ()):
        value = encode(field, getattr(row, field.column))
        if value is not None:
            found.append(attribute(link_id, field, value))
    if table == "meeting":
        found += [type_attribute(link_id, code) for code in row.types if code in TYPES]
    return found
