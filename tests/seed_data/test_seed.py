import json
from datetime import date, time, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, func, select

from core.errors import Conflict
from core.outbox import OutboxEvent
from directory.listings.models import Address, ConfidentialAddress, Location, Meeting, Phone, Schedule, Service
from directory.listings.rows import zip_centre
from directory.listings.service import MODELS, upsert_listing
from directory.listings.taxonomy import CATEGORY_CODES, ancestors
from seed_data.generate import generate
from seed_data.load import curated_listings, load_curated, load_generated
from tests.conftest import STANDARDS

TODAY = date(2026, 3, 2)


@pytest.fixture(scope="module")
def curated():
    return curated_listings(today=TODAY)


@pytest.fixture(scope="module")
def meeting_types() -> set[str]:
    return set(json.loads((STANDARDS / "meeting-guide" / "data" / "types.json").read_text(encoding="utf-8")))


def _count(session: Session, model: type[SQLModel]) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def test_every_category_has_a_curated_service(curated):
    used = {code for listing in curated for code in listing.categories}
    covered = {code for c in used for code in ancestors(c)}
    assert covered == CATEGORY_CODES


def test_curated_meetings_cover_fellowships_and_attendance_modes(curated):
    meetings = [listing.meeting for listing in curated if listing.meeting]
    assert len({m.fellowship for m in meetings}) >= 4
    modes = {m.attendance_mode.value: m for m in meetings}
    assert set(modes) == {"in_person", "online", "hybrid"}
    online = [listing for listing in curated if listing.meeting and listing.meeting.attendance_mode == "online"]
    assert all(listing.meeting and listing.meeting.conference_url and not listing.locations for listing in online)


def test_curated_has_closures_waitlists_time_zones_and_stale_listings(curated):
    closed = [x for x in curated if x.status == "temporarily closed"]
    assert closed and all(x.reopening_date and x.reopening_date > TODAY for x in closed)
    assert any(x.capacity == "waitlist" and "food-bank" in x.categories for x in curated)
    assert {"America/Chicago", "America/Denver"} <= {x.timezone for x in curated}
    ages = [(TODAY - x.assured_date).days for x in curated if x.assured_date]
    assert len(ages) >= 0.8 * len(curated)
    assert 1 <= sum(age > 180 for age in ages) <= 4
    assert any(s.closes_at and s.closes_at < s.opens_at for x in curated for s in x.schedules)


def test_meeting_type_codes_exist_in_the_meeting_guide_standard(curated, meeting_types):
    generated = [x.meeting for x in generate(3000, seed=7, today=TODAY) if x.meeting]
    used = {code for m in [x.meeting for x in curated if x.meeting] + generated if m for code in m.types}
    assert used and used <= meeting_types, used - meeting_types


def test_confidential_street_is_stored_only_apart(session: Session):
    load_curated(session=session)
    location = session.exec(select(Location).where(Location.is_confidential)).one()
    address = session.exec(select(Address).where(Address.location_id == location.id)).one()
    secret = session.get(ConfidentialAddress, location.id)

    assert secret is not None and secret.address_1 == "2417 N Sawyer Ave"
    assert (address.address_1, address.address_2) == ("", None)
    assert (address.city, address.postal_code) == ("Chicago", "60647")
    assert (location.latitude, location.longitude) == zip_centre("60647")
    assert location.coordinates_approximate
    public = json.dumps([location.model_dump(mode="json"), address.model_dump(mode="json")])
    assert "Sawyer" not in public and str(secret.latitude) not in public


def test_curated_load_writes_schedules_across_midnight_and_outbox_rows(session: Session):
    count = load_curated(session=session)
    assert _count(session, Service) == count
    night_owls = session.exec(select(Meeting).where(Meeting.slug == "curated-aa-night-owls")).one()
    owls = session.exec(select(Schedule).where(Schedule.service_id == night_owls.service_id)).one()
    assert (owls.opens_at, owls.closes_at, owls.timezone) == (time(23, 30), time(0, 30), "America/Chicago")
    service_ids = set(session.exec(select(Service.id)).all())
    assert set(session.exec(select(OutboxEvent.entity_id)).all()) == service_ids


