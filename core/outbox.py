"""The search outbox: listing writes record which services changed, in the same transaction.

The directory never talks to Meilisearch; it only calls `record_change`. The search package's sync
worker reads these rows, coalesces them and marks them done once Meilisearch confirms the task.
"""

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Column, DateTime, Index
from sqlmodel import Field, Session, SQLModel, col, select

from core.clock import utcnow


class OutboxEvent(SQLModel, table=True):
    __tablename__ = "outbox_event"
    __table_args__ = (Index("ix_outbox_pending", "processed_at", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    entity: str = Field(default="service", max_length=30)
    entity_id: uuid.UUID = Field(index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))
    processed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    claimed_until: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    claimed_by: str | None = Field(default=None, max_length=100)
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, max_length=2000)


def record_change(session: Session, service_ids: Iterable[uuid.UUID], entity: str = "service") -> None:
    """Add one outbox row per changed service; the caller commits with its own write."""
    for service_id in dict.fromkeys(service_ids):
        session.add(OutboxEvent(entity=entity, entity_id=service_id))


def data_version(session: Session) -> tuple[int, datetime | None]:
    """The newest outbox row's id and time: it changes with every listing write, so built feeds key on it."""
    row = session.exec(
        select(OutboxEvent.id, OutboxEvent.created_at).order_by(col(OutboxEvent.id).desc()).limit(1)
    ).first()
    return (int(row[0] or 0), row[1]) if row is not None else (0, None)
