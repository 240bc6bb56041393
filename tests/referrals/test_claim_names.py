"""A member of two organizations that were both offered an open referral picks which one claims it by
name, not by an id."""

from typing import Any

import pytest
from sqlmodel import Session

from core.settings import Settings
from directory.listings.models import Organization
from referrals.codes import Status
from tests.factories import World, add_member, insert_listing, make_referral, place
from tests.html import parse

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_the_claim_form_names_the_organizations(
    people: dict[str, Any], world: World, session: Session, settings: Settings
) -> None:
    uptown = insert_listing(
        session,
        name="Uptown Pantry",
        organization="Uptown Pantry Partners",
        categories=["food-pantry"],
        places=[place(41.9650, -87.6550, postal_code="60640")],
    )
    add_member(session, world.member, uptown.organization_id, "editor", False)
    referral = make_referral(session, world, settings, Status.requested, is_open=True)
    page = parse(people["member"].browser.get(f"/referrals/{referral.id}").text)
    options = {o.attrs["value"]: " ".join(o.text.split()) for o in page.find_all("option") if o.attrs.get("value")}
    assert options[str(uptown.organization_id)] == "Uptown Pantry Partners"
    org_a = session.get(Organization, world.org_a)
    assert org_a is not None and options[str(world.org_a)] == org_a.name
