"""Times as the people at an organization read them: stored instants (UTC) shown in a named IANA zone,
with the zone's abbreviation, and local wall-clock input turned back into instants.

Everything is stored in UTC; only the page, the e-mail and exports with offsets speak local time. A
date the person chose ("consent valid until 2027-03-06") is shown in the zone it was chosen in, so it
never moves a day.
"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from core.inputs import is_zone_name

Zone = ZoneInfo | str


def zone(name: str | None, fallback: str) -> ZoneInfo:
    """A known zone `name`, else `fallback` (a checked setting)."""
    return ZoneInfo(name if name and is_zone_name(name) else fallback)


def _zone(value: Zone) -> ZoneInfo:
    return value if isinstance(value, ZoneInfo) else ZoneInfo(value)


def in_zone(value: datetime, where: Zone) -> datetime:
    """An instant in `where`; a naive value is a stored UTC timestamp (SQLite hands those back)."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(_zone(where))


def from_wall_clock(value: datetime, where: Zone) -> datetime:
    """What someone typed into a date-and-time field (no zone) means that time in `where`."""
    return value if value.tzinfo is not None else value.replace(tzinfo=_zone(where))


def local_time(value: datetime | None, where: Zone) -> str:
    """ "2026-12-10 17:30 CST": the date, the 24-hour time and the zone, so no reader has to guess."""
    if value is None:
        return ""
    return in_zone(value, where).strftime("%Y-%m-%d %H:%M %Z")


def local_date(value: datetime | None, where: Zone) -> str:
    return "" if value is None else in_zone(value, where).date().isoformat()


def local_iso(value: datetime | None, where: Zone) -> str:
    """For `<time datetime>` and exports: the instant with its local offset (2026-12-10T17:30:00-06:00)."""
    return "" if value is None else in_zone(value, where).isoformat()


def zone_label(where: Zone, at: datetime | None = None) -> str:
    """ "America/Chicago, CST": the name people recognise and the abbreviation the times carry."""
    tz = _zone(where)
    moment = in_zone(at, tz) if at is not None else datetime.now(tz)
    return f"{tz.key}, {moment.strftime('%Z')}"


FILTERS = {"local_time": local_time, "local_date": local_date, "local_iso": local_iso, "zone_label": zone_label}
