"""The keyed audit chain: intact after real work; edits, deletions and forgeries without the key are caught
and named, and against an exported head so are truncation and rewriting by someone holding the key."""

import hashlib
import itertools
import json
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from core.settings import Settings, get_settings
from referrals.__main__ import app as cli
from referrals.audit import KEY_FILE, audit_key, canonical, compute_hash, event_fields, verify_chain
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
def key(settings: Settings) -> bytes:
    return audit_key(settings)


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("DATABASE_URL", settings.effective_database_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def verify_cli(*args: str) -> tuple[int, str]:
    outcome = CliRunner().invoke(cli, ["verify-audit", *args])
    return outcome.exit_code, outcome.output


def forge(engine: Engine, session: Session, from_seq: int, digest: Callable[[ReferralEvent, str], str]) -> None:
    """Recompute every hash from `from_seq` on (and the head) the way a forger would, with `digest`."""
    session.expire_all()
    chain = list(session.exec(select(ReferralEvent).order_by(col(ReferralEvent.seq))).all())
    prev = chain[from_seq - 2].hash if from_seq > 1 else "0" * 64
    with engine.begin() as conn:
        for event in chain[from_seq - 1 :]:
            new = digest(event, prev)
            conn.execute(
                text("UPDATE referral_event SET prev_hash = :p, hash = :h WHERE id = :id"),
                {"p": prev, "h": new, "id": event.id},
            )
            prev = new
        conn.execute(text("UPDATE referral_audit_head SET last_hash = :h"), {"h": prev})


def plain_sha256(event: ReferralEvent, prev_hash: str) -> str:
    """What the chain was before it was keyed, and all someone without the key can compute."""
    return hashlib.sha256((canonical(event_fields(event)) + prev_hash).encode()).hexdigest()


def test_chain_is_intact_after_real_work(session: Session, events: list[ReferralEvent], key: bytes) -> None:
    result = verify_chain(session, key=key)
    assert result.ok and result.checked == len(events)
    assert events[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(events))


def test_an_edited_event_is_named(
    session: Session, engine: Engine, events: list[ReferralEvent], key: bytes, cli_env: None
) -> None:
    target = events[3]
    with engine.begin() as conn:  # what someone with database access might do
        conn.execute(text("UPDATE referral_event SET to_status = 'cancelled' WHERE id = :id"), {"id": target.id})
    result = verify_chain(session, key=key)
    assert not result.ok
    assert (result.broken_seq, result.broken_event_id) == (target.seq, target.id)
    assert "edited" in result.problem
    code, output = verify_cli()
    assert code == 1
    assert f"seq={target.seq}" in output and f"id={target.id}" in output


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(
    session: Session, engine: Engine, events: list[ReferralEvent], key: bytes
) -> None:
    target, following = events[2], events[3]
    target.reason_code = "other"
    forged = compute_hash(target, target.prev_hash, key)  # even with the key, one event alone cannot be redone
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE referral_event SET reason_code = 'other', hash = :h WHERE id = :id"),
            {"h": forged, "id": target.id},
        )
    result = verify_chain(session, key=key)
    assert not result.ok and result.broken_seq == following.seq
    assert "prev_hash" in result.problem


def test_rewriting_history_and_rechaining_it_without_the_key_fails_verify_audit(
    session: Session, engine: Engine, events: list[ReferralEvent], cli_env: None
) -> None:
    target = events[2]
    with engine.begin() as conn:
        conn.execute(text("UPDATE referral_event SET to_status = 'cancelled' WHERE id = :id"), {"id": target.id})
    forge(engine, session, target.seq, plain_sha256)  # every link and the head are consistent again
    code, output = verify_cli()
    assert code == 1
    assert f"seq={target.seq}" in output and "edited" in output


def test_a_chain_written_with_another_key_fails_and_says_the_key_may_be_wrong(
    session: Session, events: list[ReferralEvent]
) -> None:
    result = verify_chain(session, key=b"another key of at least thirty-two bytes")
    assert not result.ok and result.broken_seq == 1
    assert "the audit key is not the one the chain was written with" in result.problem


def test_a_deleted_event_is_caught(session: Session, engine: Engine, events: list[ReferralEvent], key: bytes) -> None:
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM referral_event WHERE id = :id"), {"id": events[1].id})
    result = verify_chain(session, key=key)
    assert not result.ok and result.broken_seq == events[2].seq
    assert "missing" in result.problem


def test_cutting_off_the_last_event_is_caught(
    session: Session, engine: Engine, events: list[ReferralEvent], key: bytes
) -> None:
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM referral_event WHERE id = :id"), {"id": events[-1].id})
    result = verify_chain(session, key=key)
    assert not result.ok and "end" in result.describe()


