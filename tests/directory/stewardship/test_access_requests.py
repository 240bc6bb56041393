"""Asking to manage a listing without an account: the public link, the form, the e-mailed proof, the evidence a
network admin sees and the approval that links or invites the account."""

from typing import Any

import pytest
from babel.messages.extract import extract_from_file
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from accounts.models import Invitation, Membership
from core.i18n import translations
from core.settings import PROJECT_ROOT, Settings
from directory.listings.models import Organization, Service
from directory.stewardship.access_requests import domain_of
from directory.stewardship.models import ClaimRequest
from tests.factories import make_listing, make_user
from tests.html import elements, field_errors, hidden
from tests.support import folder_links, signed_in_as, table_counts

ORIGIN = {"origin": "http://testserver"}
ASK = {"display_name": "Ada Director", "email": "ada@northside.example.org", "phone": "312-555-0111"}


@pytest.fixture
def pantry(session: Session) -> Service:
    service = make_listing(session, "northside-neighbors", name="Northside Pantry")
    org = session.get(Organization, service.organization_id)
    assert org is not None
    org.website = "https://www.northside.example.org/about"
    session.add(org)
    session.commit()
    return service


def ask(web: TestClient, url: str, **fields: str) -> Any:
    token = hidden(web.get(url), "form_token")
    data = {**ASK, "message": "Executive director", **fields, "form_token": token}
    return web.post(url, data=data, headers=ORIGIN, follow_redirects=False)


def confirm(web: TestClient, settings: Settings) -> Any:
    link = folder_links(settings, "/access-requests/confirm/")[-1].removeprefix(settings.base_url.rstrip("/"))
    page = web.get(link)
    return web.post(link, data={"form_token": hidden(page, "form_token")}, headers=ORIGIN)


def test_listing_and_organization_pages_offer_to_manage_them(web: TestClient, pantry: Service) -> None:
    listing = elements(web.get(f"/services/{pantry.id}"), "a", data_manage=True)
    assert [a.attrs["href"] for a in listing] == [f"/services/{pantry.id}/manage"]
    org = elements(web.get(f"/organizations/{pantry.organization_id}"), "a", data_manage=True)
    assert [a.attrs["href"] for a in org] == [f"/organizations/{pantry.organization_id}/manage"]
    spanish = elements(web.get(f"/services/{pantry.id}?lang=es"), "a", data_manage=True)
    assert "¿Es su organización?" in spanish[0].text


def test_a_signed_in_person_goes_on_to_the_claim_form(web: TestClient, session: Session, pantry: Service) -> None:
    make_user(session, "someone@example.org")
    signed_in_as(web, session, "someone@example.org")
    for url in (f"/services/{pantry.id}/manage", f"/organizations/{pantry.organization_id}/manage"):
        response = web.get(url, follow_redirects=False)
        assert response.status_code == 200
        claim = elements(response, "form", action=f"/services/{pantry.id}/claim")
        assert len(claim) == 1, url  # the account's claim form for the listing, not the account-less request


def test_a_request_reaches_the_admins_only_after_the_address_is_proved(
    web: TestClient, session: Session, settings: Settings, pantry: Service
) -> None:
    make_user(session, "root@example.org", network_admin=True)
    sent = ask(web, f"/services/{pantry.id}/manage")
    assert sent.status_code == 303 and sent.headers["location"] == "/access-requests/sent"
    admin = TestClient(web.app, base_url="http://testserver")
    signed_in_as(admin, session, "root@example.org")
    assert elements(admin.get("/admin/claims"), "article") == []  # not proved yet
    assert confirm(web, settings).status_code == 200
    articles = elements(admin.get("/admin/claims"), "article")
    assert len(articles) == 1 and "Ada Director" in articles[0].text
    page = admin.get("/admin/claims")
    assert "matches" in elements(page, "dd", data_evidence="domain")[0].text  # www.northside.example.org
    again = confirm(web, settings)
    assert again.status_code == 410  # the link works once


def test_approving_a_domain_match_invites_the_address_as_admin(
    web: TestClient, session: Session, settings: Settings, pantry: Service
) -> None:
    make_user(session, "root@example.org", network_admin=True)
    ask(web, f"/organizations/{pantry.organization_id}/manage")
    confirm(web, settings)
    claim = session.exec(select(ClaimRequest)).one()
    admin = TestClient(web.app, base_url="http://testserver")
    csrf = signed_in_as(admin, session, "root@example.org")
    approved = admin.post(f"/admin/claims/{claim.id}/approve", data={"csrf_token": csrf}, follow_redirects=False)
    assert approved.status_code == 303
    invitation = session.exec(select(Invitation)).one()
    assert (invitation.email, invitation.role, invitation.organization_id) == (
        ASK["email"],
        "admin",
        pantry.organization_id,
    )
    assert folder_links(settings, "/invitations/")


