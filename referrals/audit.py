"""The referral audit log: append-only events in one keyed hash chain, and its verification.

Each event stores `prev_hash` (the hash of the event before it in `seq` order, zeros for the first)
and `hash = HMAC-SHA256(key, canonical JSON of its fields + prev_hash)`. Editing any field of any event,
deleting an event or re-ordering them breaks a link that `verify_chain` reports, and recomputing the
chain needs the key: plain SHA-256 (or a guessed key) does not produce hashes that verify. The key is
REFERRAL_AUDIT_KEY, or generated once into DATA_DIR/referral_audit_key (mode 0600); losing it means the
chain can no longer be verified, so back it up with the database, apart from it.

The head row holds the last sequence number and hash, so cutting events off the end is caught too,
unless the head row is edited as well. `export_head` writes that head (after verifying the chain) to a
file kept elsewhere; `verify_chain(anchor=...)` then also fails when the chain no longer contains the
exported event with the exported hash: events were cut off the end, or history up to it was rewritten
(even by someone holding the key). Appending updates the head first: that row lock (PostgreSQL) or the
writer lock (SQLite) makes concurrent appends queue up. Events written before the chain was keyed were
re-chained by migration 0003 (see there); on PostgreSQL and SQLite a trigger refuses UPDATE and DELETE.
"""

import hashlib
import hmac
import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from core.clock import utcnow
from core.errors import ConfigurationError
from core.secrets import file_secret
from core.settings import Settings
from referrals.db import as_utc, insert_or_skip
from referrals.models import ReferralAuditHead, ReferralEvent

GENESIS = "0" * 64
KEY_FILE = "referral_audit_key"
HEAD_FORMAT = "referral-audit-head/1"
_HEAD_ID = 1
_HEX64 = re.compile(r"[0-9a-f]{64}")


def audit_key(settings: Settings) -> bytes:
    """REFERRAL_AUDIT_KEY, else the key generated once into the data directory."""
    return (settings.referral_audit_key or file_secret(settings.data_dir / KEY_FILE)).encode()


def _timestamp(value: datetime) -> str:
    return as_utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(fields: dict[str, Any]) -> str:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def event_fields(event: Any) -> dict[str, Any]:
    """Everything the hash covers (all columns but the surrogate id and the hashes themselves).

    `event` is a ReferralEvent or a row with the same column names (the re-chaining migration)."""
    return {
        "seq": event.seq,
        "referral_id": str(event.referral_id),
        "at": _timestamp(event.at),
        "actor_id": str(event.actor_id) if event.actor_id else None,
        "actor_role": event.actor_role,
        "action": event.action,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "business_status": event.business_status,
        "reason_code": event.reason_code,
        "data": event.data or {},
    }


