"""Workspace operations that touch places or create rows: editing a location, adding a listing."""

import uuid
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from core.i18n import N_
from directory.edits.audit import CONFIDENTIAL, json_value
from directory.edits.forms import CreateServiceForm, LocationForm, WorkspaceForm
from directory.edits.operations import Applied, Change, Context, Operation, Target, default_timezone
from directory.listings.details import Attribute, TaxonomyTerm
from directory.listings.geocoding import approximate_point
from directory.listings.models import (
    Address,
    ConfidentialAddress,
    Location,
    Meeting,
    Service,
    ServiceAtLocation,
    ServiceKind,
    ServiceStatus,
)
from directory.listings.rows import slugify
from directory.listings.taxonomy import term_id

_ADDRESS_FIELDS = ("address_1", "address_2", "city", "state_province", "postal_code")


class LocationUpdate(Operation):
    name, label, entity, form = "location.update", N_("Location"), "location", LocationForm
    fields = ("name", "address_1", "address_2", "city", "state_province", "postal_code", "transportation")

    def current(self, session: Session, target: Target) -> dict[str, Any] | None:
        loc = target.location
        assert loc is not None
        address = _address(session, loc.id)
        values: dict[str, Any] = {"name": loc.name, "transportation": loc.transportation}
        for name in _ADDRESS_FIELDS:
            values[name] = getattr(address, name) if address else None
        if loc.is_confidential:
            values["address_1"], values["address_2"] = CONFIDENTIAL, None
        return {name: values[name] for name in self.fields}

    def proposed(self, session: Session, target: Target, data: WorkspaceForm) -> dict[str, Any]:
        values = {name: getattr(data, name) for name in self.fields}
        if target.location is not None and target.location.is_confidential:
            values["address_1"], values["address_2"] = CONFIDENTIAL, None
        return values

    def apply(self, session: Session, target: Target, data: WorkspaceForm, ctx: Context) -> Applied:
        assert isinstance(data, LocationForm) and target.location is not None
        before = self.current(session, target)
        secret = session.get(ConfidentialAddress, target.location.id)
        old_secret = (secret.address_1, secret.address_2) if secret else None
        write_location(session, target.location, data, ctx.now)
        after = self.current(session, target)
        if target.location.is_confidential and after and old_secret != (data.address_1, data.address_2):
            after["address_1"] = f"{CONFIDENTIAL} (changed)"  # the log says it changed, never what to
        services = set(
            session.exec(
                select(ServiceAtLocation.service_id).where(ServiceAtLocation.location_id == target.location.id)
            ).all()
        )
        return Applied([Change(self.entity, target.location.id, before, after)], services)


def write_location(session: Session, loc: Location, data: LocationForm, now: datetime) -> None:
    """Update a location and its address. A confidential street goes only to `confidential_address`."""
    address = _address(session, loc.id) or Address(location_id=loc.id)
    moved = (address.postal_code, address.city) != (data.postal_code, data.city)
    if loc.is_confidential:
        secret = session.get(ConfidentialAddress, loc.id) or ConfidentialAddress(location_id=loc.id, address_1="")
        secret.address_1, secret.address_2 = data.address_1, data.address_2
        session.add(secret)
        address.address_1, address.address_2 = "", None
    else:
        address.address_1, address.address_2 = data.address_1, data.address_2
    address.city, address.state_province, address.postal_code = data.city, data.state_province, data.postal_code
    loc.name, loc.transportation, loc.last_modified = data.name, data.transportation, now
    if moved:
        # Offline we can only place the ZIP (or city) centre; it is marked approximate.
        place = approximate_point(postal_code=data.postal_code, city=data.city, state=data.state_province)
        loc.latitude, loc.longitude = (place.latitude, place.longitude) if place else (None, None)
        loc.coordinates_approximate = True
    session.add_all([address, loc])
    session.flush()


