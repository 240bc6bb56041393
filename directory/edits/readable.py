"""A change in words, as the listing shows it: the before/after of a held change, a suggestion or an
audit entry, for people who review it. Hours read as "Mon-Fri 11:30-13:00" (with en dashes), codes as
their labels, instants in the organization's time zone; never "days: MO TU…; opens_at: 11:30:00".

Labels are English message ids (translated in the template, which knows the language); coded values keep
their code and name the labeler (`directory.listings.labels.LABELERS`) the template's `label` filter uses.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time
from types import MappingProxyType
from typing import Any

from core.i18n import N_
from directory.edits.audit import FieldChange
from directory.listings.occurrences import WEEKDAY_INDEX

FIELD_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "name": N_("Name"),
        "alternate_name": N_("Other name"),
        "description": N_("Description"),
        "email": N_("E-mail"),
        "website": N_("Website"),
        "url": N_("Website"),
        "eligibility_description": N_("Who it is for"),
        "application_process": N_("How to apply"),
        "fees_description": N_("Fees"),
        "alert": N_("Alert"),
        "status": N_("Status"),
        "reopening_date": N_("Reopens on"),
        "capacity": N_("Taking new people?"),
        "capacity_note": N_("Note"),
        "capacity_updated_at": N_("Capacity set"),
        "assured_date": N_("Last verified"),
        "assurer_email": N_("Verified by"),
        "verified_by_id": N_("Verified by (account)"),
        "fellowship": N_("Fellowship"),
        "types": N_("Meeting types"),
        "attendance_mode": N_("Attendance"),
        "conference_url": N_("Online meeting link"),
        "conference_url_notes": N_("Online meeting notes"),
        "conference_phone": N_("Dial-in number"),
        "conference_phone_notes": N_("Dial-in notes"),
        "group_notes": N_("Group notes"),
        "location_notes": N_("Location notes"),
        "timezone": N_("Time zone"),
        "hours": N_("Hours"),
        "address_1": N_("Street address"),
        "address_2": N_("Address line 2"),
        "city": N_("City"),
        "state_province": N_("State"),
        "postal_code": N_("ZIP code"),
        "transportation": N_("Getting there"),
    }
)
# field -> the labeler its codes are shown with
CODED: Mapping[str, str] = MappingProxyType(
    {
        "status": "status",
        "capacity": "capacity",
        "attendance_mode": "attendance",
        "fellowship": "fellowship",
        "types": "meeting_type",
    }
)
# Placeholders the operations write for values only known on approval; shown translated.
PLACEHOLDERS = frozenset({N_("(when approved)"), N_("(the editor)")})


@dataclass(frozen=True)
class HoursLine:
    spans: tuple[tuple[int, int], ...]  # runs of weekdays, Monday = 0: ((0, 4),) is Monday to Friday
    opens_at: time | None
    closes_at: time | None
    note: str | None = None


@dataclass(frozen=True)
class Side:
    """One side of a change; exactly one of these is set, or none (the field was empty)."""

    text: str | None = None
    translate: bool = False
    codes: tuple[str, ...] = ()
    hours: tuple[HoursLine, ...] = ()
    instant: datetime | None = None

    @property
    def empty(self) -> bool:
        return self.text is None and not self.codes and not self.hours and self.instant is None


@dataclass(frozen=True)
class ReadableChange:
    field: str
    label: str
    coded: str | None
    before: Side
    after: Side


def readable(changes: Iterable[FieldChange]) -> list[ReadableChange]:
    return [
        ReadableChange(
            c.field,
            FIELD_LABELS.get(c.field, c.field.replace("_", " ").capitalize()),
            CODED.get(c.field),
            side(c.field, c.before),
            side(c.field, c.after),
        )
        for c in changes
    ]


def side(name: str, value: Any) -> Side:
    if value is None or value == "" or value == []:
        return Side()
    if name == "hours" and isinstance(value, list):
        return Side(hours=tuple(hours_line(row) for row in value if isinstance(row, Mapping)))
    if name in CODED:
        return Side(codes=tuple(str(v) for v in value) if isinstance(value, list) else (str(value),))
    if isinstance(value, str) and value in PLACEHOLDERS:
        return Side(text=value, translate=True)
    if name.endswith("_at") and isinstance(value, str):
        try:
            return Side(instant=datetime.fromisoformat(value))
        except ValueError:
            return Side(text=value)
    if isinstance(value, list):
        return Side(text=", ".join(str(v) for v in value))
    return Side(text=str(value))


def hours_line(row: Mapping[str, Any]) -> HoursLine:
    days = row.get("days") or []
    return HoursLine(
        spans=day_spans(str(d) for d in days),
        opens_at=_time(row.get("opens_at")),
        closes_at=_time(row.get("closes_at")),
        note=row.get("description") or None,
    )


def day_spans(codes: Iterable[str]) -> tuple[tuple[int, int], ...]:
    """Weekday codes as runs of consecutive days: MO TU WE TH FR SA -> ((0, 5),); MO WE -> ((0, 0), (2, 2))."""
    days = sorted({WEEKDAY_INDEX[c] for c in codes if c in WEEKDAY_INDEX})
    spans: list[tuple[int, int]] = []
    for day in days:
        if spans and spans[-1][1] == day - 1:
            spans[-1] = (spans[-1][0], day)
        else:
            spans.append((day, day))
    return tuple(spans)


def _time(value: Any) -> time | None:
    if isinstance(value, time):
        return value
    try:
        return time.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        return None
