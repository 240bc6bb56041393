"""HSDS 3.0 detail tables: languages, accessibility, costs, service areas, taxonomy and attributes."""

import uuid
from datetime import date

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel


class Language(SQLModel, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    service_id: uuid.UUID | None = Field(default=None, foreign_key="service.id", index=True, ondelete="CASCADE")
    location_id: uuid.UUID | None = Field(default=None, foreign_key="location.id", index=True, ondelete="CASCADE")
    phone_id: uuid.UUID | None = Field(default=None, foreign_key="phone.id", ondelete="CASCADE")
    name: str | None = Field(default=None, max_length=100)
    code: str | None = Field(default=None, max_length=20)  # ISO 639-1 where known, e.g. "es"
    note: str | None = Field(default=None, max_length=500)


class Accessibility(SQLModel, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    location_id: uuid.UUID | None = Field(default=None, foreign_key="location.id", index=True, ondelete="CASCADE")
    description: str | None = Field(default=None, max_length=500)
    details: str | None = Field(default=None, max_length=2000)
    url: str | None = Field(default=None, max_length=2000)
    # Our extension: a code from a small vocabulary (wheelchair, hearing_loop, asl, ...) for filtering.
    code: str | None = Field(default=None, max_length=40)


class CostOptionBase(SQLModel):
    option: str | None = Field(default=None, max_length=500)
    amount: float | None = Field(default=None, ge=0)
    amount_description: str | None = Field(default=None, max_length=500)


class CostOption(CostOptionBase, table=True):
    __tablename__ = "cost_option"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    service_id: uuid.UUID = Field(foreign_key="service.id", index=True, ondelete="CASCADE")
    valid_from: date | None = None
    valid_to: date | None = None
    currency: str | None = Field(default=None, max_length=3)
    # Our extension: free | sliding_scale | medicaid | medicare | insurance | self_pay.
    kind: str | None = Field(default=None, max_length=30)


class ServiceArea(SQLModel, table=True):
    __tablename__ = "service_area"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    service_id: uuid.UUID | None = Field(default=None, foreign_key="service.id", index=True, ondelete="CASCADE")
    service_at_location_id: uuid.UUID | None = Field(
        default=None, foreign_key="service_at_location.id", ondelete="CASCADE"
    )
    name: str | None = Field(default=None, max_length=300)
    description: str | None = Field(default=None, max_length=2000)
    extent: str | None = Field(default=None)
    extent_type: str | None = Field(default=None, max_length=20)  # geojson | topojson | kml | text
    uri: str | None = Field(default=None, max_length=2000)


class Funding(SQLModel, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    organization_id: uuid.UUID | None = Field(default=None, foreign_key="organization.id", ondelete="CASCADE")
    service_id: uuid.UUID | None = Field(default=None, foreign_key="service.id", ondelete="CASCADE")
    source: str | None = Field(default=None, max_length=1000)


class RequiredDocument(SQLModel, table=True):
    __tablename__ = "required_document"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    service_id: uuid.UUID | None = Field(default=None, foreign_key="service.id", ondelete="CASCADE")
    document: str | None = Field(default=None, max_length=1000)
    uri: str | None = Field(default=None, max_length=2000)


class OrganizationIdentifier(SQLModel, table=True):
    __tablename__ = "organization_identifier"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    organization_id: uuid.UUID = Field(foreign_key="organization.id", index=True, ondelete="CASCADE")
    identifier_scheme: str | None = Field(default=None, max_length=100)
    identifier_type: str = Field(max_length=200)
    identifier: str = Field(max_length=200)


class Taxonomy(SQLModel, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=200)
    description: str = Field(default="", max_length=2000)
    uri: str | None = Field(default=None, max_length=2000)
    version: str | None = Field(default=None, max_length=50)


class TaxonomyTerm(SQLModel, table=True):
    __tablename__ = "taxonomy_term"
    __table_args__ = (UniqueConstraint("taxonomy_id", "code"),)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    code: str | None = Field(default=None, max_length=100, index=True)
    name: str = Field(max_length=300)
    description: str = Field(default="", max_length=2000)
    parent_id: uuid.UUID | None = Field(default=None, foreign_key="taxonomy_term.id", index=True)
    taxonomy: str | None = Field(default=None, max_length=200)
    language: str | None = Field(default=None, max_length=20)
    taxonomy_id: uuid.UUID | None = Field(default=None, foreign_key="taxonomy.id", index=True)
    term_uri: str | None = Field(default=None, max_length=2000)


class Attribute(SQLModel, table=True):
    """Links a taxonomy term to any entity (HSDS polymorphic link): how services get their categories."""

    __table_args__ = (UniqueConstraint("link_id", "taxonomy_term_id", "link_entity"),)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    link_id: uuid.UUID = Field(index=True)
    taxonomy_term_id: uuid.UUID = Field(foreign_key="taxonomy_term.id", index=True, ondelete="CASCADE")
    link_type: str | None = Field(default=None, max_length=100)
    link_entity: str = Field(max_length=50)  # service | organization | location | ...
    value: str | None = Field(default=None, max_length=500)
    label: str | None = Field(default=None, max_length=300)