class LocationAdd(Operation):
    """Another place for an existing listing: a new location with its address, linked to the listing."""

    name, label, entity, form = "location.add", "New location", "location", LocationForm

    def current(self, session: Session, target: Target) -> dict[str, Any] | None:
        return None

    def proposed(self, session: Session, target: Target, data: WorkspaceForm) -> dict[str, Any]:
        return {name: getattr(data, name) for name in LocationUpdate.fields}

    def apply(self, session: Session, target: Target, data: WorkspaceForm, ctx: Context) -> Applied:
        assert isinstance(data, LocationForm) and target.service is not None
        loc = Location(organization_id=target.organization.id, last_modified=ctx.now)
        session.add(loc)
        session.flush()
        write_location(session, loc, data, ctx.now)
        place = approximate_point(postal_code=data.postal_code, city=data.city, state=data.state_province)
        # The place's own zone; else that of the listing's other places and hours (operations.default_timezone).
        loc.timezone = (place.timezone if place and place.timezone else None) or default_timezone(
            session, target.service
        )
        session.add_all([loc, ServiceAtLocation(service_id=target.service.id, location_id=loc.id)])
        target.service.last_modified = ctx.now
        session.add(target.service)
        session.flush()
        after = LocationUpdate().current(session, Target(target.organization, target.service, loc))
        return Applied([Change(self.entity, loc.id, None, after)], {target.service.id})


class CreateService(Operation):
    name, label, entity, form = "service.create", N_("New listing"), "service", CreateServiceForm

    def current(self, session: Session, target: Target) -> dict[str, Any] | None:
        return None

    def proposed(self, session: Session, target: Target, data: WorkspaceForm) -> dict[str, Any]:
        assert isinstance(data, CreateServiceForm)
        return json_value(data.model_dump())

    def check(self, session: Session, target: Target, data: WorkspaceForm) -> dict[str, str]:
        assert isinstance(data, CreateServiceForm)
        if session.get(TaxonomyTerm, term_id(data.category)) is None:
            return {"category": N_("The category list is not loaded; ask a network admin to run the seed command.")}
        if data.location_id and _own_location(session, target, data.location_id) is None:
            return {"location_id": N_("Choose one of your organization's locations.")}
        return {}

    def apply(self, session: Session, target: Target, data: WorkspaceForm, ctx: Context) -> Applied:
        assert isinstance(data, CreateServiceForm)
        author = ctx.author
        service = Service(
            organization_id=target.organization.id,
            kind=data.kind.value,
            name=data.name,
            description=data.description,
            status=ServiceStatus.active.value,
            assured_date=ctx.now.date(),
            assurer_email=author.email if author else None,
            verified_by_id=author.id if author else None,
            created_at=ctx.now,
            last_modified=ctx.now,
        )
        session.add(service)
        session.flush()
        session.add(
            Attribute(
                link_id=service.id, taxonomy_term_id=term_id(data.category), link_type="category", link_entity="service"
            )
        )
        location = _own_location(session, target, data.location_id) if data.location_id else None
        if location is not None:
            session.add(ServiceAtLocation(service_id=service.id, location_id=location.id))
        if data.kind == ServiceKind.meeting:
            session.add(
                Meeting(
                    service_id=service.id,
                    slug=f"{slugify(data.name)[:180]}-{service.id.hex[:8]}",
                    fellowship=data.fellowship or "",
                    attendance_mode=data.attendance_mode.value,
                    conference_url=data.conference_url,
                    types=[],
                )
            )
        session.flush()
        after = {**json_value(data.model_dump()), "id": str(service.id)}
        return Applied([Change(self.entity, service.id, None, after)], {service.id}, created_id=service.id)


def organization_locations(session: Session, organization_id: uuid.UUID) -> list[Location]:
    stmt = select(Location).where(Location.organization_id == organization_id).order_by(col(Location.name))
    return list(session.exec(stmt).all())


def _own_location(session: Session, target: Target, raw_id: str | None) -> Location | None:
    try:
        location_id = uuid.UUID(str(raw_id))
    except ValueError:
        return None
    loc = session.get(Location, location_id)
    return loc if loc is not None and loc.organization_id == target.organization.id else None


def _address(session: Session, location_id: uuid.UUID) -> Address | None:
    return session.exec(select(Address).where(Address.location_id == location_id)).first()
