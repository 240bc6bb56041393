"""HSDS 3.0 aligned tables (field names follow the standard) and our extensions.

The fields people and imports write are declared once, with their limits, in the `XBase` classes here;
the table (`X`), the import schema (`XIn`, `directory.listings.schemas`) and the workspace form
(`directory.edits.forms`) all inherit them, so a value a form or an import accepts always fits the row.

Extensions live in their own columns or tables: `meeting` (a support-group meeting is a service),
`confidential_address` (a street address that never leaves the server), freshness and capacity columns
on `service`, and named IANA time zones on `schedule` (HSDS export writes the numeric offset).
"""

import uuid
from datetime import date, datetime, time
from enum import StrEnum

from sqlalchemy import JSON, Column, DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.clock import utcnow


def _ts(**kw: object) -> Column:
    return Column(DateTime(timezone=True), **kw)  # type: ignore[arg-type]


class ServiceStatus(StrEnum):
    active = "active"
    inactive = "inactive"
    defunct = "defunct"
    temporarily_closed = "temporarily closed"


class Capacity(StrEnum):
    accepting = "accepting"
    waitlist = "waitlist"
    full = "full"


class ServiceKind(StrEnum):
    meeting = "meeting"
    service = "service"


class Attendance(StrEnum):
    in_person = "in_person"
    online = "online"
    hybrid = "hybrid"
    inactive = "inactive"


class OrganizationBase(SQLModel):
    name: str = Field(min_length=1, max_length=300, index=True)
    alternate_name: str | None = Field(default=None, max_length=300)
    description: str = Field(default="", max_length=10_000)
    email: str | None = Field(default=None, max_length=320)


class Organization(OrganizationBase, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    website: str | None = Field(default=None, max_length=2000)
    tax_status: str | None = Field(default=None, max_length=100)
    tax_id: str | None = Field(default=None, max_length=100)
    year_incorporated: int | None = Field(default=None, ge=1600, le=2200)
    legal_status: str | None = Field(default=None, max_length=100)
    logo: str | None = Field(default=None, max_length=2000)
    uri: str | None = Field(default=None, max_length=2000)
    parent_organization_id: uuid.UUID | None = Field(default=None, foreign_key="organization.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    last_modified: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class Program(SQLModel, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    organization_id: uuid.UUID = Field(foreign_key="organization.id", index=True, ondelete="CASCADE")
    name: str = Field(min_length=1, max_length=300)
    alternate_name: str | None = Field(default=None, max_length=300)
    description: str = Field(default="", max_length=10_000)


class ServiceNameBase(SQLModel):
    name: str = Field(min_length=1, max_length=300)
    description: str = Field(default="", max_length=10_000)


class ServiceBase(ServiceNameBase):
    alternate_name: str | None = Field(default=None, max_length=300)
    email: str | None = Field(default=None, max_length=320)
    eligibility_description: str | None = Field(default=None, max_length=5000)
    application_process: str | None = Field(default=None, max_length=5000)
    fees_description: str | None = Field(default=None, max_length=2000)
    alert: str | None = Field(default=None, max_length=2000)


class CapacityNoteBase(SQLModel):
    capacity_note: str | None = Field(default=None, max_length=500)


class ServiceAgesBase(SQLModel):
    minimum_age: int | None = Field(default=None, ge=0, le=150)
    maximum_age: int | None = Field(default=None, ge=0, le=150)
    assurer_email: str | None = Field(default=None, max_length=320)


class Service(ServiceBase, CapacityNoteBase, ServiceAgesBase, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    organization_id: uuid.UUID = Field(foreign_key="organization.id", index=True, ondelete="CASCADE")
    program_id: uuid.UUID | None = Field(default=None, foreign_key="program.id", ondelete="SET NULL")
    kind: str = Field(default=ServiceKind.service, max_length=20, index=True)
    url: str | None = Field(default=None, max_length=2000)
    status: str = Field(default=ServiceStatus.active, max_length=30, index=True)
    interpretation_services: str | None = Field(default=None, max_length=2000)
    wait_time: str | None = Field(default=None, max_length=500)
    fees: str | None = Field(default=None, max_length=2000)
    accreditations: str | None = Field(default=None, max_length=2000)
    licenses: str | None = Field(default=None, max_length=2000)
    # Freshness: when the listing was last confirmed correct (and by whom: `assurer_email` above).
    assured_date: date | None = Field(default=None)
    verified_by_id: uuid.UUID | None = Field(default=None)
    reopening_date: date | None = Field(default=None)
    # Capacity: accepting / waitlist / full, with a note (`capacity_note` above) and the time it was set.
    capacity: str = Field(default=Capacity.accepting, max_length=20)
    capacity_updated_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))
    last_modified: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class PointBase(SQLModel):
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)


