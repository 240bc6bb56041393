"""The referral audit log: append-only events in one hash chain, and its verification.

Each event stores `prev_hash` (the hash of the event before it in `seq` order, zeros for the first)
and `hash = sha256(canonical JSON of its fields + prev_hash)`. Editing any field of any event, deleting
an event or re-ordering them breaks a link that `verify_chain` reports. The head row holds the last
sequence number and hash, so cutting events off the end is caught too. Appending updates the head
first: that row lock (PostgreSQL) or the writer lock (SQLite) makes concurrent appends queue up.
"""

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from referrals.db import as_utc, insert_or_skip
from referrals.models import ReferralAuditHead, ReferralEvent

GENESIS = "0" * 64
_HEAD_ID = 1


def _timestamp(value: datetime) -> str:
    return as_utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(fields: dict[str, Any]) -> str:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def event_fields(event: ReferralEvent) -> dict[str, Any]:
    """Everything the hash covers (all columns but the surrogate id and the hashes themselves)."""
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


def compute_hash(event: ReferralEvent, prev_hash: str) -> str:
    return hashlib.sha256((canonical(event_fields(event)) + prev_hash).encode()).hexdigest()


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


def append(session: Session, item: EventIn) -> ReferralEvent:
    """Add one event at the end of the chain (inside the caller's transaction; the caller commits)."""
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
    event.hash = compute_hash(event, prev_hash)
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


def verify_chain(session: Session, *, batch: int = 1000) -> Verification:
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
            problem = _link_problem(event, prev_hash, expected_seq)
            if problem:
                return Verification(False, checked, event.seq, event.id, event.referral_id, problem)
            prev_hash, expected_seq, checked, last_seq = event.hash, event.seq + 1, checked + 1, event.seq
        if len(rows) < batch:
            break
    return _check_head(session, checked, last_seq, prev_hash)


def _link_problem(event: ReferralEvent, prev_hash: str, expected_seq: int) -> str:
    if event.seq != expected_seq:
        return f"events {expected_seq}..{event.seq - 1} are missing (deleted)"
    if event.prev_hash != prev_hash:
        return "prev_hash does not match the previous event (an event before it was changed or deleted)"
    if compute_hash(event, event.prev_hash) != event.hash:
        return "the stored hash does not match the event's content (the event was edited)"
    return ""


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
