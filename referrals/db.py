"""Small database helpers the referral services share: time zones, insert-or-skip, the optimistic lock."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, SQLModel

from core.errors import Conflict
from core.i18n import N_
from referrals.models import Referral


def as_utc(value: datetime) -> datetime:
    """SQLite hands timestamps back without a zone; everything we store is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def opt_utc(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


def insert_or_skip(session: Session, model: type[SQLModel], values: dict[str, Any], keys: list[str]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING. True when this call inserted the row (it "owns" the key).

    On PostgreSQL a concurrent insert of the same key waits for the other transaction and then skips; on
    SQLite the single writer lock orders them. Either way exactly one caller gets True."""
    table = model.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(table).values(**values).on_conflict_do_nothing(index_elements=keys)
    # RETURNING, not rowcount: with RETURNING in play PostgreSQL drivers may report rowcount -1.
    result = session.connection().execute(stmt.returning(*(table.c[k] for k in keys)))
    return result.first() is not None


def guarded_update(session: Session, referral: Referral, values: dict[str, Any], *, unclaimed: bool = False) -> None:
    """UPDATE referral SET ..., version = version + 1 WHERE id = ? AND version = ?; zero rows -> Conflict.

    Two people acting on the same referral at once both read version N; only the first UPDATE matches."""
    stmt = (
        update(Referral)
        .where(Referral.id == referral.id, Referral.version == referral.version)  # type: ignore[arg-type]
        .values(**values, version=referral.version + 1)
    )
    if unclaimed:
        stmt = stmt.where(Referral.recipient_organization_id.is_(None))  # type: ignore[union-attr]
    result = session.connection().execute(stmt)
    if result.rowcount != 1:
        session.rollback()
        raise Conflict(N_("Someone else changed this referral at the same moment. Reload it and try again."))
    session.refresh(referral)
