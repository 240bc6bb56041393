"""A feed source: one service body's Meeting Guide feed (a URL or a file), owned by an organization.

A meeting's identity is (source, slug): `meeting.source_id` and `meeting.source_slug` point back here, so
two service bodies may both publish a "big-book-study". The sync state (validators for conditional GET,
the hash of the last body read, counts and problems of the last run) lives on the row, so an unchanged
feed is recognised without touching a single meeting.
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime
from sqlmodel import Field, SQLModel

from core.clock import utcnow

SOURCE_CODE_PATTERN = r"^[a-z0-9][a-z0-9-]{0,39}$"
DEFAULT_INTERVAL_HOURS = 24


def _ts(nullable: bool) -> Any:
    return Column(DateTime(timezone=True), nullable=nullable)


class FeedSource(SQLModel, table=True):
    __tablename__ = "feed_source"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # Short, unique, URL-safe: part of every meeting key and of a served slug that would otherwise clash.
    code: str = Field(max_length=40, unique=True, regex=SOURCE_CODE_PATTERN)
    name: str = Field(min_length=1, max_length=300)
    location: str = Field(min_length=1, max_length=2000)  # an http(s) URL or a file path
    # The service body: meetings without an `entity` of their own belong to this organization.
    organization_key: str = Field(max_length=150)
    organization_name: str = Field(min_length=1, max_length=300)
    # Set when the owner is an existing organization (a workspace upload) rather than one made from a key.
    organization_id: uuid.UUID | None = Field(default=None, foreign_key="organization.id", ondelete="CASCADE")
    fellowship: str = Field(default="aa", max_length=40)
    timezone: str | None = Field(default=None, max_length=64)
    strict: bool = Field(default=False)
    interval_hours: int = Field(default=DEFAULT_INTERVAL_HOURS, ge=1, le=24 * 30)
    etag: str | None = Field(default=None, max_length=500)
    last_modified_header: str | None = Field(default=None, max_length=100)
    content_hash: str | None = Field(default=None, max_length=64)
    last_sync_at: datetime | None = Field(default=None, sa_column=_ts(True))
    last_changed_at: datetime | None = Field(default=None, sa_column=_ts(True))
    last_status: str | None = Field(default=None, max_length=20)  # imported | unchanged | not-modified | failed
    last_summary: str | None = Field(default=None, max_length=2000)
    # {"inserted": n, "updated": n, "unchanged": n, "retired": n, "skipped": n, "meetings": n}
    last_counts: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # [{"row": 3, "field": "slug", "message": "...", "severity": "skipped"}, ...] (at most MAX_PROBLEMS)
    last_problems: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts(False))
