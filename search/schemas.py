"""Search input (validated `SearchParams`) and the JSON API's response models (they document OpenAPI)."""

from dataclasses import dataclass
from datetime import datetime, time

from pydantic import BaseModel, Field

DEFAULT_RADIUS_KM = 25.0
MAX_RADIUS_KM = 500.0
DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
RADII_KM = (2, 5, 10, 25, 50, 100, 250)  # the distances offered, and the wider areas tried for an empty result


@dataclass(frozen=True, slots=True)
class SearchParams:
    """What to search for, already parsed and validated (see `search.filters.parse_params`)."""

    q: str = ""
    near: str | None = None
    lat: float | None = None
    lng: float | None = None
    radius_km: float = DEFAULT_RADIUS_KM
    categories: tuple[str, ...] = ()
    kind: str | None = None
    fellowships: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    attendance: str | None = None
    languages: tuple[str, ...] = ()
    accessibility: tuple[str, ...] = ()
    cost: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()  # region filter: a state, "City, ST" or "Neighbourhood, City"
    days: tuple[int, ...] = ()
    time_from: time | None = None
    time_to: time | None = None
    open_now: bool = False
    in_progress: bool = False
    starting_within: int | None = None
    # Minutes after `at`: open at the window's start or starting within it (words such as "tonight" read
    # by `search.understanding`; not an API parameter).
    window: tuple[int, int] | None = None
    at: datetime | None = None  # aware; None = now
    tz: str = "UTC"
    sort: str | None = None  # distance | soonest | relevance; None = distance with a place, else relevance
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    @property
    def has_point_input(self) -> bool:
        return bool(self.near) or self.lat is not None

    @property
    def has_relative_time(self) -> bool:
        return self.open_now or self.in_progress or self.starting_within is not None or self.window is not None


class AddressOut(BaseModel):
    street: str | None = Field(default=None, description="Street line; always null for confidential locations.")
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None


class SearchHit(BaseModel):
    id: str = Field(description="Document id: the service-at-location id, or the service id when online-only.")
    service_id: str
    kind: str = Field(description="`meeting` or `service`.")
    name: str
    organization: str
    categories: list[str] = Field(description="Category codes, each with its ancestors.")
    category_names: list[str] = Field(default_factory=list, description="Names of the directly assigned terms.")
    distance_km: float | None = Field(
        description="Geodesic distance from the search point in km (2 decimals); null without a place or point."
    )
    next_start: datetime | None = Field(
        description="Next start at or after `at`, ISO 8601 with offset, in the listing's time zone (online list: "
        "in the viewer's `tz`). Null when the listing has no recurring times."
    )
    in_progress: bool = Field(description="A meeting in session / a service open at `at`.")
    started_at: datetime | None = Field(default=None, description="Start of the occurrence in progress.")
    ends_at: datetime | None = Field(default=None, description="End of the occurrence in progress.")
    attendance: str = Field(description="`in_person`, `online` or `hybrid`.")
    address: AddressOut | None = Field(description="Public address; null for online-only listings.")
    lat: float | None = Field(description="Public point (approximate for confidential locations).")
    lng: float | None = None
    approximate: bool = Field(default=False, description="The point is approximate (e.g. a ZIP centre).")
    location_name: str | None = None
    url: str = Field(description="Path of the listing page.")
    timezone: str | None = Field(default=None, description="IANA time zone of the listing's schedule.")
    fellowship: str | None = None
    types: list[str] = Field(default_factory=list, description="Meeting Guide type codes.")
    languages: list[str] = Field(default_factory=list)
    accessibility: list[str] = Field(default_factory=list)
    cost: list[str] = Field(default_factory=list, description="Cost kinds: free, sliding_scale, medicaid...")
    status: str
    capacity: str = Field(description="`accepting`, `waitlist` or `full`.")
    capacity_note: str | None = None
    reopening_date: str | None = None
    assured_date: str | None = Field(default=None, description="Date the listing was last verified.")
    stale: bool = Field(description="Not verified in the last 180 days (or never).")


class SearchResponse(BaseModel):
    total: int = Field(description="Number of listings matching (place and filters), capped at 10,000.")
    page: int
    per_page: int
    sort: str = Field(description="The sort applied: distance, soonest or relevance.")
    hits: list[SearchHit]
    online: list[SearchHit] = Field(
        description="With a place: online-only listings matching the same text, filters and times (no place "
        "filter; days and times in the viewer's `tz`), soonest first, at most 10, on page 1 without an "
        "attendance filter. Empty without a place (online listings are then among `hits`)."
    )
    online_total: int | None = Field(
        default=None,
        description="With a place (and no `attendance=online`): how many online-only listings match the same "
        "text, filters and times, on every page. Null without a place.",
    )
    place_applies: bool = Field(
        default=True,
        description="False for `attendance=online` with a place: online listings have no place, so the results "
        "are every matching online listing, soonest first, and the place does not apply.",
    )
    facets: dict[str, dict[str, int]] = Field(
        description="Counts per value for category, fellowship, type, attendance, language, accessibility, cost, "
        "day (0 = Sunday) and region, over all matching listings."
    )