def compute_hash(event: Any, prev_hash: str, key: bytes) -> str:
    return hmac.new(key, (canonical(event_fields(event)) + prev_hash).encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class EventIn:
    referral_id: uuid.UUID
    at: datetime
    actor_id: uuid.UUID | None
    actor_role: str
    action: str
    from_status: str | None
    to_status: str
    business_status: str | None = None
    reason_code: str | None = None
    data: dict[str, Any] | None = None


def append(session: Session, item: EventIn, *, settings: Settings) -> ReferralEvent:
    """Add one event at the end of the chain (inside the caller's transaction; the caller commits)."""
    key = audit_key(settings)  # before any write: a missing or unreadable key changes nothing
    insert_or_skip(session, ReferralAuditHead, {"id": _HEAD_ID, "seq": 0, "last_hash": GENESIS}, ["id"])
    session.connection().execute(
        update(ReferralAuditHead).where(col(ReferralAuditHead.id) == _HEAD_ID).values(seq=ReferralAuditHead.seq + 1)
    )
    seq, prev_hash = (
        session.connection()
        .execute(
            select(ReferralAuditHead.seq, ReferralAuditHead.last_hash).where(col(ReferralAuditHead.id) == _HEAD_ID)
        )
        .one()
    )
    event = ReferralEvent(
        seq=seq,
        referral_id=item.referral_id,
        at=as_utc(item.at),
        actor_id=item.actor_id,
        actor_role=item.actor_role,
        action=item.action,
        from_status=item.from_status,
        to_status=item.to_status,
        business_status=item.business_status,
        reason_code=item.reason_code,
        data=dict(item.data or {}),
        prev_hash=prev_hash,
        hash="",
    )
    event.hash = compute_hash(event, prev_hash, key)
    session.add(event)
    session.flush()
    session.connection().execute(
        update(ReferralAuditHead).where(col(ReferralAuditHead.id) == _HEAD_ID).values(last_hash=event.hash)
    )
    return event


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    broken_seq: int | None = None
    broken_event_id: int | None = None
    referral_id: uuid.UUID | None = None
    problem: str = ""

    def describe(self) -> str:
        if self.ok:
            return f"audit chain intact: {self.checked} events verified"
        where = f"event seq={self.broken_seq} (id={self.broken_event_id}, referral {self.referral_id})"
        return f"audit chain BROKEN at {where}: {self.problem}" if self.broken_seq is not None else self.problem


@dataclass(frozen=True)
class AuditHead:
    """The chain's last event as exported: a later chain must still hold this event with this hash."""

    seq: int
    hash: str


def verify_chain(session: Session, *, key: bytes, anchor: AuditHead | None = None, batch: int = 1000) -> Verification:
    """Recompute every hash in order; report the first event whose link does not hold."""
    prev_hash, expected_seq, checked, last_seq = GENESIS, 1, 0, 0
    while True:
        rows = session.exec(
            select(ReferralEvent)
            .where(col(ReferralEvent.seq) > last_seq)
            .order_by(col(ReferralEvent.seq))
            .limit(batch)
            .execution_options(populate_existing=True)  # re-read what is stored, not what this session cached
        ).all()
        for event in rows:
            problem = _link_problem(event, prev_hash, expected_seq, key) or _anchor_problem(event, anchor)
            if problem:
                return Verification(False, checked, event.seq, event.id, event.referral_id, problem)
            prev_hash, expected_seq, checked, last_seq = event.hash, event.seq + 1, checked + 1, event.seq
        if len(rows) < batch:
            break
    if anchor is not None and last_seq < anchor.seq:
        return Verification(
            False,
            checked,
            problem=f"audit chain BROKEN at the end: the exported head records event seq={anchor.seq} but the chain "
            f"ends at seq={last_seq} (events were cut off the end)",
        )
    return _check_head(session, checked, last_seq, prev_hash)


def _link_problem(event: ReferralEvent, prev_hash: str, expected_seq: int, key: bytes) -> str:
    if event.seq != expected_seq:
        return f"events {expected_seq}..{event.seq - 1} are missing (deleted)"
    if event.prev_hash != prev_hash:
        return "prev_hash does not match the previous event (an event before it was changed or deleted)"
    if not hmac.compare_digest(compute_hash(event, event.prev_hash, key), event.hash):
        hint = " or the audit key is not the one the chain was written with" if expected_seq == 1 else ""
        return f"the stored hash does not match the event's content (the event was edited{hint})"
    return ""


def _anchor_problem(event: ReferralEvent, anchor: AuditHead | None) -> str:
    if anchor is None or event.seq != anchor.seq or hmac.compare_digest(event.hash, anchor.hash):
        return ""
    return "the hash differs from the exported head: the history up to this event was rewritten"


def _check_head(session: Session, checked: int, last_seq: int, last_hash: str) -> Verification:
    head = session.exec(
        select(ReferralAuditHead).where(col(ReferralAuditHead.id) == _HEAD_ID).execution_options(populate_existing=True)
    ).first()
    head_seq, head_hash = (head.seq, head.last_hash) if head else (0, GENESIS)
    if (head_seq, head_hash) != (last_seq, last_hash):
        return Verification(
            False,
            checked,
            problem=(
                f"audit chain BROKEN at the end: the head records {head_seq} events but {last_seq} remain "
                "(events were deleted from the end, or the head was edited)"
            ),
        )
    return Verification(True, checked)


def history(session: Session, referral_id: uuid.UUID) -> list[ReferralEvent]:
    return list(
        session.exec(
            select(ReferralEvent).where(ReferralEvent.referral_id == referral_id).order_by(col(ReferralEvent.seq))
        ).all()
    )


def export_head(session: Session, *, key: bytes, path: Path) -> tuple[AuditHead, Verification]:
    """Verify the chain and, when intact, write its head to `path` (to be kept away from the database)."""
    result = verify_chain(session, key=key)
    if not result.ok:
        return AuditHead(seq=0, hash=GENESIS), result
    head = session.exec(select(ReferralAuditHead).where(col(ReferralAuditHead.id) == _HEAD_ID)).first()
    exported = AuditHead(seq=head.seq, hash=head.last_hash) if head else AuditHead(seq=0, hash=GENESIS)
    body = {"format": HEAD_FORMAT, "seq": exported.seq, "hash": exported.hash, "exported_at": utcnow().isoformat()}
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(json.dumps(body, indent=2) + "\n")
        tmp.replace(path)
    except OSError as exc:
        raise ConfigurationError(f"cannot write the audit head to {path} ({exc.strerror})") from exc
    return exported, result


def read_head(path: Path) -> AuditHead:
    """An exported head file; a missing or malformed one is a clear error, never "no anchor"."""
    try:
        body = json.loads(path.read_text())
    except OSError as exc:
        raise ConfigurationError(f"cannot read the audit head file {path} ({exc.strerror})") from exc
    except ValueError as exc:
        raise ConfigurationError(f"{path} is not an audit head file (not JSON)") from exc
    if not isinstance(body, dict) or body.get("format") != HEAD_FORMAT:
        raise ConfigurationError(f"{path} is not an audit head file written by `python -m referrals audit-head`")
    seq, digest = body.get("seq"), body.get("hash")
    if type(seq) is not int or seq < 0 or not isinstance(digest, str) or not _HEX64.fullmatch(digest):
        raise ConfigurationError(f"{path} is an audit head file with a malformed seq or hash")
    return AuditHead(seq=seq, hash=digest)