def test_another_domain_needs_a_call_back_note_and_an_existing_account_is_linked(
    web: TestClient, session: Session, settings: Settings, pantry: Service, engine: Engine
) -> None:
    make_user(session, "root@example.org", network_admin=True)
    existing = make_user(session, "ada@gmail.example")
    ask(web, f"/services/{pantry.id}/manage", email="ada@gmail.example")
    confirm(web, settings)
    claim = session.exec(select(ClaimRequest)).one()
    admin = TestClient(web.app, base_url="http://testserver")
    csrf = signed_in_as(admin, session, "root@example.org")
    before = table_counts(engine)
    refused = admin.post(f"/admin/claims/{claim.id}/approve", data={"csrf_token": csrf})
    assert refused.status_code == 422 and "call the person back" in refused.text
    assert table_counts(engine) == before
    note = {"csrf_token": csrf, "callback_note": "Called the listed number; the front desk confirmed Ada."}
    assert admin.post(f"/admin/claims/{claim.id}/approve", data=note, follow_redirects=False).status_code == 303
    member = session.exec(select(Membership).where(Membership.user_id == existing.id)).one()
    assert (member.organization_id, member.role) == (pantry.organization_id, "admin")
    session.expire_all()
    assert session.get(ClaimRequest, claim.id).callback_note == note["callback_note"]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"email": "not-an-address"}, "email"),
        ({"display_name": ""}, "display_name"),
        ({"message": ""}, "message"),
        ({"phone": "call me"}, "phone"),
    ],
    ids=["email", "name", "message", "phone"],
)
def test_bad_input_is_refused_and_stores_nothing(
    web: TestClient, settings: Settings, pantry: Service, engine: Engine, fields: dict[str, str], field: str
) -> None:
    before = table_counts(engine)
    response = ask(web, f"/services/{pantry.id}/manage", **fields)
    assert response.status_code == 422 and field in field_errors(response)
    assert table_counts(engine) == before
    assert folder_links(settings, "/access-requests/") == []


def test_the_form_needs_its_token_and_the_same_origin(web: TestClient, pantry: Service) -> None:
    url = f"/services/{pantry.id}/manage"
    assert web.post(url, data={**ASK, "message": "x"}, headers=ORIGIN).status_code == 403
    token = hidden(web.get(url), "form_token")
    foreign = web.post(url, data={**ASK, "message": "x", "form_token": token}, headers={"origin": "https://evil.test"})
    assert foreign.status_code == 403


def test_unknown_listings_and_links_are_clear_errors(web: TestClient) -> None:
    assert web.get("/services/00000000-0000-0000-0000-000000000000/manage").status_code == 404
    assert web.get("/organizations/00000000-0000-0000-0000-000000000000/manage").status_code == 404
    confirm_page = web.get("/access-requests/confirm/nonsense")
    token = hidden(confirm_page, "form_token")
    gone = web.post("/access-requests/confirm/nonsense", data={"form_token": token}, headers=ORIGIN)
    assert gone.status_code == 410


@pytest.mark.parametrize(
    ("value", "domain"),
    [
        ("https://www.northside.example.org/about", "northside.example.org"),
        ("info@Northside.example.org", "northside.example.org"),
        ("northside.example.org", "northside.example.org"),
        (None, None),
    ],
)
def test_domains_of_websites_and_addresses(value: str | None, domain: str | None) -> None:
    assert domain_of(value) == domain


@pytest.mark.parametrize(
    "name",
    [
        "templates/directory/stewardship/request_access.html",
        "templates/directory/stewardship/access_message.html",
        "directory/stewardship/access_requests.py",
    ],
)
def test_the_new_public_pages_and_their_messages_are_in_spanish(name: str) -> None:
    method = "python" if name.endswith(".py") else "jinja2"
    keywords = {"_": None, "gettext": None, "N_": None}
    extracted = extract_from_file(method, str(PROJECT_ROOT / name), keywords=keywords)
    found = [m if isinstance(m, str) else m[0] for _, m, _, _ in extracted]
    spanish = translations("es")
    assert found and [m for m in found if spanish.ugettext(m) == m] == []
