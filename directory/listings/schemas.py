"""Input schemas for writing listings: one `ListingIn` describes one service and everything hanging off it.

The same shape feeds the service layer (`directory.listings.service.upsert_listing`), the curated seed file and the
generator. Every object carries a stable `key`; database ids are uuid5 values of those keys, so writing the
same listing twice updates it instead of duplicating it.
"""

import re
import uuid
from datetime import datetime, time
from typing import Literal, Self

from pydantic import Field, field_validator, model_validator
from sqlmodel import SQLModel

from core.inputs import Day, Instant, TextInput, is_zone_name
from core.urls import WebUrl
from directory.listings.codes import ACCESSIBILITY_LABELS
from directory.listings.details import CostOptionBase
from directory.listings.models import (
    AddressBase,
    Attendance,
    Capacity,
    CapacityNoteBase,
    LocationBase,
    MeetingBase,
    OrganizationBase,
    PhoneBase,
    PointBase,
    ScheduleBase,
    SecondLineBase,
    ServiceAgesBase,
    ServiceBase,
    ServiceKind,
    ServiceStatus,
)
from directory.listings.taxonomy import CATEGORY_CODES, FELLOWSHIPS

KEY_PATTERN = r"^[a-z0-9][a-z0-9:._-]{0,150}$"
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,199}$"
_BYDAY = re.compile(r"^(-?[1-5])?(MO|TU|WE|TH|FR|SA|SU)$")

# A service's long texts: the fields that may span lines (forms show them as text areas).
SERVICE_TEXTS = frozenset(
    {"description", "eligibility_description", "application_process", "fees_description", "alert"}
)

CostKind = Literal["free", "sliding_scale", "medicaid", "medicare", "insurance", "self_pay"]
PhoneType = Literal["voice", "text", "fax", "cell", "video", "pager", "textphone"]


def is_timezone(name: str) -> bool:
    """A named IANA zone of a place (Area/Location; plain abbreviations such as EST are not places)."""
    return is_zone_name(name) and "/" in name


def _check_timezone(value: str | None) -> str | None:
    if value is not None and not is_timezone(value):
        raise ValueError(f"unknown IANA time zone {value!r}")
    return value


class _In(SQLModel, TextInput):
    """The input rules of every import schema (the fields and their limits come from the `XBase` classes)."""

    model_config = {"extra": "forbid", "str_strip_whitespace": True}


class OrganizationIn(OrganizationBase, _In):
    MULTILINE = frozenset({"description"})
    key: str = Field(pattern=KEY_PATTERN)
    # An organization that already exists under its own id (made in the workspace, not from a key).
    id: uuid.UUID | None = None
    website: WebUrl | None = Field(default=None, max_length=2000)


class AddressIn(AddressBase, _In):
    city: str = Field(min_length=1, max_length=100)
    state_province: str = Field(min_length=2, max_length=100)
    postal_code: str = Field(min_length=1, max_length=20)
    country: str = Field(default="US", min_length=2, max_length=2)
    region: str | None = Field(default=None, max_length=100)  # a neighbourhood or area within the city

    @model_validator(mode="after")
    def _postal_code_of_its_country(self) -> Self:
        # A US address has a ZIP code; elsewhere postal codes take many shapes ("T5J 2Z2", "EC4Y 1AA").
        if self.country == "US" and not re.fullmatch(r"\d{5}(-\d{4})?", self.postal_code):
            raise ValueError("a US postal code is a 5-digit ZIP code (or ZIP+4)")
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 -]*", self.postal_code):
            raise ValueError("a postal code has letters, digits, spaces and dashes only")
        return self


class ConfidentialAddressIn(SecondLineBase, PointBase, _In):
    """The street and exact point of a confidential location; never shown to the public."""

    address_1: str = Field(min_length=1, max_length=300)


class LocationIn(LocationBase, _In):
    MULTILINE = frozenset({"description", "transportation"})
    key: str = Field(pattern=KEY_PATTERN)
    address: AddressIn | None = None
    confidential_address: ConfidentialAddressIn | None = None
    accessibility: list[str] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        return _check_timezone(value)

    @field_validator("accessibility")
    @classmethod
    def _known_accessibility(cls, codes: list[str]) -> list[str]:
        unknown = [c for c in codes if c not in ACCESSIBILITY_LABELS]
        if unknown:
            raise ValueError(f"unknown accessibility codes {unknown}")
        return list(dict.fromkeys(codes))

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give both latitude and longitude, or neither")
        if self.confidential_address is not None:
            # The public record of a confidential location holds no street and no exact point; the
            # service layer fills in the ZIP centre as an approximate public point.
            if self.address is None or self.address.address_1 or self.address.address_2:
                raise ValueError("a confidential location's public address has only city, state and ZIP")
            if self.latitude is not None:
                raise ValueError("put a confidential location's exact point in confidential_address")
        return self

    @property
    def is_confidential(self) -> bool:
        return self.confidential_address is not None


