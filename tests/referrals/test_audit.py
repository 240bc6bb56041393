"""The audit hash chain: intact after real work, and any edit or deletion is caught and named."""

import itertools
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from core.settings import Settings, get_settings
from referrals.__main__ import app as cli
from referrals.audit import compute_hash, verify_chain
from referrals.codes import Status
from referrals.models import ReferralEvent
from tests.factories import World, make_referral


@pytest.fixture
def events(session: Session, settings: Settings, world: World) -> list[ReferralEvent]:
    make_referral(session, world, settings, Status.completed)
    make_referral(session, world, settings, Status.rejected)
    rows = list(session.exec(select(ReferralEvent).order_by(col(ReferralEvent.seq))).all())
    assert len(rows) >= 6
    return rows


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("DATABASE_URL", settings.effective_database_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_chain_is_intact_after_real_work(session: Session, events: list[ReferralEvent]) -> None:
    result = verify_chain(session)
    assert result.ok and result.checked == len(events)
    assert events[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(events))


def test_an_edited_event_is_named(session: Session, engine: Engine, events: list[ReferralEvent], cli_env: None) -> None:
    target = events[3]
    with engine.begin() as conn:  # what someone with database access might do
        conn.execute(text("UPDATE referral_event SET to_status = 'cancelled' WHERE id = :id"), {"id": target.id})
    result = verify_chain(session)
    assert not result.ok
    assert (result.broken_seq, result.broken_event_id) == (target.seq, target.id)
    assert "edited" in result.problem
    outcome = CliRunner().invoke(cli, ["verify-audit"])
    assert outcome.exit_code == 1
    assert f"seq={target.seq}" in outcome.output and f"id={target.id}" in outcome.output


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(
    session: Session, engine: Engine, events: list[ReferralEvent]
) -> None:
    target, following = events[2], events[3]
    target.reason_code = "other"
    forged = compute_hash(target, target.prev_hash)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE referral_event SET reason_code = 'other', hash = :h WHERE id = :id"),
            {"h": forged, "id": target.id},
        )
    result = verify_chain(session)
    assert not result.ok and result.broken_seq == following.seq
    assert "prev_hash" in result.problem


def test_a_deleted_event_is_caught(session: Session, engine: Engine, events: list[ReferralEvent]) -> None:
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM referral_event WHERE id = :id"), {"id": events[1].id})
    result = verify_chain(session)
    assert not result.ok and result.broken_seq == events[2].seq
    assert "missing" in result.problem


def test_cutting_off_the_last_event_is_caught(session: Session, engine: Engine, events: list[ReferralEvent]) -> None:
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM referral_event WHERE id = :id"), {"id": events[-1].id})
    result = verify_chain(session)
    assert not result.ok and "end" in result.describe()


def test_cli_reports_an_intact_chain(events: list[ReferralEvent], cli_env: None) -> None:
    outcome = CliRunner().invoke(cli, ["verify-audit"])
    assert outcome.exit_code == 0, outcome.output
    assert f"{len(events)} events verified" in outcome.output
