"""The HSDS 3.0 resources we exchange: fields, types, required fields, enums, references and JSON nesting.

Written from the specification (field names and types are facts of the standard); nothing is read from
the standard's files at run time. Tests compare this description with the official `datapackage.json` and
compiled schemas, so a drift is caught there. `metadata` and `meta_table_description` are not stored here.
"""

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

from sqlalchemy import Table
from sqlmodel import SQLModel

from directory.listings.details import (
    Accessibility,
    Attribute,
    CostOption,
    Funding,
    Language,
    OrganizationIdentifier,
    RequiredDocument,
    ServiceArea,
    Taxonomy,
    TaxonomyTerm,
)
from directory.listings.models import (
    Address,
    Contact,
    Location,
    Organization,
    Phone,
    Program,
    Schedule,
    Service,
    ServiceAtLocation,
)

FieldType = Literal["string", "number", "date", "datetime", "time"]
HSDS_VERSION = "3.0"


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    type: FieldType = "string"
    format: str | None = None  # uuid | email | uri
    required: bool = False
    enum: tuple[str, ...] | None = None
    ref: str | None = None  # the resource this id points at


@dataclass(frozen=True)
class Resource:
    name: str
    path: str
    model: type[SQLModel]
    fields: tuple[Field, ...]

    @cached_property
    def by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}

    @cached_property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @cached_property
    def refs(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.ref)


def _id() -> Field:
    return Field("id", format="uuid", required=True)


def _ref(name: str, target: str, required: bool = False) -> Field:
    return Field(name, format="uuid", required=required, ref=target)


def _s(name: str, required: bool = False, fmt: str | None = None, enum: tuple[str, ...] | None = None) -> Field:
    return Field(name, format=fmt, required=required, enum=enum)


def _n(name: str) -> Field:
    return Field(name, "number")


def _d(name: str) -> Field:
    return Field(name, "date")


STATUSES = ("active", "inactive", "defunct", "temporarily closed")
PLACE_TYPES = ("physical", "postal", "virtual")
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")

