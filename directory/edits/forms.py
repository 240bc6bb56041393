"""Input models of the workspace forms and JSON API. The HTML forms and the API validate through these.

The fields and their limits come from the `XBase` classes of `directory.listings.models` (the tables and
the import schemas inherit the same ones), so a value accepted here always fits the row.
`parse` turns a submitted form (or JSON object) into a model or raises `ValidationFailed` with one
message per field, keyed like the form fields (`rows-2-opens_at` for the third row of hours).
"""

import re
from collections.abc import Mapping
from datetime import time, timedelta
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails, PydanticCustomError
from sqlmodel import SQLModel
from starlette.datastructures import FormData

from core.clock import utcnow
from core.errors import ValidationFailed
from core.i18n import N_
from core.input_errors import friendly
from core.inputs import Day, TextInput, is_zone_name
from core.urls import SecureUrl, WebUrl
from directory.listings.meeting_types import CODES as MEETING_TYPE_CODES
from directory.listings.meeting_types import TYPE_CODE
from directory.listings.models import (
    Attendance,
    Capacity,
    CapacityNoteBase,
    LocationNameBase,
    MeetingNotesBase,
    OrganizationBase,
    ScheduleBase,
    SecondLineBase,
    ServiceBase,
    ServiceKind,
    ServiceNameBase,
    ServiceStatus,
)
from directory.listings.schemas import SERVICE_TEXTS
from directory.listings.taxonomy import CATEGORY_CODES, FELLOWSHIPS

