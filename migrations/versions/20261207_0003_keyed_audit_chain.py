"""key the referral audit chain (HMAC-SHA256) and make referral_event append-only

Revision ID: 0003_keyed_audit_chain
Revises: 0002_feed_sources
Create Date: 2026-12-07 02:00:00

Events written before this revision carry plain SHA-256 hashes, which anyone able to edit the table can
recompute. Rather than keep a second, unkeyed way to verify "legacy" rows (a forger could then mark any
row legacy), this revision re-chains every event with the key in one step, in the migration's
transaction: it first verifies the old chain as it stands, and refuses (the upgrade stops with the seq
where it broke) when it does not verify, so tampering done before the upgrade is never laundered into a
valid keyed chain. The key is REFERRAL_AUDIT_KEY or DATA_DIR/referral_audit_key (generated now if
missing), so run the migration with the same settings as the app.

Then triggers refuse UPDATE and DELETE of referral_event rows (and TRUNCATE on PostgreSQL): the chain is
append-only in the schema too. The retention purge only nulls referral columns and appends an event, so
it needs no exception. A later SQLite batch migration that rebuilds referral_event must create the
triggers again (SQLite drops them with the table). Downgrade removes the triggers and re-chains with
plain SHA-256 after verifying the keyed chain.
"""

import hashlib
import hmac
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import context, op

from core.errors import ConfigurationError
from core.settings import Settings, get_settings
from referrals.audit import GENESIS, audit_key, canonical, event_fields

revision: str = "0003_keyed_audit_chain"
down_revision: str | None = "0002_feed_sources"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The columns as this revision knows them (typed, so timestamps, UUIDs and JSON come back as the app sees them).
EVENTS = sa.table(
    "referral_event",
    sa.column("id", sa.Integer),
    sa.column("seq", sa.Integer),
    sa.column("referral_id", sa.Uuid),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("actor_id", sa.Uuid),
    sa.column("actor_role", sa.String),
    sa.column("action", sa.String),
    sa.column("from_status", sa.String),
    sa.column("to_status", sa.String),
    sa.column("business_status", sa.String),
    sa.column("reason_code", sa.String),
    sa.column("data", sa.JSON),
    sa.column("prev_hash", sa.String),
    sa.column("hash", sa.String),
)
HEAD = sa.table(
    "referral_audit_head", sa.column("id", sa.Integer), sa.column("seq", sa.Integer), sa.column("last_hash", sa.String)
)
BATCH = 1000

Digest = Callable[[str], str]  # canonical fields + prev_hash -> hash

PG_GUARD = [
    """CREATE OR REPLACE FUNCTION referral_event_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'referral_event is append-only: % refused', TG_OP;
    END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER referral_event_append_only BEFORE UPDATE OR DELETE ON referral_event
    FOR EACH ROW EXECUTE FUNCTION referral_event_append_only()""",
    """CREATE TRIGGER referral_event_no_truncate BEFORE TRUNCATE ON referral_event
    FOR EACH STATEMENT EXECUTE FUNCTION referral_event_append_only()""",
]
PG_UNGUARD = [
    "DROP TRIGGER IF EXISTS referral_event_no_truncate ON referral_event",
    "DROP TRIGGER IF EXISTS referral_event_append_only ON referral_event",
    "DROP FUNCTION IF EXISTS referral_event_append_only()",
]
SQLITE_GUARD = [
    f"""CREATE TRIGGER referral_event_no_{op_name.lower()} BEFORE {op_name} ON referral_event
    BEGIN SELECT RAISE(ABORT, 'referral_event is append-only: {op_name} refused'); END"""
    for op_name in ("UPDATE", "DELETE")
]
SQLITE_UNGUARD = [f"DROP TRIGGER IF EXISTS referral_event_no_{name}" for name in ("update", "delete")]


def _settings() -> Settings:
    configured = context.config.attributes.get("settings")  # set by `python -m core migrate`
    return configured if isinstance(configured, Settings) else get_settings()


def _sha256(message: str) -> str:
    return hashlib.sha256(message.encode()).hexdigest()


def _hmac(key: bytes) -> Digest:
    return lambda message: hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


class _Chain:
    """Walks the stored chain in seq order, checking it with `old` and computing its `new` hashes."""

    def __init__(self, old: Digest, new: Digest, old_name: str) -> None:
        self.old, self.new, self.old_name = old, new, old_name
        self.old_prev, self.new_prev, self.expected = GENESIS, GENESIS, 1

    def relink(self, row: sa.Row[tuple[object, ...]]) -> dict[str, object]:
        message = canonical(event_fields(row))
        if row.seq != self.expected or row.prev_hash != self.old_prev or self.old(message + row.prev_hash) != row.hash:
            raise ConfigurationError(
                f"the referral audit chain does not verify with {self.old_name} at event seq={row.seq} "
                f"(expected seq={self.expected}); it was altered before this migration and is not re-chained. "
                "Find out what happened (or restore a backup) first."
            )
        new_hash = self.new(message + self.new_prev)
        update = {"b_id": row.id, "b_prev": self.new_prev, "b_hash": new_hash}
        self.old_prev, self.new_prev, self.expected = row.hash, new_hash, self.expected + 1
        return update


def rechain(conn: sa.Connection, *, old: Callable[[], Digest], new: Callable[[], Digest], old_name: str) -> int:
    """Verify every event and the head with `old`, rewrite them with `new`; returns the events re-chained.
    The digests are made on the first event only, so an empty chain needs (and creates) no key."""
    chain: _Chain | None = None
    relink = sa.update(EVENTS).where(EVENTS.c.id == sa.bindparam("b_id"))
    relink = relink.values(prev_hash=sa.bindparam("b_prev"), hash=sa.bindparam("b_hash"))
    while True:
        start = chain.expected if chain else 1
        rows = conn.execute(sa.select(EVENTS).where(EVENTS.c.seq >= start).order_by(EVENTS.c.seq).limit(BATCH)).all()
        if not rows:
            break
        chain = chain or _Chain(old(), new(), old_name)
        conn.execute(relink, [chain.relink(row) for row in rows])
        if len(rows) < BATCH:
            break
    last_seq, old_last, new_last = (
        (chain.expected - 1, chain.old_prev, chain.new_prev) if chain else (0, GENESIS, GENESIS)
    )
    head = conn.execute(sa.select(HEAD.c.seq, HEAD.c.last_hash).where(HEAD.c.id == 1)).first()
    if ((head.seq, head.last_hash) if head else (0, GENESIS)) != (last_seq, old_last):
        raise ConfigurationError(
            f"the referral audit head does not match the last event (seq={last_seq}): events were cut off the "
            "end or the head was edited before this migration; the chain is not re-chained."
        )
    if head is not None:
        conn.execute(sa.update(HEAD).where(HEAD.c.id == 1).values(last_hash=new_last))
    return last_seq


def upgrade() -> None:
    conn = op.get_bind()
    settings = _settings()
    rechain(conn, old=lambda: _sha256, new=lambda: _hmac(audit_key(settings)), old_name="plain SHA-256")
    for statement in PG_GUARD if conn.dialect.name == "postgresql" else SQLITE_GUARD:
        op.execute(statement)


def downgrade() -> None:
    conn = op.get_bind()
    for statement in PG_UNGUARD if conn.dialect.name == "postgresql" else SQLITE_UNGUARD:
        op.execute(statement)
    settings = _settings()
    rechain(conn, old=lambda: _hmac(audit_key(settings)), new=lambda: _sha256, old_name="the audit key")
