"""Account tables. Passwords are argon2id hashes; nothing else about a person is stored here."""

import uuid
from datetime import datetime

from sqlalchemy import Column, DateTime
from sqlmodel import Field, SQLModel

from core.clock import utcnow


class User(SQLModel, table=True):
    __tablename__ = "user_account"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    email: str = Field(max_length=320, unique=True, index=True)
    display_name: str = Field(default="", max_length=200)
    password_hash: str = Field(max_length=300)
    is_active: bool = Field(default=True)
    is_network_admin: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))
