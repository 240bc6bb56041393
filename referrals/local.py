"""The time zone a referral is read in, and its appointment.

A referral's times are shown in the zone of the listing it was sent to (where the appointment happens),
else of the receiving organization, else of the referring peer's organization, else the
`referral_timezone` setting. The consent's "valid until" day is chosen in the same zone, so it reads
back as the same day. The appointment is the instant of the latest "appointment scheduled" event.
"""

import uuid
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from core.inputs import check_instant
from core.localtime import in_zone, zone
from core.settings import Settings
from directory.listings import zones
from directory.listings.queries import ListingDetail
from referrals.models import Referral, ReferralEvent
from referrals.workflow import Action


def listing_zone(listing: ListingDetail, settings: Settings) -> ZoneInfo:
    named = zones.most_common(p.location.timezone for p in listing.places)
    return zone(named or zones.most_common(s.timezone for s in listing.schedules), settings.referral_timezone)


def referral_zones(session: Session, referrals: Iterable[Referral], settings: Settings) -> dict[uuid.UUID, ZoneInfo]:
    rows = list(referrals)
    by_service = {s: zones.service_zone(session, s) for s in {r.service_id for r in rows if r.service_id}}
    by_org = zones.organization_zones(
        session,
        {o for r in rows for o in (r.recipient_organization_id, r.referring_organization_id) if o is not None},
    )
    found: dict[uuid.UUID, ZoneInfo] = {}
    for r in rows:
        names = (
            by_service.get(r.service_id) if r.service_id else None,
            by_org.get(r.recipient_organization_id) if r.recipient_organization_id else None,
            by_org.get(r.referring_organization_id) if r.referring_organization_id else None,
        )
        found[r.id] = zone(next((n for n in names if n), None), settings.referral_timezone)
    return found


def referral_zone(session: Session, referral: Referral, settings: Settings) -> ZoneInfo:
    return referral_zones(session, [referral], settings)[referral.id]


def user_zone(session: Session, user_id: uuid.UUID, settings: Settings) -> ZoneInfo:
    """For times that belong to no one referral (a person's notifications): their organization's zone."""
    return zone(zones.user_zone(session, user_id), settings.referral_timezone)


def appointments(session: Session, referral_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, datetime]:
    """The latest scheduled appointment of each referral that has one."""
    ids = set(referral_ids)
    if not ids:
        return {}
    rows = session.exec(
        select(ReferralEvent.referral_id, ReferralEvent.data)
        .where(col(ReferralEvent.referral_id).in_(ids), ReferralEvent.action == Action.schedule)
        .order_by(col(ReferralEvent.seq))
    ).all()
    found: dict[uuid.UUID, datetime] = {}
    for referral_id, data in rows:
        at = _instant(data.get("appointment_at") if isinstance(data, dict) else None)
        if at is not None:
            found[referral_id] = at
    return found


def appointment_of(session: Session, referral_id: uuid.UUID) -> datetime | None:
    return appointments(session, [referral_id]).get(referral_id)


def _instant(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return check_instant(datetime.fromisoformat(text))
    except ValueError:
        return None


def local_appointment(session: Session, referral: Referral, where: Settings | ZoneInfo) -> datetime | None:
    """The appointment as the receiving organization reads it: in the referral's zone, offset and all."""
    at = appointment_of(session, referral.id)
    if at is None:
        return None
    return in_zone(at, where if isinstance(where, ZoneInfo) else referral_zone(session, referral, where))