def test_loading_curated_twice_changes_nothing(session: Session):
    load_curated(session=session)
    before = {name: _count(session, model) for name, model in MODELS.items()}
    outbox_before = _count(session, OutboxEvent)
    load_curated(session=session)
    assert {name: _count(session, model) for name, model in MODELS.items()} == before
    assert _count(session, OutboxEvent) == outbox_before


def test_upsert_updates_in_place_and_drops_removed_details(session: Session, curated):
    listing = next(x for x in curated if x.key == "curated:mhrcc-drop-in")
    sid = upsert_listing(session=session, listing=listing)
    changed = listing.model_copy(update={"name": "Drop-in center", "phones": listing.phones[:1]})

    assert upsert_listing(session=session, listing=changed) == sid
    service = session.get(Service, sid)
    assert service is not None and service.name == "Drop-in center"
    assert _count(session, Service) == 1
    assert len(session.exec(select(Phone).where(Phone.service_id == sid)).all()) == 1
    assert len(session.exec(select(OutboxEvent).where(OutboxEvent.entity_id == sid)).all()) == 2


def test_meeting_slug_taken_by_another_service_is_a_conflict(session: Session, curated):
    first, second = [x for x in curated if x.meeting][:2]
    upsert_listing(session=session, listing=first)
    assert first.meeting and second.meeting
    taken = second.meeting.model_copy(update={"slug": "curated-aa-tuesday-night-serenity"})
    clash = second.model_copy(update={"meeting": taken})
    with pytest.raises(Conflict):
        upsert_listing(session=session, listing=clash)
    assert _count(session, Service) == 1


def test_generator_is_deterministic_and_seeded():
    def dump(size: int, seed: int) -> list[dict]:
        return [x.model_dump(mode="json") for x in generate(size, seed=seed, today=TODAY)]

    first = dump(500, 1)
    assert len(first) == 500
    assert first == dump(500, 1)
    assert first != dump(500, 2)
    assert dump(120, 1) == first[:120]


def test_generated_listings_look_like_a_real_directory():
    listings = list(generate(2000, seed=3, today=TODAY))
    meetings = [x for x in listings if x.meeting]
    assert 0.45 < len(meetings) / len(listings) < 0.65
    assert {m.meeting.attendance_mode.value for m in meetings if m.meeting} == {"in_person", "online", "hybrid"}
    assert len({x.timezone for x in listings}) >= 3
    for listing in listings:
        for loc in listing.locations:
            assert loc.address is not None
            centre = zip_centre(loc.address.postal_code)
            assert centre is not None
            if loc.latitude is not None and loc.longitude is not None:
                assert abs(loc.latitude - centre[0]) < 0.02 and abs(loc.longitude - centre[1]) < 0.02


def test_load_generated_is_idempotent_and_fills_the_outbox(engine: Engine):
    assert load_generated(engine=engine, size=300, seed=5, progress=False) == 300
    assert load_generated(engine=engine, size=300, seed=5, progress=False) == 0

    with Session(engine) as session:
        assert _count(session, Service) == 300
        service_ids = set(session.exec(select(Service.id)).all())
        outbox_ids = session.exec(select(OutboxEvent.entity_id)).all()
        assert set(outbox_ids) == service_ids and len(outbox_ids) == 300
        assert _count(session, Meeting) > 100


def test_load_generated_with_a_bigger_size_only_adds_the_rest(engine: Engine):
    load_generated(engine=engine, size=150, seed=5, progress=False, batch_size=40)
    assert load_generated(engine=engine, size=260, seed=5, progress=False, batch_size=70) == 110
    with Session(engine) as session:
        assert _count(session, Service) == 260
        assert _count(session, OutboxEvent) == 260


def test_generated_dates_follow_today():
    listings = list(generate(300, seed=9, today=TODAY))
    assert all(x.assured_date <= TODAY for x in listings if x.assured_date)
    assert all(x.reopening_date > TODAY for x in listings if x.reopening_date)
    assert max(TODAY - x.assured_date for x in listings if x.assured_date) <= timedelta(days=420)
