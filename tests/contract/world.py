"""A seeded scratch directory served by a real `python -m core serve`, and the credentials of one user.

The user is what reaches the most code: a network admin who is also a peer, a supervisor and the admin of
one organization, with one referral already sent (so list responses carry ids that stateful tests follow).
"""

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, make_url, text
from sqlmodel import Session, col, select

import core.models_registry  # noqa: F401  (registers every table)
from accounts.anon_forms import issue_form_token
from accounts.api_tokens import create_token
from accounts.models import Membership, PeerProfile, User
from accounts.passwords import hash_password
from accounts.sessions import start_session
from core.clock import utcnow
from core.db import make_engine
from core.settings import Settings
from directory.listings.models import Service, ServiceAtLocation
from directory.listings.queries import get_listing
from referrals.schemas import ReferralCreate
from referrals.service import create_referral
from tests.core.test_serve import _free_port, _wait_up

SEED_SIZE = "30"
EMAIL = "contract-admin@example.org"
# Forms posted without a session, and the purpose their signed `form_token` names (accounts.anon_forms).
ANONYMOUS_FORMS = {
    "POST /login": "login",
    "POST /password/forgot": "forgot",
    "POST /password/reset/{token}": "reset",
    "POST /invitations/{token}": "invite",
    "POST /services/{service_id}/suggest": "suggest",
}


@dataclass(frozen=True)
class Credentials:
    api_token: str  # `Authorization: Bearer ...` on /api/
    session_cookie: str  # `sid` on pages, with the session's CSRF token in `X-CSRF-Token` (as htmx sends)
    csrf_token: str
    logout_cookie: str  # a second session, for `POST /logout` alone, so signing out ends no other request's session
    logout_csrf_token: str
    known_ids: dict[str, list[str]]  # path parameter -> ids of real objects (the user's own and someone else's)
    form_tokens: dict[str, str]  # operation -> a valid `form_token`, as its form page would give a browser


def server_env(data_dir: Path) -> dict[str, str]:
    """The developer's environment without anything pointing at their own database, index or data.

    Commands also run in `data_dir`, so a `.env` in the project (read from the working directory) cannot
    point them back at the developer's database or Meilisearch either."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MEILI_URL", "TEST_DATABASE_URL")}
    env |= {"DATA_DIR": str(data_dir), "LOG_LEVEL": "WARNING"}
    if url := _postgres_url():
        env["DATABASE_URL"] = url
    return env


def _postgres_url() -> str | None:
    """Under `make test-postgres`, a database of the run's own beside the suite's (SQLite in DATA_DIR otherwise)."""
    suite = os.environ.get("TEST_DATABASE_URL")
    if not suite:
        return None
    url = make_url(suite)
    return url.set(database=f"{url.database}_contract").render_as_string(hide_password=False)


def _fresh_postgres_database() -> None:
    if (url := _postgres_url()) is None:
        return
    name = make_url(url).database
    admin = create_engine(os.environ["TEST_DATABASE_URL"], isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


def _cli(data_dir: Path, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "core", *args],
        cwd=data_dir,
        env=server_env(data_dir),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )


def prepare(data_dir: Path) -> Credentials:
    _fresh_postgres_database()
    _cli(data_dir, "migrate")
    _cli(data_dir, "seed", "--size", SEED_SIZE)
    settings = Settings(
        _env_file=None,  # as the server sees it: no project .env
        data_dir=data_dir,
        embedded_workers=False,
        database_url=_postgres_url(),
    )
    engine = make_engine(settings)
    try:
        with Session(engine, expire_on_commit=False) as session:
            user = _the_user(session)
            sid, row = start_session(session=session, user_id=user.id)
            logout_sid, logout_row = start_session(session=session, user_id=user.id)
            token, _ = create_token(session=session, user=user, name="schemathesis")
            referral_id = _send_referral(session, user, settings)
            known = _known_ids(session, user, referral_id)
    finally:
        engine.dispose()
    tokens = {operation: issue_form_token(settings, purpose) for operation, purpose in ANONYMOUS_FORMS.items()}
    return Credentials(token, sid, row.csrf_token, logout_sid, logout_row.csrf_token, known, tokens)


def _known_ids(session: Session, user: User, referral_id: uuid.UUID) -> dict[str, list[str]]:
    """Objects the run may name in paths, so that it reaches past the 404 of a random id."""
    membership = session.exec(select(Membership).where(Membership.user_id == user.id)).one()
    own = session.exec(select(Service).where(Service.organization_id == membership.organization_id)).all()
    other = session.exec(select(Service).where(Service.organization_id != membership.organization_id)).first()
    assert own and other is not None
    places = session.exec(select(ServiceAtLocation).where(col(ServiceAtLocation.service_id).in_([s.id for s in own])))
    ids = {
        "organization_id": [membership.organization_id, other.organization_id],
        "service_id": [own[0].id, other.id],
        "referral_id": [referral_id],
        "location_id": [place.location_id for place in places][:1],
        "user_id": [user.id],
    }
    return {name: [str(value) for value in values] for name, values in ids.items() if values}


def _the_user(session: Session) -> User:
    own = session.exec(select(Service).order_by(Service.name)).first()
    assert own is not None, "the seed loaded no listing"
    user = User(
        email=EMAIL,
        display_name="Contract Admin",
        password_hash=hash_password("not-used-by-the-run"),
        is_network_admin=True,
        is_supervisor=True,
    )
    session.add(user)
    session.commit()
    session.add(PeerProfile(user_id=user.id, credential="CPRS"))
    session.add(Membership(user_id=user.id, organization_id=own.organization_id, role="admin", trusted=True))
    session.commit()
    return user


def _send_referral(session: Session, user: User, settings: Settings) -> uuid.UUID:
    """One referral from the user (as a peer) to another organization's listing that has a category."""
    membership = session.exec(select(Membership).where(Membership.user_id == user.id)).one()
    for service in session.exec(select(Service).where(Service.organization_id != membership.organization_id)):
        listing = get_listing(session, service.id)
        codes = [t.code for t in listing.categories if t.code]
        if codes:
            break
    else:
        raise AssertionError("the seed has no listing with a category in another organization")
    data = {
        "service_id": service.id,
        "person_name": "Contract",
        "contact_channel": "phone",
        "contact_detail": "312-555-0100",
        "need_categories": codes[:1],
        "consent": {
            "scope": "organization",
            "recipient_organization_id": service.organization_id,
            "fields": ["first_name", "contact", "need"],
            "purpose": "Connect with the listing",
            "method": "verbal",
            "expires_at": utcnow() + timedelta(days=30),
        },
    }
    referral = create_referral(
        session=session, actor=user, data=ReferralCreate.model_validate(data), now=utcnow(), settings=settings
    )
    return referral.id


@contextmanager
def serving(data_dir: Path) -> Iterator[str]:
    """`python -m core serve` on a free loopback port (embedded Meilisearch); stopped like Ctrl-C."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = (data_dir / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "core", "serve", "--port", str(port)],
        cwd=data_dir,
        env=server_env(data_dir),
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_up(url, proc)
        yield url
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()