class ScheduleIn(ScheduleBase, _In):
    """A weekly (or monthly, e.g. byday ["1SA"]) time. closes_at earlier than opens_at crosses midnight."""

    MULTILINE = frozenset({"description"})

    freq: Literal["WEEKLY", "MONTHLY"] = "WEEKLY"
    byday: list[str] = Field(min_length=1)
    opens_at: time
    closes_at: time | None = None
    valid_from: Day | None = None
    valid_to: Day | None = None

    @field_validator("byday")
    @classmethod
    def _days(cls, days: list[str]) -> list[str]:
        days = [d.upper() for d in days]
        bad = [d for d in days if not _BYDAY.match(d)]
        if bad:
            raise ValueError(f"byday entries must look like MO or 1SA, got {bad}")
        return list(dict.fromkeys(days))

    @model_validator(mode="after")
    def _monthly_ordinals(self) -> Self:
        has_ordinal = any(d[:-2] for d in self.byday)
        if has_ordinal and self.freq != "MONTHLY":
            raise ValueError("ordinal days like 1SA need freq MONTHLY")
        return self


class MeetingIn(MeetingBase, _In):
    MULTILINE = frozenset({"conference_url_notes", "conference_phone_notes", "group_notes", "location_notes"})
    fellowship: str
    types: list[str] = Field(default_factory=list)
    attendance_mode: Attendance = Attendance.in_person
    slug: str | None = Field(default=None, pattern=SLUG_PATTERN)
    # http:// links are real (older conference services); importers keep them and flag them.
    conference_url: WebUrl | None = Field(default=None, max_length=2000)
    # Set only for meetings read from a feed source (see directory.sources): identity and the feed's own time.
    source_id: uuid.UUID | None = None
    source_slug: str | None = Field(default=None, max_length=200)
    source_updated: datetime | None = None

    @field_validator("fellowship")
    @classmethod
    def _known_fellowship(cls, value: str) -> str:
        if value not in FELLOWSHIPS:
            raise ValueError(f"unknown fellowship {value!r}")
        return value

    @field_validator("types")
    @classmethod
    def _type_codes(cls, codes: list[str]) -> list[str]:
        # Checked against the Meeting Guide vocabulary by the importers; here only the shape.
        if any(not re.fullmatch(r"[A-Za-z0-9-]{1,10}", c) for c in codes):
            raise ValueError("meeting type codes are short codes such as O, C, D, BE")
        return list(dict.fromkeys(codes))

    @property
    def has_conference(self) -> bool:
        return bool(self.conference_url or self.conference_phone)


class CostOptionIn(CostOptionBase, _In):
    MULTILINE = frozenset({"amount_description"})
    kind: CostKind
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")


class PhoneIn(PhoneBase, _In):
    MULTILINE = frozenset({"description"})
    type: PhoneType = "voice"


class ListingIn(ServiceBase, CapacityNoteBase, ServiceAgesBase, _In):
    """One service (a meeting is a service) with its organization, places, times and details."""

    MULTILINE = SERVICE_TEXTS

    key: str = Field(pattern=KEY_PATTERN)
    organization: OrganizationIn
    kind: ServiceKind = ServiceKind.service
    url: WebUrl | None = Field(default=None, max_length=2000)
    status: ServiceStatus = ServiceStatus.active
    reopening_date: Day | None = None
    capacity: Capacity = Capacity.accepting
    capacity_updated_at: Instant | None = None
    assured_date: Day | None = None
    timezone: str = Field(max_length=64)
    locations: list[LocationIn] = Field(default_factory=list)
    schedules: list[ScheduleIn] = Field(default_factory=list)
    meeting: MeetingIn | None = None
    categories: list[str] = Field(min_length=1)
    languages: list[str] = Field(default_factory=lambda: ["en"])
    cost_options: list[CostOptionIn] = Field(default_factory=list)
    phones: list[PhoneIn] = Field(default_factory=list)
    # The area a listing serves, as a place name ("Springfield, IL" or a ZIP): for an online-only meeting it
    # is the approximate place the Meeting Guide feed gives, since the format needs one for every meeting.
    service_area: str | None = Field(default=None, min_length=2, max_length=300)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        _check_timezone(value)
        return value

    @field_validator("categories")
    @classmethod
    def _known_categories(cls, codes: list[str]) -> list[str]:
        unknown = [c for c in codes if c not in CATEGORY_CODES]
        if unknown:
            raise ValueError(f"unknown category codes {unknown}")
        return list(dict.fromkeys(codes))

    @field_validator("languages")
    @classmethod
    def _language_codes(cls, codes: list[str]) -> list[str]:
        if any(not re.fullmatch(r"[a-z]{2,3}", c) for c in codes):
            raise ValueError("languages are ISO 639 codes such as en, es")
        return list(dict.fromkeys(codes))

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.kind == ServiceKind.meeting) != (self.meeting is not None):
            raise ValueError("a meeting listing (kind=meeting) needs meeting details, and only it may have them")
        if len({loc.key for loc in self.locations}) != len(self.locations):
            raise ValueError("location keys must be unique within a listing")
        if self.meeting is not None:
            _check_attendance(self.meeting, self.locations)
        if self.minimum_age is not None and self.maximum_age is not None and self.minimum_age > self.maximum_age:
            raise ValueError("minimum_age is above maximum_age")
        return self


def _check_attendance(meeting: MeetingIn, locations: list[LocationIn]) -> None:
    mode = meeting.attendance_mode
    if mode in (Attendance.online, Attendance.hybrid) and not meeting.has_conference:
        raise ValueError(f"an {mode.value} meeting needs a conference_url or conference_phone")
    if mode in (Attendance.in_person, Attendance.hybrid) and not locations:
        raise ValueError(f"an {mode.value} meeting needs a location")
    if mode == Attendance.online and any(not loc.coordinates_approximate for loc in locations):
        # An online meeting may keep the approximate place it is rooted in (a city), never a street.
        raise ValueError("an online-only meeting has no physical location, only an approximate one")
