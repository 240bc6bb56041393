"""Account tables. Passwords and tokens are stored only as hashes; nothing else about a person is kept."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.clock import utcnow


def _ts(nullable: bool = False) -> Column:
    return Column(DateTime(timezone=True), nullable=nullable)


class OrgRole(StrEnum):
    admin = "admin"
    editor = "editor"


class User(SQLModel, table=True):
    __tablename__ = "user_account"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    email: str = Field(max_length=320, unique=True, index=True)
    display_name: str = Field(default="", max_length=200)
    password_hash: str = Field(max_length=300)
    is_active: bool = Field(default=True)
    is_network_admin: bool = Field(default=False)
    is_supervisor: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class PeerProfile(SQLModel, table=True):
    """Makes a user a peer: credential (e.g. CPRS, CRPA), employer organization and supervisor."""

    __tablename__ = "peer_profile"
    user_id: uuid.UUID = Field(foreign_key="user_account.id", primary_key=True, ondelete="CASCADE")
    credential: str = Field(default="", max_length=100)
    employer_organization_id: uuid.UUID | None = Field(default=None, foreign_key="organization.id")
    supervisor_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id", index=True)


class Membership(SQLModel, table=True):
    """A user's role in one organization. Untrusted editors' changes are held for approval."""

    __table_args__ = (UniqueConstraint("user_id", "organization_id"),)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    organization_id: uuid.UUID = Field(foreign_key="organization.id", index=True, ondelete="CASCADE")
    role: str = Field(default=OrgRole.editor, max_length=20)
    trusted: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class Invitation(SQLModel, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    organization_id: uuid.UUID = Field(foreign_key="organization.id", index=True, ondelete="CASCADE")
    email: str = Field(max_length=320)
    role: str = Field(default=OrgRole.editor, max_length=20)
    token_hash: str = Field(max_length=128, unique=True)
    invited_by_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    expires_at: datetime = Field(sa_column=_ts())
    accepted_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class UserSession(SQLModel, table=True):
    """Server-side session: the cookie carries a random token, the table only its SHA-256."""

    __tablename__ = "user_session"
    token_hash: str = Field(primary_key=True, max_length=128)
    user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    csrf_token: str = Field(max_length=128)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    expires_at: datetime = Field(sa_column=_ts())


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=128, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    last_used_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class PasswordResetToken(SQLModel, table=True):
    __tablename__ = "password_reset_token"
    token_hash: str = Field(primary_key=True, max_length=128)
    user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    expires_at: datetime = Field(sa_column=_ts())
    used_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class LoginAttempt(SQLModel, table=True):
    """Failed sign-ins per key (normalized e-mail, and a hash of the client address) for throttling."""

    __tablename__ = "login_attempt"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=128, index=True)
    at: datetime = Field(default_factory=utcnow, sa_column=_ts())
