"""Timestamps in the referral API carry their zone, as the documented RFC 3339 `date-time` requires.

SQLite hands stored timestamps back without one; a client parsing `2026-01-05T15:00:00` would have to
guess the zone (and strict RFC 3339 parsers refuse it).
"""

from datetime import datetime
from typing import Any

import pytest

from core.settings import Settings
from referrals.codes import Status
from tests.factories import World, make_referral

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _aware(value: str) -> bool:
    return datetime.fromisoformat(value).tzinfo is not None


def test_referral_event_and_note_times_have_a_zone(
    people: dict[str, Any], world: World, session: Any, settings: Settings
) -> None:
    referral = make_referral(session, world, settings, Status.accepted)
    peer = people["peer"].api
    body = peer.get(f"/api/v1/referrals/{referral.id}").json()
    stamps = [body[k] for k in ("created_at", "requested_at", "accepted_at")]
    assert all(_aware(s) for s in stamps), stamps
    listed = peer.get("/api/v1/referrals").json()
    assert listed and all(_aware(r["created_at"]) for r in listed)
    events = peer.get(f"/api/v1/referrals/{referral.id}/events").json()
    assert events and all(_aware(e["at"]) for e in events)
    note = peer.post(f"/api/v1/referrals/{referral.id}/notes", json={"body": "called back"})
    assert note.status_code == 201, note.text
    assert _aware(note.json()["created_at"])
