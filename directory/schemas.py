"""Input schemas for writing listings: one `ListingIn` describes one service and everything hanging off it.

The same shape feeds the service layer (`directory.service.upsert_listing`), the curated seed file and the
generator. Every object carries a stable `key`; database ids are uuid5 values of those keys, so writing the
same listing twice updates it instead of duplicating it.
"""

import re
import uuid
import zoneinfo
from datetime import date, datetime, time
from functools import lru_cache
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from directory.models import Attendance, Capacity, ServiceKind, ServiceStatus
from directory.taxonomy_tree import CATEGORY_CODES, FELLOWSHIPS

KEY_PATTERN = r"^[a-z0-9][a-z0-9:._-]{0,150}$"
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,199}$"
_BYDAY = re.compile(r"^(-?[1-5])?(MO|TU|WE|TH|FR|SA|SU)$")

ACCESSIBILITY_LABELS: dict[str, str] = {
    "wheelchair": "Wheelchair accessible entrance",
    "accessible_restroom": "Wheelchair-accessible restroom",
    "accessible_parking": "Accessible parking",
    "elevator": "Elevator",
    "asl": "American Sign Language interpretation",
    "hearing_loop": "Hearing loop",
    "braille": "Braille or large-print materials",
    "fragrance_free": "Fragrance free",
}
LANGUAGE_NAMES: dict[str, str] = {
    "en": "English",
    "es": "Spanish",
    "pl": "Polish",
    "zh": "Chinese",
    "vi": "Vietnamese",
    "ar": "Arabic",
    "ru": "Russian",
    "ko": "Korean",
    "tl": "Tagalog",
    "fr": "French",
    "asl": "American Sign Language",
}

CostKind = Literal["free", "sliding_scale", "medicaid", "medicare", "insurance", "self_pay"]
PhoneType = Literal["voice", "text", "fax", "cell", "video", "pager", "textphone"]


@lru_cache(maxsize=512)
def is_timezone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return "/" in name


def _check_timezone(value: str | None) -> str | None:
    if value is not None and not is_timezone(value):
        raise ValueError(f"unknown IANA time zone {value!r}")
    return value


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OrganizationIn(_In):
    key: str = Field(pattern=KEY_PATTERN)
    # An organization that already exists under its own id (made in the workspace, not from a key).
    id: uuid.UUID | None = None
    name: str = Field(min_length=1, max_length=300)
    alternate_name: str | None = Field(default=None, max_length=300)
    description: str = Field(default="", max_length=10_000)
    website: str | None = Field(default=None, max_length=2000, pattern=r"^https?://")
    email: str | None = Field(default=None, max_length=320)


class AddressIn(_In):
    address_1: str = Field(default="", max_length=300)
    address_2: str | None = Field(default=None, max_length=300)
    city: str = Field(min_length=1, max_length=100)
    state_province: str = Field(min_length=2, max_length=100)
    postal_code: str = Field(min_length=1, max_length=20)
    country: str = Field(default="US", min_length=2, max_length=2)

    @model_validator(mode="after")
    def _postal_code_of_its_country(self) -> Self:
        # A US address has a ZIP code; elsewhere postal codes take many shapes ("T5J 2Z2", "EC4Y 1AA").
        if self.country == "US" and not re.fullmatch(r"\d{5}(-\d{4})?", self.postal_code):
            raise ValueError("a US postal code is a 5-digit ZIP code (or ZIP+4)")
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 -]*", self.postal_code):
            raise ValueError("a postal code has letters, digits, spaces and dashes only")
        return self


class ConfidentialAddressIn(_In):
    """The street and exact point of a confidential location; never shown to the public."""

    address_1: str = Field(min_length=1, max_length=300)
    address_2: str | None = Field(default=None, max_length=300)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)


class LocationIn(_In):
    key: str = Field(pattern=KEY_PATTERN)
    name: str | None = Field(default=None, max_length=300)
    description: str | None = Field(default=None, max_length=5000)
    transportation: str | None = Field(default=None, max_length=2000)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    coordinates_approximate: bool = False
    timezone: str | None = Field(default=None, max_length=64)
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


class ScheduleIn(_In):
    """A weekly (or monthly, e.g. byday ["1SA"]) time. closes_at earlier than opens_at crosses midnight."""

    freq: Literal["WEEKLY", "MONTHLY"] = "WEEKLY"
    byday: list[str] = Field(min_length=1)
    opens_at: time
    closes_at: time | None = None
    description: str | None = Field(default=None, max_length=1000)
    valid_from: date | None = None
    valid_to: date | None = None

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


class MeetingIn(_In):
    fellowship: str
    types: list[str] = Field(default_factory=list)
    attendance_mode: Attendance = Attendance.in_person
    slug: str | None = Field(default=None, pattern=SLUG_PATTERN)
    # http:// links are real (older conference services); importers keep them and flag them.
    conference_url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://")
    conference_url_notes: str | None = Field(default=None, max_length=1000)
    conference_phone: str | None = Field(default=None, max_length=100)
    conference_phone_notes: str | None = Field(default=None, max_length=1000)
    group_name: str | None = Field(default=None, max_length=300)
    group_notes: str | None = Field(default=None, max_length=2000)
    location_notes: str | None = Field(default=None, max_length=2000)
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


class CostOptionIn(_In):
    kind: CostKind
    option: str | None = Field(default=None, max_length=500)
    amount: float | None = Field(default=None, ge=0)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    amount_description: str | None = Field(default=None, max_length=500)


class PhoneIn(_In):
    number: str = Field(min_length=1, max_length=50)
    extension: str | None = Field(default=None, max_length=20)
    type: PhoneType = "voice"
    description: str | None = Field(default=None, max_length=500)


class ListingIn(_In):
    """One service (a meeting is a service) with its organization, places, times and details."""

    key: str = Field(pattern=KEY_PATTERN)
    organization: OrganizationIn
    kind: ServiceKind = ServiceKind.service
    name: str = Field(min_length=1, max_length=300)
    alternate_name: str | None = Field(default=None, max_length=300)
    description: str = Field(default="", max_length=10_000)
    url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://")
    email: str | None = Field(default=None, max_length=320)
    status: ServiceStatus = ServiceStatus.active
    reopening_date: date | None = None
    capacity: Capacity = Capacity.accepting
    capacity_note: str | None = Field(default=None, max_length=500)
    capacity_updated_at: datetime | None = None
    eligibility_description: str | None = Field(default=None, max_length=5000)
    application_process: str | None = Field(default=None, max_length=5000)
    fees_description: str | None = Field(default=None, max_length=2000)
    minimum_age: int | None = Field(default=None, ge=0, le=150)
    maximum_age: int | None = Field(default=None, ge=0, le=150)
    alert: str | None = Field(default=None, max_length=2000)
    assured_date: date | None = None
    assurer_email: str | None = Field(default=None, max_length=320)
    timezone: str = Field(max_length=64)
    locations: list[LocationIn] = Field(default_factory=list)
    schedules: list[ScheduleIn] = Field(default_factory=list)
    meeting: MeetingIn | None = None
    categories: list[str] = Field(min_length=1)
    languages: list[str] = Field(default_factory=lambda: ["en"])
    cost_options: list[CostOptionIn] = Field(default_factory=list)
    phones: list[PhoneIn] = Field(default_factory=list)

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