class LocationNameBase(SQLModel):
    name: str | None = Field(default=None, max_length=300)
    transportation: str | None = Field(default=None, max_length=2000)


class LocationBase(LocationNameBase, PointBase):
    description: str | None = Field(default=None, max_length=5000)
    timezone: str | None = Field(default=None, max_length=64)
    coordinates_approximate: bool = Field(default=False)


class Location(LocationBase, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    location_type: str = Field(default="physical", max_length=20)  # physical | postal | virtual
    url: str | None = Field(default=None, max_length=2000)
    organization_id: uuid.UUID | None = Field(
        default=None, foreign_key="organization.id", index=True, ondelete="CASCADE"
    )
    alternate_name: str | None = Field(default=None, max_length=300)
    external_identifier: str | None = Field(default=None, max_length=200)
    external_identifier_type: str | None = Field(default=None, max_length=200)
    # Our extensions (besides `timezone` and `coordinates_approximate` above).
    is_confidential: bool = Field(default=False)
    last_modified: datetime = Field(default_factory=utcnow, sa_column=_ts(nullable=False))


class SecondLineBase(SQLModel):
    address_2: str | None = Field(default=None, max_length=300)


class AddressBase(SecondLineBase):
    address_1: str = Field(default="", max_length=300)
    country: str = Field(default="US", min_length=2, max_length=2)


class Address(AddressBase, table=True):
    """A public address. For a confidential location only city, region and postal code are filled."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    location_id: uuid.UUID = Field(foreign_key="location.id", index=True, ondelete="CASCADE")
    attention: str | None = Field(default=None, max_length=300)
    city: str = Field(default="", max_length=100)
    region: str | None = Field(default=None, max_length=100)
    state_province: str = Field(default="", max_length=100)
    postal_code: str = Field(default="", max_length=20, index=True)
    address_type: str = Field(default="physical", max_length=20)  # physical | postal | virtual


class ConfidentialAddress(SecondLineBase, PointBase, table=True):
    """The street address and exact point of a confidential location, kept apart from every public path."""

    __tablename__ = "confidential_address"
    location_id: uuid.UUID = Field(foreign_key="location.id", primary_key=True, ondelete="CASCADE")
    address_1: str = Field(max_length=300)


class ServiceAtLocation(SQLModel, table=True):
    __tablename__ = "service_at_location"
    __table_args__ = (UniqueConstraint("service_id", "location_id"),)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    service_id: uuid.UUID = Field(foreign_key="service.id", index=True, ondelete="CASCADE")
    location_id: uuid.UUID = Field(foreign_key="location.id", index=True, ondelete="CASCADE")
    description: str | None = Field(default=None, max_length=5000)


class PhoneBase(SQLModel):
    number: str = Field(min_length=1, max_length=50)
    extension: str | None = Field(default=None, max_length=20)
    description: str | None = Field(default=None, max_length=500)


class Phone(PhoneBase, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    location_id: uuid.UUID | None = Field(default=None, foreign_key="location.id", index=True, ondelete="CASCADE")
    service_id: uuid.UUID | None = Field(default=None, foreign_key="service.id", index=True, ondelete="CASCADE")
    organization_id: uuid.UUID | None = Field(
        default=None, foreign_key="organization.id", index=True, ondelete="CASCADE"
    )
    contact_id: uuid.UUID | None = Field(default=None, foreign_key="contact.id", ondelete="CASCADE")
    service_at_location_id: uuid.UUID | None = Field(
        default=None, foreign_key="service_at_location.id", ondelete="CASCADE"
    )
    type: str | None = Field(default=None, max_length=20)  # text | voice | fax | cell | video | pager | textphone


class Contact(SQLModel, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    organization_id: uuid.UUID | None = Field(
        default=None, foreign_key="organization.id", index=True, ondelete="CASCADE"
    )
    service_id: uuid.UUID | None = Field(default=None, foreign_key="service.id", index=True, ondelete="CASCADE")
    service_at_location_id: uuid.UUID | None = Field(
        default=None, foreign_key="service_at_location.id", ondelete="CASCADE"
    )
    location_id: uuid.UUID | None = Field(default=None, foreign_key="location.id", ondelete="CASCADE")
    name: str | None = Field(default=None, max_length=300)
    title: str | None = Field(default=None, max_length=300)
    department: str | None = Field(default=None, max_length=300)
    email: str | None = Field(default=None, max_length=320)


class ScheduleBase(SQLModel):
    description: str | None = Field(default=None, max_length=1000)


class Schedule(ScheduleBase, table=True):
    """A recurring opening or meeting time, RRULE-like (weekly or monthly), in a named IANA time zone."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    service_id: uuid.UUID | None = Field(default=None, foreign_key="service.id", index=True, ondelete="CASCADE")
    location_id: uuid.UUID | None = Field(default=None, foreign_key="location.id", index=True, ondelete="CASCADE")
    service_at_location_id: uuid.UUID | None = Field(
        default=None, foreign_key="service_at_location.id", index=True, ondelete="CASCADE"
    )
    valid_from: date | None = None
    valid_to: date | None = None
    dtstart: date | None = None
    timezone: str = Field(default="America/New_York", max_length=64)
    until: date | None = None
    count: int | None = Field(default=None, ge=1)
    wkst: str | None = Field(default=None, max_length=2)
    freq: str = Field(default="WEEKLY", max_length=10)  # WEEKLY | MONTHLY
    interval: int = Field(default=1, ge=1, le=52)
    byday: str = Field(default="", max_length=100)  # "MO,WE" or, monthly, "1SA,-1SU"
    byweekno: str | None = Field(default=None, max_length=100)
    bymonthday: str | None = Field(default=None, max_length=100)
    byyearday: str | None = Field(default=None, max_length=100)
    opens_at: time | None = None
    closes_at: time | None = None
    schedule_link: str | None = Field(default=None, max_length=2000)
    attending_type: str | None = Field(default=None, max_length=200)
    notes: str | None = Field(default=None, max_length=1000)


class MeetingNotesBase(SQLModel):
    conference_url_notes: str | None = Field(default=None, max_length=1000)
    conference_phone: str | None = Field(default=None, max_length=100)
    conference_phone_notes: str | None = Field(default=None, max_length=1000)
    group_notes: str | None = Field(default=None, max_length=2000)
    location_notes: str | None = Field(default=None, max_length=2000)


class MeetingBase(MeetingNotesBase):
    group_name: str | None = Field(default=None, max_length=300)


class Meeting(MeetingBase, table=True):
    """Support-group extension of a service (Meeting Guide semantics).

    `slug` is unique in our own served feed. A meeting read from a feed source is identified by
    (`source_id`, `source_slug`), the slug exactly as that service body publishes it, so two bodies may
    both have a "big-book-study"; `source_updated` is that feed's own last-change time for the meeting.
    """

    __table_args__ = (UniqueConstraint("source_id", "source_slug", name="uq_meeting_source_slug"),)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    service_id: uuid.UUID = Field(foreign_key="service.id", unique=True, ondelete="CASCADE")
    slug: str = Field(max_length=200, unique=True, regex=r"^[a-z0-9][a-z0-9-]*$")
    source_id: uuid.UUID | None = Field(default=None, foreign_key="feed_source.id", index=True, ondelete="SET NULL")
    source_slug: str | None = Field(default=None, max_length=200)
    source_updated: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    fellowship: str = Field(max_length=40, index=True)
    types: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    attendance_mode: str = Field(default=Attendance.in_person, max_length=20)
    conference_url: str | None = Field(default=None, max_length=2000)


# `meeting.source_id` points at the feed source table: whoever loads the meetings must know it too.
from directory.sources.models import FeedSource  # noqa: E402, F401
