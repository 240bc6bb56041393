"""Another location for an existing listing: added from the listing's workspace page, with its address,
its own time zone and point, an audit row and an outbox row; held for approval for an untrusted editor;
bad input is a 422 that writes nothing."""

import uuid

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from accounts.models import OrgRole
from core.outbox import OutboxEvent
from directory.edits.models import ChangeRequest, ListingChange
from directory.listings.models import Address, Location, Service, ServiceAtLocation
from tests.factories import add_member, make_listing, make_user
from tests.html import elements, field_errors
from tests.support import signed_in_as, table_counts

EVANSTON = {
    "name": "Evanston branch",
    "address_1": "1700 Maple Ave",
    "city": "Evanston",
    "state_province": "IL",
    "postal_code": "60201",
    "transportation": "Davis stop on the Purple Line",
}


def _member(session: Session, service: Service, *, trusted: bool, role: str = OrgRole.editor) -> str:
    email = f"{role}-{uuid.uuid4().hex[:6]}@example.org"
    add_member(session, make_user(session, email), service.organization_id, role, trusted=trusted)
    return email


def _places(session: Session, service: Service) -> list[Location]:
    session.expire_all()
    ids = session.exec(select(ServiceAtLocation.location_id).where(ServiceAtLocation.service_id == service.id)).all()
    return list(session.exec(select(Location).where(col(Location.id).in_(ids))).all())


def test_an_editor_adds_a_location_to_a_listing(web: TestClient, session: Session) -> None:
    service = make_listing(session)
    csrf = signed_in_as(web, session, _member(session, service, trusted=True))
    page = web.get(f"/workspace/services/{service.id}")
    form = elements(page, "form", action=f"/workspace/services/{service.id}/locations/new")
    assert form and elements(page, "input", id="newloc-address_1")
    before = {loc.id for loc in _places(session, service)}
    added = web.post(
        f"/workspace/services/{service.id}/locations/new", data={"csrf_token": csrf, **EVANSTON}, follow_redirects=False
    )
    assert added.status_code == 303, field_errors(added) or added.text[-2000:]
    new = [loc for loc in _places(session, service) if loc.id not in before]
    assert len(new) == 1 and new[0].name == "Evanston branch" and new[0].organization_id == service.organization_id
    assert new[0].timezone == "America/Chicago" and new[0].latitude is not None and new[0].coordinates_approximate
    address = session.exec(select(Address).where(Address.location_id == new[0].id)).one()
    assert (address.address_1, address.city, address.postal_code) == ("1700 Maple Ave", "Evanston", "60201")
    assert session.exec(select(OutboxEvent).where(OutboxEvent.entity_id == service.id)).first() is not None
    audit = session.exec(select(ListingChange).where(ListingChange.entity_id == new[0].id)).one()
    assert audit.action == "location.add" and audit.before is None
    shown = web.get(added.headers["location"])
    assert elements(shown, "section", id=f"location-{new[0].id}")
    assert "1700 Maple Ave" in web.get(f"/services/{service.id}").text  # the public page lists it


def test_bad_addresses_are_refused_and_change_nothing(web: TestClient, session: Session, engine: Engine) -> None:
    service = make_listing(session)
    csrf = signed_in_as(web, session, _member(session, service, trusted=True))
    counts = table_counts(engine)
    bad = web.post(
        f"/workspace/services/{service.id}/locations/new",
        data={"csrf_token": csrf, **EVANSTON, "city": "", "postal_code": "6020"},
    )
    assert bad.status_code == 422
    assert set(field_errors(bad)) >= {"city", "postal_code"}
    assert elements(bad, "input", id="newloc-address_1", value="1700 Maple Ave")  # the input is kept
    assert table_counts(engine) == counts


def test_an_untrusted_editors_location_waits_for_approval(web: TestClient, session: Session) -> None:
    service = make_listing(session)
    csrf = signed_in_as(web, session, _member(session, service, trusted=False))
    before = {loc.id for loc in _places(session, service)}
    held = web.post(
        f"/workspace/services/{service.id}/locations/new", data={"csrf_token": csrf, **EVANSTON}, follow_redirects=False
    )
    assert held.status_code == 303 and "note=held" in held.headers["location"]
    assert {loc.id for loc in _places(session, service)} == before
    change = session.exec(select(ChangeRequest).where(ChangeRequest.service_id == service.id)).one()
    admin_csrf = signed_in_as(web, session, _member(session, service, trusted=True, role=OrgRole.admin))
    review = web.get(f"/workspace/moderation/changes/{change.id}")
    cells = {r.attrs["data-field"]: r.text for r in elements(review, "tr") if "data-field" in r.attrs}
    assert "1700 Maple Ave" in cells["address_1"] and "Evanston" in cells["city"]
    approved = web.post(
        f"/workspace/moderation/changes/{change.id}/approve", data={"csrf_token": admin_csrf}, follow_redirects=False
    )
    assert approved.status_code == 303
    assert [loc.name for loc in _places(session, service) if loc.id not in before] == ["Evanston branch"]