Weekday = Literal["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
WEEKDAYS: tuple[Weekday, ...] = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
ZIP = r"^\d{5}(-\d{4})?$"
MAX_HOURS_ROWS = 21


def check_zone(value: str) -> str:
    if not is_zone_name(value) or "/" not in value:
        raise ValueError(N_("Choose a time zone such as America/Chicago."))
    return value


class WorkspaceForm(SQLModel, TextInput):
    model_config = {"extra": "ignore", "str_strip_whitespace": True}
    LIST_FIELDS: ClassVar[frozenset[str]] = frozenset()
    MESSAGES: ClassVar[dict[str, str]] = {}

    @model_validator(mode="before")
    @classmethod
    def _blank_is_none(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            return {k: (None if isinstance(v, str) and not v.strip() else v) for k, v in data.items()}
        return data

    @classmethod
    def raw_from_form(cls, form: FormData) -> dict[str, Any]:
        return {
            name: form.getlist(name) if name in cls.LIST_FIELDS else form.get(name)
            for name in cls.model_fields
            if name in form or name in cls.LIST_FIELDS
        }

    def extra_errors(self) -> dict[str, str]:
        """Rules spanning several fields, reported per field (pydantic would report them on the form)."""
        return {}


def _blank_text(value: Any) -> Any:
    """A description left empty is stored as "" (the column is not nullable)."""
    return "" if value is None else value


def _matching(value: str | None, pattern: str) -> str | None:
    """The pattern check a `Field(pattern=...)` would make, for a field whose limits come from a base."""
    if value is not None and re.search(pattern, value) is None:
        raise PydanticCustomError(
            "string_pattern_mismatch", "String should match pattern '{pattern}'", {"pattern": pattern}
        )
    return value


class OrganizationForm(OrganizationBase, WorkspaceForm):
    MULTILINE = frozenset({"description"})
    website: WebUrl | None = Field(default=None, max_length=2000)

    _text = field_validator("description", mode="before")(_blank_text)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return _matching(value, EMAIL)


class ServiceDetailsForm(ServiceBase, WorkspaceForm):
    MULTILINE = SERVICE_TEXTS
    url: WebUrl | None = Field(default=None, max_length=2000)

    _text = field_validator("description", mode="before")(_blank_text)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return _matching(value, EMAIL)


class StatusForm(WorkspaceForm):
    status: ServiceStatus
    reopening_date: Day | None = None

    def extra_errors(self) -> dict[str, str]:
        # Reopening (any other status) clears the date (`ServiceStatusChange.values`): the old date still
        # in the form is no error, or reopening would need it cleared by hand first.
        if self.reopening_date is None or self.status != ServiceStatus.temporarily_closed:
            return {}
        if self.reopening_date < utcnow().date() - timedelta(days=1):
            return {"reopening_date": N_("The reopening date is in the past.")}
        return {}


class CapacityForm(CapacityNoteBase, WorkspaceForm):
    capacity: Capacity


class VerifyForm(WorkspaceForm):
    """“Still correct”: nothing to fill in; the stamp records who and when."""


class HoursRow(ScheduleBase, WorkspaceForm):
    LIST_FIELDS: ClassVar[frozenset[str]] = frozenset({"days"})
    days: list[Weekday] = Field(default_factory=list)
    opens_at: time | None = None
    closes_at: time | None = None

    @property
    def is_blank(self) -> bool:
        return not self.days and self.opens_at is None and self.closes_at is None and not self.description

    @field_validator("days", mode="before")
    @classmethod
    def _days(cls, value: Any) -> Any:
        return [] if value is None else value


class HoursForm(WorkspaceForm):
    """Weekly hours (or meeting times). A closing time before the opening time crosses midnight."""

    timezone: str = Field(max_length=64)
    rows: list[HoursRow] = Field(default_factory=list, max_length=MAX_HOURS_ROWS)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_zone(value)

    @classmethod
    def raw_from_form(cls, form: FormData) -> dict[str, Any]:
        declared = str(form.get("row_count") or "")
        count = min(int(declared) if declared.isdigit() else 0, MAX_HOURS_ROWS)
        rows = [
            {
                "days": form.getlist(f"rows-{i}-days"),
                "opens_at": form.get(f"rows-{i}-opens_at"),
                "closes_at": form.get(f"rows-{i}-closes_at"),
                "description": form.get(f"rows-{i}-description"),
            }
            for i in range(count)
        ]
        return {"timezone": form.get("timezone"), "rows": rows}

    def extra_errors(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        for i, row in enumerate(self.rows):
            if row.is_blank:
                continue
            if not row.days:
                errors[f"rows-{i}-days"] = N_("Pick at least one day.")
            if row.opens_at is None:
                errors[f"rows-{i}-opens_at"] = N_("Give the opening (or start) time.")
            elif row.closes_at == row.opens_at:
                errors[f"rows-{i}-closes_at"] = N_("The closing time equals the opening time.")
        return errors

    @property
    def filled_rows(self) -> list[HoursRow]:
        return [row for row in self.rows if not row.is_blank]


class MeetingForm(MeetingNotesBase, WorkspaceForm):
    LIST_FIELDS: ClassVar[frozenset[str]] = frozenset({"types", "kept_types"})
    fellowship: str
    types: list[str] = Field(default_factory=list)
    kept_types: list[str] = Field(default_factory=list)
    attendance_mode: Attendance
    conference_url: SecureUrl | None = Field(default=None, max_length=2000)
    MULTILINE = frozenset({"group_notes", "location_notes"})

    @field_validator("fellowship")
    @classmethod
    def _fellowship(cls, value: str) -> str:
        if value not in FELLOWSHIPS:
            raise ValueError(N_("Choose a fellowship from the list."))
        return value

    @field_validator("types", mode="before")
    @classmethod
    def _types(cls, value: Any) -> Any:
        codes = [] if value is None else value
        unknown = [c for c in codes if c not in MEETING_TYPE_CODES]
        if unknown:
            raise ValueError(N_("Unknown meeting types: %(codes)s.", codes=", ".join(map(str, unknown))))
        return list(dict.fromkeys(codes))

    @field_validator("kept_types", mode="before")
    @classmethod
    def _kept_types(cls, value: Any) -> Any:
        # Codes a feed gave the meeting that are not in the registry: the form shows them (as the code) so
        # that a save keeps them; the operation checks that the meeting really has them.
        codes = [] if value is None else value
        if any(not TYPE_CODE.fullmatch(str(c)) for c in codes):
            raise ValueError(N_("Meeting type codes are short codes such as O, C, D, BE."))
        return list(dict.fromkeys(codes))

    def extra_errors(self) -> dict[str, str]:
        online = self.attendance_mode in (Attendance.online, Attendance.hybrid)
        if online and not (self.conference_url or self.conference_phone):
            return {"conference_url": N_("An online or hybrid meeting needs a meeting link or a dial-in number.")}
        return {}


class LocationForm(LocationNameBase, SecondLineBase, WorkspaceForm):
    MULTILINE = frozenset({"transportation"})
    address_1: str = Field(min_length=1, max_length=300)
    city: str = Field(min_length=1, max_length=100)
    state_province: str = Field(min_length=2, max_length=100)
    postal_code: str = Field(pattern=ZIP)
    MESSAGES: ClassVar[dict[str, str]] = {"postal_code": N_("Give a 5-digit ZIP code (or ZIP+4).")}


class CreateServiceForm(ServiceNameBase, WorkspaceForm):
    MULTILINE = frozenset({"description"})
    kind: ServiceKind = ServiceKind.service
    category: str
    timezone: str = Field(max_length=64)
    location_id: str | None = None
    fellowship: str | None = None
    attendance_mode: Attendance = Attendance.in_person
    conference_url: SecureUrl | None = Field(default=None, max_length=2000)

    _text = field_validator("description", mode="before")(_blank_text)

    @field_validator("category")
    @classmethod
    def _category(cls, value: str) -> str:
        if value not in CATEGORY_CODES:
            raise ValueError(N_("Choose a category from the list."))
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_zone(value)

    def extra_errors(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        if self.kind == ServiceKind.meeting:
            if not self.fellowship or self.fellowship not in FELLOWSHIPS:
                errors["fellowship"] = N_("A meeting needs its fellowship.")
            if self.attendance_mode in (Attendance.online, Attendance.hybrid) and not self.conference_url:
                errors["conference_url"] = N_("An online or hybrid meeting needs a meeting link.")
            if self.attendance_mode in (Attendance.in_person, Attendance.hybrid) and not self.location_id:
                errors["location_id"] = N_("An in-person or hybrid meeting needs a location.")
        return errors


def _message(form: type[WorkspaceForm], error: ErrorDetails, key: str) -> str:
    if key in form.MESSAGES and error["type"] == "string_pattern_mismatch":
        return form.MESSAGES[key]
    if key == "email" and error["type"] == "string_pattern_mismatch":
        return N_("Give an e-mail address like name@example.org.")
    if error["type"] == "string_too_short":
        return N_("This field is required.")
    return friendly(error)


F = TypeVar("F", bound=WorkspaceForm)


def parse(form: type[F], raw: Mapping[str, Any]) -> F:
    """Validate `raw` or raise ValidationFailed with a message per field."""
    try:
        model = form.model_validate(dict(raw))
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            loc = list(error["loc"])
            if loc and isinstance(loc[-1], int):
                loc = loc[:-1]  # an entry of a list field (a day, a type): report it on the field
            key = "-".join(str(part) for part in loc) or "form"
            errors.setdefault(key, _message(form, error, key))
        raise ValidationFailed(N_("Please correct the highlighted fields."), errors=errors) from None
    if extra := model.extra_errors():
        raise ValidationFailed(N_("Please correct the highlighted fields."), errors=extra)
    return model