RESOURCES: tuple[Resource, ...] = (
    Resource("organization", "organizations.csv", Organization, (
        _id(), _s("name", True), _s("alternate_name"), _s("description", True), _s("email", fmt="email"),
        _s("website", fmt="uri"), _s("tax_status"), _s("tax_id"), _n("year_incorporated"), _s("legal_status"),
        _s("logo"), _s("uri", fmt="uri"), _ref("parent_organization_id", "organization"),
    )),
    Resource("program", "programs.csv", Program, (
        _id(), _ref("organization_id", "organization", True), _s("name", True), _s("alternate_name"),
        _s("description", True),
    )),
    Resource("service", "services.csv", Service, (
        _id(), _ref("organization_id", "organization", True), _ref("program_id", "program"), _s("name", True),
        _s("alternate_name"), _s("description"), _s("url", fmt="uri"), _s("email", fmt="email"),
        _s("status", True, enum=STATUSES), _s("interpretation_services"), _s("application_process"),
        _s("fees_description"), _s("wait_time"), _s("fees"), _s("accreditations"), _s("eligibility_description"),
        _n("minimum_age"), _n("maximum_age"), _d("assured_date"), _s("assurer_email", fmt="email"),
        _s("licenses"), _s("alert"), Field("last_modified", "datetime"),
    )),
    Resource("attribute", "attributes.csv", Attribute, (
        _id(), Field("link_id", format="uuid", required=True), _ref("taxonomy_term_id", "taxonomy_term", True),
        _s("link_type"), _s("link_entity", True), _s("value"),
    )),
    Resource("service_at_location", "service_at_location.csv", ServiceAtLocation, (
        _id(), _ref("service_id", "service", True), _ref("location_id", "location", True), _s("description"),
    )),
    Resource("location", "locations.csv", Location, (
        _id(), _s("location_type", True, enum=PLACE_TYPES), _s("url", fmt="uri"),
        _ref("organization_id", "organization"), _s("name"), _s("alternate_name"), _s("description"),
        _s("transportation"), _n("latitude"), _n("longitude"), _s("external_identifier"),
        _s("external_identifier_type"),
    )),
    Resource("phone", "phones.csv", Phone, (
        _id(), _ref("location_id", "location"), _ref("service_id", "service"),
        _ref("organization_id", "organization"), _ref("contact_id", "contact"),
        _ref("service_at_location_id", "service_at_location"), _s("number", True), _n("extension"), _s("type"),
        _s("description"),
    )),
    Resource("contact", "contacts.csv", Contact, (
        _id(), _ref("organization_id", "organization"), _ref("service_id", "service"),
        _ref("service_at_location_id", "service_at_location"), _ref("location_id", "location"), _s("name"),
        _s("title"), _s("department"), _s("email", fmt="email"),
    )),
    Resource("address", "addresses.csv", Address, (
        _id(), _ref("location_id", "location"), _s("attention"), _s("address_1", True), _s("address_2"),
        _s("city", True), _s("region"), _s("state_province", True), _s("postal_code", True), _s("country", True),
        _s("address_type", True, enum=PLACE_TYPES),
    )),
    Resource("schedule", "schedules.csv", Schedule, (
        _id(), _ref("service_id", "service"), _ref("location_id", "location"),
        _ref("service_at_location_id", "service_at_location"), _d("valid_from"), _d("valid_to"), _d("dtstart"),
        _n("timezone"), _d("until"), _n("count"), _s("wkst", enum=WEEKDAYS), _s("freq", enum=("WEEKLY", "MONTHLY")),
        _n("interval"), _s("byday"), _s("byweekno"), _s("bymonthday"), _s("byyearday"), _s("description"),
        Field("opens_at", "time"), Field("closes_at", "time"), _s("schedule_link", fmt="uri"),
        _s("attending_type"), _s("notes"),
    )),
    Resource("funding", "funding.csv", Funding, (
        _id(), _ref("organization_id", "organization"), _ref("service_id", "service"), _s("source"),
    )),
    Resource("service_area", "service_areas.csv", ServiceArea, (
        _id(), _ref("service_id", "service"), _s("name"), _s("description"), _s("extent"), _s("extent_type"),
        _s("uri"),
    )),
    Resource("required_document", "required_documents.csv", RequiredDocument, (
        _id(), _ref("service_id", "service"), _s("document"), _s("uri", fmt="uri"),
    )),
    Resource("language", "languages.csv", Language, (
        _id(), _ref("service_id", "service"), _ref("location_id", "location"), _ref("phone_id", "phone"),
        _s("name"), _s("code"), _s("note"),
    )),
    Resource("accessibility", "accessibility.csv", Accessibility, (
        _id(), _ref("location_id", "location"), _s("description"), _s("details"), _s("url", fmt="uri"),
    )),
    Resource("taxonomy_term", "taxonomy_terms.csv", TaxonomyTerm, (
        _id(), _s("code"), _s("name", True), _s("description", True), _ref("parent_id", "taxonomy_term"),
        _s("taxonomy"), _s("language"), _ref("taxonomy_id", "taxonomy"), _s("term_uri", fmt="uri"),
    )),
    Resource("cost_option", "cost_options.csv", CostOption, (
        _id(), _ref("service_id", "service", True), _d("valid_from"), _d("valid_to"), _s("option"),
        _s("currency"), _n("amount"), _s("amount_description"),
    )),
    Resource("organization_identifier", "organization_identifiers.csv", OrganizationIdentifier, (
        _id(), _ref("organization_id", "organization", True), _s("identifier_scheme"),
        _s("identifier_type", True), _s("identifier", True),
    )),
    Resource("taxonomy", "taxonomies.csv", Taxonomy, (
        _id(), _s("name", True), _s("description", True), _s("uri", fmt="uri"), _s("version"),
    )),
)  # fmt: skip

BY_NAME: dict[str, Resource] = {r.name: r for r in RESOURCES}
BY_PATH: dict[str, Resource] = {r.path: r for r in RESOURCES}


@dataclass(frozen=True)
class Unstored:
    """A resource of the standard we do not keep (change history): exported with its header only, and an
    import that carries rows of it says they were ignored."""

    name: str
    path: str
    fields: tuple[Field, ...]


_CHANGE = ("last_action_type", "field_name", "previous_value", "replacement_value", "updated_by")
UNSTORED: tuple[Unstored, ...] = (
    Unstored("metadata", "metadata.csv", (
        _id(), Field("resource_id", format="uuid", required=True), _s("resource_type", True),
        Field("last_action_date", "date", required=True), *(_s(n, True) for n in _CHANGE),
    )),
    Unstored("meta_table_description", "meta_table_descriptions.csv", (
        _id(), _s("name"), _s("language"), _s("character_set"),
    )),
)  # fmt: skip
UNSTORED_PATHS = frozenset(u.path for u in UNSTORED)
_EVERY: tuple[Resource | Unstored, ...] = (*RESOURCES, *UNSTORED)

