"""Freshness: a listing not confirmed for 180 days is stale.

`is_stale` is what pages show; the search documents carry the reference date (`verified_on`) and search
derives "stale" at query time, since staleness changes with time and not with a write.
"""

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, and_, or_
from sqlmodel import col

from directory.listings.models import Service, ServiceStatus

STALE_AFTER = timedelta(days=180)
LIVE = (ServiceStatus.active.value, ServiceStatus.temporarily_closed.value)


def reference_date(service: Service) -> date:
    """The last verification, or for a never-verified listing the day it was added."""
    if service.assured_date is not None:
        return service.assured_date
    return service.created_at.date()


def is_stale(service: Service, *, today: date) -> bool:
    return service.status in LIVE and reference_date(service) < today - STALE_AFTER


def stale_filter(today: date) -> ColumnElement[bool]:
    cutoff = today - STALE_AFTER
    return and_(
        col(Service.status).in_(LIVE),
        or_(
            col(Service.assured_date) < cutoff,
            and_(col(Service.assured_date).is_(None), col(Service.created_at) < datetime.combine(cutoff, time(), UTC)),
        ),
    )
