"""HSDS writes a schedule's time zone as a number (hours from UTC); we keep a named IANA zone.

Export: the zone's *standard* (non-DST) offset, so a dataset does not change twice a year.
Import: a number becomes the zone of the place when that zone has this offset (in winter or in summer),
else a fixed-offset zone (`Etc/GMT-3` is UTC+3) or, for half-hour offsets, the first zone that has it.
Without any number HSDS says times are UTC; we still prefer the place's own zone when we know it.
"""

import zoneinfo
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from core.inputs import is_zone_name

UTC_ZONE = "Etc/UTC"
MIN_OFFSET, MAX_OFFSET = -12.0, 14.0


def _zone(name: str) -> zoneinfo.ZoneInfo | None:
    return zoneinfo.ZoneInfo(name) if is_zone_name(name) else None


@lru_cache(maxsize=1024)
def is_zone(name: str) -> bool:
    return bool(name) and _zone(name) is not None


@lru_cache(maxsize=1024)
def standard_offset(name: str) -> float | None:
    """Hours east of UTC outside daylight saving time (America/Chicago -> -6, Asia/Kolkata -> 5.5)."""
    tz = _zone(name)
    if tz is None:
        return None
    local = datetime.now(UTC).astimezone(tz)
    std = (local.utcoffset() or timedelta(0)) - (local.dst() or timedelta(0))
    return _hours(std)


@lru_cache(maxsize=1024)
def offsets_in_use(name: str) -> frozenset[float]:
    """Every offset the zone uses this year (standard and daylight saving)."""
    tz = _zone(name)
    if tz is None:
        return frozenset()
    year = datetime.now(UTC).year
    moments = (datetime(year, month, 15, 12, tzinfo=UTC) for month in range(1, 13))
    found = {_hours(m.astimezone(tz).utcoffset() or timedelta(0)) for m in moments}
    return frozenset(found | {standard_offset(name) or 0.0})


def _hours(delta: timedelta) -> float:
    return round(delta.total_seconds() / 3600, 2)


def zone_for_offset(offset: float | None, *candidates: str | None) -> str:
    """The named zone for an HSDS offset: the first candidate (the place's zone, the zone already stored)
    that uses this offset, else a zone of that fixed offset; without an offset, the first candidate or UTC."""
    for zone in candidates:
        if zone and is_zone(zone) and (offset is None or float(offset) in offsets_in_use(zone)):
            return zone
    if offset is None:
        return UTC_ZONE
    return fixed_zone(float(offset))


# Offsets that are not whole hours have no Etc/ zone: the best-known zone keeping that offset all year.
_FRACTIONAL = {
    5.5: "Asia/Kolkata", 5.75: "Asia/Kathmandu", 3.5: "Asia/Tehran", 4.5: "Asia/Kabul", 6.5: "Asia/Yangon",
    9.5: "Australia/Darwin", 8.75: "Australia/Eucla", -3.5: "America/St_Johns", -9.5: "Pacific/Marquesas",
    10.5: "Australia/Lord_Howe", 12.75: "Pacific/Chatham",
}  # fmt: skip


@lru_cache(maxsize=64)
def fixed_zone(offset: float) -> str:
    if offset == 0:
        return UTC_ZONE
    if offset.is_integer() and -12 <= offset <= 14:
        # POSIX sign convention: Etc/GMT-3 is three hours *ahead* of UTC.
        return f"Etc/GMT{-int(offset):+d}"
    if offset in _FRACTIONAL and is_zone(_FRACTIONAL[offset]):
        return _FRACTIONAL[offset]
    for name in sorted(zoneinfo.available_timezones()):
        if "/" in name and not name.startswith(("Etc/", "posix/", "right/")) and standard_offset(name) == offset:
            return name
    return UTC_ZONE
