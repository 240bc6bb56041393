"""Migration 0003 re-chains events written with plain SHA-256 under the key (refusing a chain that was
already altered), and from then on the database itself refuses to update or delete audit events."""

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, SQLModel, col, select

from core.cli import run_migrations
from core.errors import ConfigurationError
from core.settings import Settings
from referrals.audit import audit_key, verify_chain
from referrals.codes import Status
from referrals.models import Referral, ReferralEvent
from referrals.privacy import purge
from tests.factories import NOW, build_world, make_referral
from tests.referrals.test_audit import forge, plain_sha256

BEFORE = "0002_feed_sources"  # the revision before the keyed chain


@pytest.fixture(autouse=True)
def no_version_left(engine: Engine) -> Iterator[None]:
    """The engine fixture drops the model tables only; on a shared PostgreSQL database a leftover
    alembic_version would make the next migration test start "at head" with no tables."""
    yield
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


def hashes(session: Session) -> list[str]:
    session.expire_all()
    found = [e.hash for e in session.exec(select(ReferralEvent).order_by(col(ReferralEvent.seq))).all()]
    session.rollback()  # end the read: on PostgreSQL its table lock would block the DDL of a migration
    return found


def legacy_chain(engine: Engine, session: Session, settings: Settings) -> list[str]:
    """A database at the revision before, holding events chained the old way (plain SHA-256)."""
    SQLModel.metadata.drop_all(engine)
    run_migrations(settings, BEFORE)
    world = build_world(session)
    make_referral(session, world, settings, Status.completed)
    make_referral(session, world, settings, Status.accepted)
    forge(engine, session, 1, plain_sha256)
    return hashes(session)


def test_the_upgrade_rechains_legacy_events_under_the_key_and_guards_the_table(
    engine: Engine, session: Session, settings: Settings
) -> None:
    legacy = legacy_chain(engine, session, settings)
    key = audit_key(settings)
    assert not verify_chain(session, key=key).ok  # what the new code makes of an unkeyed chain
    run_migrations(settings, "head")
    result = verify_chain(session, key=key)
    assert result.ok and result.checked == len(legacy)
    assert not set(hashes(session)) & set(legacy)

    first = session.exec(select(ReferralEvent).where(ReferralEvent.seq == 1)).one()
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text("UPDATE referral_event SET to_status = 'cancelled' WHERE id = :id"), {"id": first.id})
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text("DELETE FROM referral_event WHERE seq = (SELECT MAX(seq) FROM referral_event)"))
    assert verify_chain(session, key=key).checked == len(legacy)

    # The retention purge nulls referral fields and appends its event: the guard does not get in its way.
    assert purge(session=session, now=NOW + timedelta(days=181), settings=settings) == 1
    assert session.exec(select(Referral).where(col(Referral.purged_at).is_not(None))).one().person_name is None
    assert verify_chain(session, key=key).checked == len(legacy) + 1


def test_the_upgrade_refuses_to_rekey_a_chain_altered_before_it(
    engine: Engine, session: Session, settings: Settings
) -> None:
    legacy_chain(engine, session, settings)
    with engine.begin() as conn:
        conn.execute(text("UPDATE referral_event SET reason_code = 'other' WHERE seq = 3"))
    before = hashes(session)
    with pytest.raises(ConfigurationError, match=r"does not verify with plain SHA-256 at event seq=3"):
        run_migrations(settings, "head")
    assert hashes(session) == before  # nothing re-chained
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == BEFORE


def test_the_downgrade_restores_the_unkeyed_chain_and_lifts_the_guard(
    engine: Engine, session: Session, settings: Settings
) -> None:
    legacy = legacy_chain(engine, session, settings)
    run_migrations(settings, "head")
    run_migrations(settings, BEFORE, downgrade=True)
    assert hashes(session) == legacy
    with engine.begin() as conn:
        conn.execute(text("UPDATE referral_event SET reason_code = reason_code WHERE seq = 1"))
