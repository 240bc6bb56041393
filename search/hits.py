"""The public hit for a Meilisearch document: exact next start or occurrence in progress (computed from its
weekly slots), distance from the searched point, freshness. A temporarily closed listing has no next start
and is never in progress: its `reopening_date` says when it reopens."""

from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from geographiclib.geodesic import Geodesic

from search.timeslots import OccurrenceStatus, Slot, occurrence_status, zone

HIT_FIELDS = [
    "id", "service_id", "kind", "name", "organization", "categories", "category_names", "attendance", "address",
    "lat", "lng", "_geo", "approximate", "location_name", "url", "timezone", "slots", "fellowship", "types",
    "languages", "accessibility", "cost", "status", "capacity", "capacity_note", "reopening_date", "assured_date",
    "verified_on",
]  # fmt: skip
STALE_AFTER = timedelta(days=180)
WGS84 = Geodesic.WGS84
CLOSED = "temporarily closed"


def status_of(doc: dict[str, Any], at: datetime) -> OccurrenceStatus:
    if doc.get("status") == CLOSED:  # a closed door has no next time (`reopening_date` says when it reopens)
        return occurrence_status([], "UTC", at)
    slots = [_slot(tuple(raw)) for raw in doc.get("slots") or []]
    return occurrence_status(slots, doc.get("timezone") or "UTC", at)


@lru_cache(maxsize=4096)
def _slot(raw: tuple[Any, ...]) -> Slot:
    """Parsed once: a few thousand distinct weekly slots cover a whole directory."""
    return Slot.from_doc(raw)


def hit(
    doc: dict[str, Any], at: datetime, point: tuple[float, float] | None, *, viewer_tz: str | None = None
) -> dict[str, Any]:
    """The public hit for a document: exact times, distance, freshness."""
    status = status_of(doc, at)
    shown = zone(viewer_tz) if viewer_tz else None

    def show(moment: datetime | None) -> str | None:
        if moment is None:
            return None
        return (moment.astimezone(shown) if shown else moment).isoformat()

    keep = {k: v for k, v in doc.items() if k in HIT_FIELDS and k not in ("_geo", "slots")}
    return {
        **keep,
        "distance_km": _distance(doc, point),
        "next_start": show(status.next_start),
        "in_progress": status.in_progress,
        "started_at": show(status.started_at),
        "ends_at": show(status.ends_at),
        "stale": _stale(doc.get("verified_on") or doc.get("assured_date"), at),
    }


def _distance(doc: dict[str, Any], point: tuple[float, float] | None) -> float | None:
    geo = doc.get("_geo")
    if point is None or not geo:
        return None
    # geographiclib directly (what geopy's `geodesic` wraps): the same WGS84 distance at half the cost.
    metres = WGS84.Inverse(point[0], point[1], geo["lat"], geo["lng"], Geodesic.DISTANCE)["s12"]
    return round(metres / 1000, 2)


def _stale(assured: str | None, at: datetime) -> bool:
    if not assured:
        return True
    return at.date() - datetime.fromisoformat(assured).date() > STALE_AFTER