# Parents before children, so foreign keys hold while rows are written.
WRITE_ORDER: tuple[str, ...] = (
    "taxonomy", "taxonomy_term", "organization", "program", "service", "location", "address",
    "service_at_location", "contact", "phone", "schedule", "language", "accessibility", "cost_option",
    "funding", "service_area", "required_document", "organization_identifier", "attribute",
)  # fmt: skip

Link = Literal["child", "parent"]


@dataclass(frozen=True, slots=True)
class Nest:
    """A nested key of a JSON body. `child`: the nested rows point at the parent through `column`;
    `parent`: the parent points at the nested object through `column`."""

    key: str
    resource: str
    many: bool
    link: Link
    column: str


def _kids(parent_column: str, *pairs: tuple[str, str]) -> tuple[Nest, ...]:
    return tuple(Nest(key, res, True, "child", parent_column) for key, res in pairs)


def _one(key: str, res: str, column: str) -> Nest:
    return Nest(key, res, False, "parent", column)


_ATTRIBUTES = Nest("attributes", "attribute", True, "child", "link_id")

NESTING: dict[str, tuple[Nest, ...]] = {
    "service": (
        *_kids("service_id", ("phones", "phone"), ("schedules", "schedule"), ("service_areas", "service_area"),
               ("service_at_locations", "service_at_location"), ("languages", "language"), ("funding", "funding"),
               ("cost_options", "cost_option"), ("required_documents", "required_document"),
               ("contacts", "contact")),
        _one("organization", "organization", "organization_id"), _one("program", "program", "program_id"),
    ),
    "service_at_location": (
        *_kids("service_at_location_id", ("contacts", "contact"), ("phones", "phone"), ("schedules", "schedule")),
        _one("location", "location", "location_id"), _one("service", "service", "service_id"),
    ),
    "location": _kids("location_id", ("languages", "language"), ("addresses", "address"), ("contacts", "contact"),
                      ("accessibility", "accessibility"), ("phones", "phone"), ("schedules", "schedule")),
    "organization": _kids("organization_id", ("funding", "funding"), ("contacts", "contact"), ("phones", "phone"),
                          ("locations", "location"), ("programs", "program"),
                          ("organization_identifiers", "organization_identifier"), ("services", "service")),
    "phone": _kids("phone_id", ("languages", "language")),
    "contact": _kids("contact_id", ("phones", "phone")),
    "attribute": (_one("taxonomy_term", "taxonomy_term", "taxonomy_term_id"),),
    "taxonomy_term": (_one("taxonomy_detail", "taxonomy", "taxonomy_id"),),
}  # fmt: skip


def table_of(model: type[SQLModel]) -> Table:
    """The SQLAlchemy table of a model (typed, for Core statements)."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


def nests(resource: str) -> tuple[Nest, ...]:
    """Nested keys a body of this resource may carry (every resource but attribute/taxonomy has attributes)."""
    own = NESTING.get(resource, ())
    return own if resource in ("attribute", "taxonomy_term", "taxonomy") else (*own, _ATTRIBUTES)


def descriptor() -> dict[str, Any]:
    """Our own Frictionless data package descriptor for the CSV export."""
    return {
        "name": "community-directory-hsds",
        "title": "Community resource directory (Open Referral HSDS 3.0)",
        "description": "Organizations, services, locations, schedules and taxonomy in the tabular form of HSDS "
        "3.0. Meetings and other local details travel as attributes of the "
        "'Community Directory extensions' and 'Meeting Guide meeting types' taxonomies.",
        "profile": "tabular-data-package",
        "version": "3.0.0",
        "resources": [_resource_descriptor(r.name, r.path, r.fields) for r in _EVERY],
    }


def _resource_descriptor(name: str, path: str, resource_fields: tuple[Field, ...]) -> dict[str, Any]:
    fields = []
    for f in resource_fields:
        entry: dict[str, Any] = {"name": f.name, "type": f.type}
        if f.format:
            entry["format"] = f.format
        constraints: dict[str, Any] = {"required": f.required}
        if f.name == "id":
            constraints["unique"] = True
        if f.enum:
            constraints["enum"] = list(f.enum)
        entry["constraints"] = constraints
        fields.append(entry)
    schema: dict[str, Any] = {"primaryKey": "id", "fields": fields}
    # A reference to the same resource is written with an empty resource name (Frictionless convention).
    foreign = [
        {"fields": f.name, "reference": {"resource": "" if f.ref == name else f.ref, "fields": "id"}}
        for f in resource_fields
        if f.ref
    ]
    if foreign:
        schema["foreignKeys"] = foreign
    return {
        "name": name,
        "path": path,
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "profile": "tabular-data-resource",
        "schema": schema,
    }
