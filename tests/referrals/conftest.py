"""Referral test fixtures: the world of two organizations with listings, peers, members and an admin
(`tests.factories.build_world`), everyone signed in, and checks on the events and the mail. The builders
(`make_referral` and its inputs) live in `tests/factories.py`; the clock is a fixed Monday afternoon (UTC)."""

import uuid
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from core.settings import Settings
from referrals.models import Referral, ReferralEvent
from tests.factories import World, build_world


@pytest.fixture
def world(session: Session) -> World:
    return build_world(session)


def event_count(session: Session, referral_id: uuid.UUID | None = None) -> int:
    query = select(func.count()).select_from(ReferralEvent)
    if referral_id is not None:
        query = query.where(ReferralEvent.referral_id == referral_id)
    return int(session.exec(query).one())


def snapshot(session: Session, referral_id: uuid.UUID) -> tuple[str, int, str | None, int]:
    """What must not change after a refused action: status, version, business status, events."""
    session.expire_all()
    row = session.get(Referral, referral_id)
    assert row is not None
    return row.status, row.version, row.business_status, event_count(session, referral_id)


def mail_texts(settings: Settings) -> list[str]:
    folder = settings.data_dir / "mail"
    return [p.read_text(errors="replace") for p in sorted(folder.glob("*.eml"))] if folder.exists() else []


# --- HTTP -------------------------------------------------------------------------------------------


@pytest.fixture
def app(settings: Settings, engine: Any, meili_server: Any) -> Any:
    from core.app import create_app

    return create_app(settings, engine=engine, meili=meili_server)


@pytest.fixture
def people(app: Any, session: Session, world: World) -> dict[str, Any]:
    """Everyone in `world`, signed in: people["peer"].browser / .api / .csrf / .post_form(...)."""
    from tests.referrals.web import sign_in

    names = ("peer", "peer_b", "member", "member_b", "admin", "outsider", "supervisor")
    return {name: sign_in(app, session, getattr(world, name)) for name in names}