def test_cli_reports_an_intact_chain(events: list[ReferralEvent], cli_env: None) -> None:
    code, output = verify_cli()
    assert code == 0, output
    assert f"{len(events)} events verified" in output


def test_a_truncated_chain_with_a_matching_head_row_fails_against_the_exported_head(
    session: Session, engine: Engine, events: list[ReferralEvent], tmp_path: Path, cli_env: None
) -> None:
    head_file = tmp_path / "exported" / "head.json"
    head_file.parent.mkdir()
    exported = CliRunner().invoke(cli, ["audit-head", "--out", str(head_file)])
    assert exported.exit_code == 0, exported.output
    assert json.loads(head_file.read_text())["seq"] == events[-1].seq
    kept = events[-3]
    with engine.begin() as conn:  # cut two events off and make the head row agree: no key needed
        conn.execute(text("DELETE FROM referral_event WHERE seq > :s"), {"s": kept.seq})
        conn.execute(text("UPDATE referral_audit_head SET seq = :s, last_hash = :h"), {"s": kept.seq, "h": kept.hash})
    assert verify_cli()[0] == 0  # the database alone cannot tell: that is what the exported head is for
    code, output = verify_cli("--head", str(head_file))
    assert code == 1
    assert f"exported head records event seq={events[-1].seq}" in output and f"ends at seq={kept.seq}" in output


def test_history_rewritten_with_the_key_fails_against_the_exported_head(
    session: Session, engine: Engine, events: list[ReferralEvent], key: bytes, tmp_path: Path, cli_env: None
) -> None:
    head_file = tmp_path / "head.json"
    assert CliRunner().invoke(cli, ["audit-head", "--out", str(head_file)]).exit_code == 0
    target = events[1]
    with engine.begin() as conn:
        conn.execute(text("UPDATE referral_event SET reason_code = 'other' WHERE id = :id"), {"id": target.id})
    forge(engine, session, target.seq, lambda event, prev: compute_hash(event, prev, key))
    assert verify_cli()[0] == 0  # an insider with the key can make the chain consistent again...
    code, output = verify_cli("--head", str(head_file))
    assert code == 1  # ...but not match a head exported before
    assert f"seq={events[-1].seq}" in output and "rewritten" in output


def test_events_appended_after_the_export_still_verify_against_it(
    session: Session, settings: Settings, world: World, events: list[ReferralEvent], tmp_path: Path, cli_env: None
) -> None:
    head_file = tmp_path / "head.json"
    assert CliRunner().invoke(cli, ["audit-head", "--out", str(head_file)]).exit_code == 0
    make_referral(session, world, settings, Status.accepted)
    code, output = verify_cli("--head", str(head_file))
    assert code == 0, output
    assert f"holds the exported head (seq={events[-1].seq})" in output


def test_a_broken_chain_is_not_exported(
    engine: Engine, events: list[ReferralEvent], tmp_path: Path, cli_env: None
) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE referral_event SET action = 'edited' WHERE id = :id"), {"id": events[0].id})
    outcome = CliRunner().invoke(cli, ["audit-head", "--out", str(tmp_path / "head.json")])
    assert outcome.exit_code == 1 and "not exported" in outcome.output
    assert not (tmp_path / "head.json").exists()


@pytest.mark.parametrize(
    "content",
    ["", "not json", '{"format": "something-else", "seq": 1, "hash": "' + "a" * 64 + '"}', '["a list"]',
     '{"format": "referral-audit-head/1", "seq": -1, "hash": "' + "a" * 64 + '"}',
     '{"format": "referral-audit-head/1", "seq": 3, "hash": "short"}'],
    ids=["empty", "not-json", "other-format", "list", "negative-seq", "short-hash"],
)  # fmt: skip
def test_a_bad_head_file_is_one_clear_error(tmp_path: Path, cli_env: None, content: str) -> None:
    head_file = tmp_path / "head.json"
    head_file.write_text(content)
    code, output = verify_cli("--head", str(head_file))
    assert code == 2
    assert output.startswith("error: ") and "head" in output and "Traceback" not in output


def test_the_key_is_generated_once_into_the_data_directory_with_mode_0600(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    first = audit_key(settings)
    assert len(first) >= 32 and audit_key(Settings(data_dir=tmp_path)) == first
    assert stat.S_IMODE(os.stat(tmp_path / KEY_FILE).st_mode) == 0o600


def test_a_configured_key_is_used_instead_of_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFERRAL_AUDIT_KEY", "k" * 40)
    settings = Settings(data_dir=tmp_path)
    assert audit_key(settings) == b"k" * 40
    assert not (tmp_path / KEY_FILE).exists()
    monkeypatch.setenv("REFERRAL_AUDIT_KEY", "too short")
    with pytest.raises(ValueError, match="referral_audit_key"):
        Settings(data_dir=tmp_path)
