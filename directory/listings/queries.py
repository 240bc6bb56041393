"""Read side: assemble a service with everything around it, for pages, search documents and exports.

`public=True` (the default) is the only mode used by anonymous pages, search and exports: it never
loads `confidential_address`, so a confidential street address cannot leak through these paths.
"""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from core.errors import NotFound
from core.i18n import N_
from directory.listings.details import Accessibility, Attribute, CostOption, Language, TaxonomyTerm
from directory.listings.models import (
    Address,
    Location,
    Meeting,
    Organization,
    Phone,
    Schedule,
    Service,
    ServiceAtLocation,
)


@dataclass
class PlaceDetail:
    service_at_location_id: uuid.UUID
    location: Location
    address: Address | None
    accessibility: list[Accessibility] = field(default_factory=list)


@dataclass
class ListingDetail:
    service: Service
    organization: Organization
    places: list[PlaceDetail]
    schedules: list[Schedule]
    meeting: Meeting | None
    categories: list[TaxonomyTerm]
    languages: list[Language]
    phones: list[Phone]
    costs: list[CostOption]


def _by(rows: Sequence[object], key: str) -> dict[uuid.UUID, list]:
    grouped: dict[uuid.UUID, list] = defaultdict(list)
    for row in rows:
        grouped[getattr(row, key)].append(row)
    return grouped


def load_listings(session: Session, service_ids: Sequence[uuid.UUID]) -> list[ListingDetail]:
    """Load many listings with one query per table (no N+1), in the order of `service_ids`."""
    ids = list(dict.fromkeys(service_ids))
    if not ids:
        return []
    services = {s.id: s for s in session.exec(select(Service).where(col(Service.id).in_(ids)))}
    org_ids = {s.organization_id for s in services.values()}
    orgs = {o.id: o for o in session.exec(select(Organization).where(col(Organization.id).in_(org_ids)))}
    sals = session.exec(select(ServiceAtLocation).where(col(ServiceAtLocation.service_id).in_(ids))).all()
    loc_ids = [s.location_id for s in sals]
    locations = {x.id: x for x in session.exec(select(Location).where(col(Location.id).in_(loc_ids)))}
    addresses = _by(session.exec(select(Address).where(col(Address.location_id).in_(loc_ids))).all(), "location_id")
    access = _by(
        session.exec(select(Accessibility).where(col(Accessibility.location_id).in_(loc_ids))).all(), "location_id"
    )
    schedules = _by(session.exec(select(Schedule).where(col(Schedule.service_id).in_(ids))).all(), "service_id")
    meetings = {m.service_id: m for m in session.exec(select(Meeting).where(col(Meeting.service_id).in_(ids)))}
    languages = _by(session.exec(select(Language).where(col(Language.service_id).in_(ids))).all(), "service_id")
    phones = _by(session.exec(select(Phone).where(col(Phone.service_id).in_(ids))).all(), "service_id")
    costs = _by(session.exec(select(CostOption).where(col(CostOption.service_id).in_(ids))).all(), "service_id")
    term_rows = session.exec(
        select(Attribute.link_id, TaxonomyTerm)
        .join(TaxonomyTerm, col(TaxonomyTerm.id) == Attribute.taxonomy_term_id)
        .where(col(Attribute.link_id).in_(ids), Attribute.link_entity == "service")
    ).all()
    terms: dict[uuid.UUID, list[TaxonomyTerm]] = defaultdict(list)
    for link_id, term in term_rows:
        terms[link_id].append(term)
    sal_by_service = _by(sals, "service_id")
    result = []
    for sid in ids:
        service = services.get(sid)
        if service is None:
            continue
        places = [
            PlaceDetail(
                service_at_location_id=sal.id,
                location=locations[sal.location_id],
                address=(addresses.get(sal.location_id) or [None])[0],
                accessibility=access.get(sal.location_id, []),
            )
            for sal in sal_by_service.get(sid, [])
        ]
        result.append(
            ListingDetail(
                service=service,
                organization=orgs[service.organization_id],
                places=places,
                schedules=sorted(schedules.get(sid, []), key=schedule_key),
                meeting=meetings.get(sid),
                categories=terms.get(sid, []),
                languages=languages.get(sid, []),
                phones=phones.get(sid, []),
                costs=costs.get(sid, []),
            )
        )
    return result


_DAY_ORDER = {d: i for i, d in enumerate(["SU", "MO", "TU", "WE", "TH", "FR", "SA"])}


def schedule_key(s: Schedule) -> tuple[int, str]:
    first = (s.byday or "").split(",")[0][-2:]
    return (_DAY_ORDER.get(first, 9), s.opens_at.isoformat() if s.opens_at else "")


def get_listing(session: Session, service_id: uuid.UUID) -> ListingDetail:
    found = load_listings(session, [service_id])
    if not found:
        raise NotFound(N_("This listing does not exist or was removed."))
    return found[0]


def get_organization(session: Session, organization_id: uuid.UUID) -> Organization:
    org = session.get(Organization, organization_id)
    if org is None:
        raise NotFound(N_("This organization does not exist or was removed."))
    return org


def organization_listings(session: Session, organization_id: uuid.UUID) -> list[ListingDetail]:
    ids = session.exec(
        select(Service.id).where(Service.organization_id == organization_id).order_by(col(Service.name))
    ).all()
    return load_listings(session, list(ids))


def list_organizations(session: Session, *, page: int, per_page: int) -> tuple[list[Organization], int]:
    from sqlalchemy import func

    total = session.exec(select(func.count()).select_from(Organization)).one()
    rows = session.exec(
        select(Organization).order_by(col(Organization.name)).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return list(rows), int(total)
