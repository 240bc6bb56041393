"""Turn "near" input (ZIP, "City, ST", street address) into a point, offline by default.

The offline geocoder answers from the `zipcodes` gazetteer: a ZIP's centre, or a city's centre (the mean
of its ZIP centres). Every answer is approximate - good for "services near me", never a rooftop.
"""

import gc
import math
import re
import threading
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeAlias

import zipcodes
from geopy.exc import GeopyError
from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders import Nominatim
from geopy.geocoders.base import Geocoder
from geopy.location import Location
from geopy.point import Point
from timezonefinder import TimezoneFinder

from core.errors import ConfigurationError, NotFound, ServiceUnavailable
from core.i18n import N_
from core.settings import Settings

MAX_QUERY_LENGTH = 200
_ZIP_RE = re.compile(r"(?<!\d)(\d{5})(?:-?\d{4})?(?!\d)")
_CITY_ABBREVIATIONS = {"ST": "SAINT", "STE": "SAINTE", "FT": "FORT", "MT": "MOUNT"}
_COUNTRY_SUFFIXES = (("UNITED", "STATES", "OF", "AMERICA"), ("UNITED", "STATES"), ("USA",), ("US",))
_STATE_NAMES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
    "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois", "IN": "Indiana",
    "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana", "ME": "Maine", "MD": "Maryland",
    "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota", "MS": "Mississippi", "MO": "Missouri",
    "MT": "Montana", "NE": "Nebraska", "NV": "Nevada", "NH": "New Hampshire", "NJ": "New Jersey",
    "NM": "New Mexico", "NY": "New York", "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio",
    "OK": "Oklahoma", "OR": "Oregon", "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina",
    "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont",
    "VA": "Virginia", "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
    "PR": "Puerto Rico", "VI": "Virgin Islands", "GU": "Guam", "AS": "American Samoa",
    "MP": "Northern Mariana Islands", "FM": "Micronesia", "MH": "Marshall Islands", "PW": "Palau",
    "AA": "Armed Forces Americas", "AE": "Armed Forces Europe", "AP": "Armed Forces Pacific",
}  # fmt: skip
# Keyed like city keys, without spaces: "NEWYORK", and "D.C." reads as "DC".
_STATE_CODES = {name.upper().replace(" ", ""): code for code, name in _STATE_NAMES.items()} | {
    code: code for code in _STATE_NAMES
}


_PointLike: TypeAlias = Point | str | tuple[float, float]
_Found: TypeAlias = Location | list[Location] | None


@dataclass(frozen=True)
class Place:
    latitude: float
    longitude: float
    label: str
    postal_code: str | None
    city: str
    state: str
    timezone: str
    approximate: bool


@dataclass(frozen=True, slots=True)
class _Entry:
    """A ZIP centre, or a city centre (postal_code None)."""

    postal_code: str | None
    city: str
    state: str
    latitude: float
    longitude: float
    timezone: str  # "" when the gazetteer has none


@dataclass(frozen=True)
class _Gazetteer:
    zips: dict[str, _Entry]
    cities: dict[tuple[str, str], list[_Entry]]  # (city key, state) -> the city's active ZIPs
    names: dict[tuple[str, str], str]  # (city key, state) -> city name as the gazetteer spells it
    city_states: dict[str, list[str]]  # city key -> states that have a city of that name
    grid: dict[tuple[int, int], list[_Entry]]  # 1-degree cells of active ZIP centres, for reverse


def _tokens(text: str) -> list[str]:
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.findall(r"[A-Z0-9]+", text.upper())


def _city_key(tokens: list[str]) -> str:
    # Joined without spaces so "O'Fallon" = "O Fallon" and "Winston-Salem" = "Winston Salem".
    return "".join(_CITY_ABBREVIATIONS.get(t, t) for t in tokens)


_BUILD_LOCK = threading.Lock()


def _gazetteer() -> _Gazetteer:
    with _BUILD_LOCK:  # concurrent first requests wait for one build instead of each making their own
        return _build_gazetteer()


@lru_cache(maxsize=1)
def _build_gazetteer() -> _Gazetteer:
    # The cyclic GC would rescan the ~40k fresh dicts many times over while nothing here is garbage;
    # pausing it roughly halves the first lookup (~0.7 s here, list reading included).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        # Read a first digit at a time: list_all() would keep all its dicts (~90 MB) cached in the zipcodes
        # module for the life of the process, and even a one-off full list doubles the peak; the index is ~20 MB.
        return _index(row for digit in "0123456789" for row in zipcodes.similar_to(digit))
    finally:
        if was_enabled:
            gc.enable()


def _index(rows: Iterable[dict[str, Any]]) -> _Gazetteer:
    zips: dict[str, _Entry] = {}
    cities: dict[tuple[str, str], list[_Entry]] = defaultdict(list)
    aliases: dict[tuple[str, str], list[_Entry]] = defaultdict(list)
    names: dict[tuple[str, str], str] = {}
    grid: dict[tuple[int, int], list[_Entry]] = defaultdict(list)
    keys: dict[str, str] = {}  # city names repeat; tokenise each spelling once
    for row in rows:
        lat, lon = float(row["lat"]), float(row["long"])
        if lat == 0 and lon == 0:  # military (APO/FPO) rows have no position
            continue
        entry = _Entry(row["zip_code"], row["city"], row["state"], lat, lon, row["timezone"])
        zips[row["zip_code"]] = entry
        if not row["active"]:
            continue
        grid[(math.floor(lat), math.floor(lon))].append(entry)
        for name in (row["city"], *row["acceptable_cities"]):
            if name not in keys:
                keys[name] = _city_key(_tokens(name))
            key = (keys[name], row["state"])
            (cities if name == row["city"] else aliases)[key].append(entry)
            names.setdefault(key, name)
    # An alternative name ("Ramey" for Aguadilla ZIPs) only counts where no city carries it as its own.
    for key, entries in aliases.items():
        cities.setdefault(key, entries)
    city_states: dict[str, list[str]] = defaultdict(list)
    for city, state in cities:
        city_states[city].append(state)
    return _Gazetteer(zips, dict(cities), names, dict(city_states), dict(grid))


def _city_centre(key: tuple[str, str]) -> _Entry:
    members = _gazetteer().cities[key]
    zones = Counter(m.timezone for m in members if m.timezone).most_common(1)
    return _Entry(
        postal_code=None,
        city=_gazetteer().names[key],
        state=key[1],
        latitude=sum(m.latitude for m in members) / len(members),
        longitude=sum(m.longitude for m in members) / len(members),
        timezone=zones[0][0] if zones else "",
    )


def _split_state(tokens: list[str]) -> tuple[str | None, list[str]]:
    """Take a trailing state ("IL", "Illinois", "New York") off the tokens."""
    for n in (3, 2, 1):
        if len(tokens) >= n and (code := _STATE_CODES.get("".join(tokens[-n:]))):
            return code, tokens[:-n]
    return None, tokens


def _strip_country(tokens: list[str]) -> list[str]:
    for suffix in _COUNTRY_SUFFIXES:
        if tuple(tokens[-len(suffix) :]) == suffix and len(tokens) > len(suffix):
            return tokens[: -len(suffix)]
    return tokens


def _find_city(tokens: list[str], state: str | None) -> list[_Entry]:
    gaz = _gazetteer()
    if state is None:  # a bare city name counts only where it names one place (see OfflineGeocoder)
        key = _city_key(tokens)
        return [_city_centre((key, st)) for st in sorted(gaz.city_states.get(key, ()))]
    # Longest trailing run of words first, so "123 Main St West Chicago IL" is West Chicago.
    for n in range(min(len(tokens), 5), 0, -1):
        if (candidate := (_city_key(tokens[-n:]), state)) in gaz.cities:
            return [_city_centre(candidate)]
    return []


def _lookup(text: str) -> list[_Entry]:
    zip_codes = _ZIP_RE.findall(text)
    tokens = _strip_country(_tokens(_ZIP_RE.sub(" ", text)))
    state, rest = _split_state(tokens)
    if zip_codes:
        entry = _gazetteer().zips.get(zip_codes[-1])
        # A 5-digit number that contradicts the stated state is a house or box number, not the ZIP.
        if entry and state in (None, entry.state):
            return [entry]
    if state and not rest:  # "Washington" alone is a city name, not a request for the whole state
        state, rest = None, tokens
    return _find_city(rest, state) if rest else []


def _location(entry: _Entry) -> Location:
    label = f"{entry.city}, {entry.state}" + (f" {entry.postal_code}" if entry.postal_code else "")
    raw = {
        "postal_code": entry.postal_code,
        "city": entry.city,
        "state": entry.state,
        "timezone": entry.timezone or timezone_for(entry.latitude, entry.longitude),
        "approximate": True,
        "kind": "zip" if entry.postal_code else "city",
    }
    return Location(label, Point(entry.latitude, entry.longitude), raw)


def _nearest(latitude: float, longitude: float, limit: int) -> list[_Entry]:
    grid = _gazetteer().grid
    row, col = math.floor(latitude), math.floor(longitude)
    scale = math.cos(math.radians(latitude))

    def distance(entry: _Entry) -> float:  # in degrees of latitude; plenty for picking the nearest
        return math.hypot(entry.latitude - latitude, (entry.longitude - longitude) * scale)

    found: list[_Entry] = []
    for ring in range(8):  # about 900 km; farther than that no ZIP is "near" the point
        # Cells in this ring are at least (ring - 1) cells away: stop once that is past the best hit.
        if found and (ring - 1) * scale > distance(found[0]):
            break
        found += [
            entry
            for r in range(row - ring, row + ring + 1)
            for c in range(col - ring, col + ring + 1)
            if max(abs(r - row), abs(c - col)) == ring
            for entry in grid.get((r, c), ())
        ]
        found.sort(key=distance)
    return found[:limit]


class OfflineGeocoder(Geocoder):
    """geopy geocoder over the bundled ZIP gazetteer; it never touches the network.

    A bare city name ("Springfield") matches every state that has one: `exactly_one=True` then gives
    None rather than a guess, and `exactly_one=False` lists them all.
    """

    def __init__(self) -> None:
        super().__init__(user_agent="community-directory-offline")

    def geocode(self, query: str, *, exactly_one: bool = True, timeout: float | None = None) -> _Found:
        found = _lookup(str(query).strip()[:MAX_QUERY_LENGTH])
        if not found or (exactly_one and len(found) > 1):
            return None
        locations = [_location(entry) for entry in found]
        return locations[0] if exactly_one else locations

    def reverse(self, query: _PointLike, *, exactly_one: bool = True, timeout: float | None = None) -> _Found:
        point = Point(query)
        found = _nearest(point.latitude, point.longitude, limit=1 if exactly_one else 5)
        if not found:
            return None
        return _location(found[0]) if exactly_one else [_location(entry) for entry in found]


class CachingGeocoder(Geocoder):
    """Wraps an online geocoder: at most one request per `min_delay_seconds`, answers kept in an LRU."""

    def __init__(
        self,
        inner: Geocoder,
        *,
        min_delay_seconds: float = 1.0,
        cache_size: int = 1024,
        geocode_kwargs: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(user_agent=inner.headers.get("User-Agent"))
        self.inner = inner
        extra = geocode_kwargs or {}
        # One limiter for both calls: the service's limit is per client, not per endpoint.
        # No retries: someone is waiting, and the error surfaces as ServiceUnavailable instead.
        limited = RateLimiter(
            lambda func, *args, **kwargs: func(*args, **kwargs),
            min_delay_seconds=min_delay_seconds,
            max_retries=0,
            swallow_exceptions=False,
        )
        # lru_cache is thread-safe and never caches an exception, so a failed call is retried next time.
        self._geocode = lru_cache(maxsize=cache_size)(
            lambda query, one: limited(inner.geocode, query, exactly_one=one, **extra)
        )
        self._reverse = lru_cache(maxsize=cache_size)(
            lambda lat, lon, one: limited(inner.reverse, Point(lat, lon), exactly_one=one)
        )

    def geocode(self, query: str, *, exactly_one: bool = True) -> Any:
        return self._geocode(" ".join(str(query).lower().split()), exactly_one)

    def reverse(self, query: _PointLike, *, exactly_one: bool = True) -> Any:
        point = Point(query)
        return self._reverse(round(point.latitude, 5), round(point.longitude, 5), exactly_one)


def get_geocoder(settings: Settings) -> Geocoder:
    if settings.geocoder == "offline":
        return OfflineGeocoder()
    if settings.geocoder == "nominatim":
        nominatim = Nominatim(user_agent=settings.nominatim_user_agent, timeout=10)
        return CachingGeocoder(nominatim, geocode_kwargs={"addressdetails": True, "country_codes": "us"})
    raise ConfigurationError(f"GEOCODER must be 'offline' or 'nominatim', not {settings.geocoder!r}.")


@lru_cache(maxsize=1)
def _timezone_finder() -> TimezoneFinder:
    return TimezoneFinder(in_memory=False)


def timezone_for(latitude: float, longitude: float) -> str | None:
    return _timezone_finder().timezone_at(lng=longitude, lat=latitude)


def _place(location: Location) -> Place:
    raw: dict[str, Any] = location.raw if isinstance(location.raw, dict) else {}
    address = raw.get("address") or {}  # Nominatim's addressdetails
    state = raw.get("state") or str(address.get("ISO3166-2-lvl4", "")).removeprefix("US-")
    return Place(
        latitude=location.latitude,
        longitude=location.longitude,
        label=location.address,
        postal_code=raw["postal_code"] if "postal_code" in raw else address.get("postcode"),
        city=raw.get("city") or address.get("city") or address.get("town") or address.get("village") or "",
        state=state,
        timezone=raw.get("timezone") or timezone_for(location.latitude, location.longitude) or "UTC",
        approximate=raw.get("approximate", "house_number" not in address),
    )


@lru_cache(maxsize=1)
def _offline() -> OfflineGeocoder:
    # One shared instance: geopy's Geocoder.__init__ builds an SSL context (~35 ms) we never use offline.
    return OfflineGeocoder()


def resolve_place(query: str, *, geocoder: Geocoder | None = None) -> Place:
    text = " ".join(query.split())[:MAX_QUERY_LENGTH]
    if not text:
        raise NotFound(N_('No place given — try a 5-digit ZIP code or "City, ST".'), field="near")
    try:
        location = (geocoder or _offline()).geocode(text, exactly_one=True)
    except GeopyError as exc:
        raise ServiceUnavailable(N_("Place lookup is unavailable right now; try again shortly."), field="near") from exc
    if location is None:
        raise NotFound(
            N_('No place found for "%(text)s" — try a 5-digit ZIP code or "City, ST".', text=text), field="near"
        )
    return _place(location)


def approximate_point(
    *, postal_code: str | None, city: str | None, state: str | None, timezone: str | None = None
) -> Place | None:
    """Where to pin a listing that has no coordinates: its ZIP centre, else its city centre. A bare city
    name that several states share counts only with the listing's own time zone, as the largest such place."""
    if postal_code and (match := _ZIP_RE.search(postal_code)) and (entry := _gazetteer().zips.get(match[1])):
        return _place(_location(entry))
    if not city:
        return None
    state_code = _STATE_CODES.get("".join(_tokens(state or "")))
    if state and state_code is None:
        return None  # "Edmonton, AB" is not Edmonton, KY: a province we do not know is no US state
    found = _find_city(_tokens(city), state_code)
    if len(found) > 1 and state_code is None and timezone:
        found = _largest([f for f in found if f.timezone == timezone], _city_key(_tokens(city)))
    return _place(_location(found[0])) if len(found) == 1 else None


STATE_NAMES = frozenset(_STATE_NAMES.values())


def state_name(code: str) -> str | None:
    """The full name of a US state or territory from its postal code ("IL" -> "Illinois")."""
    return _STATE_NAMES.get(code.strip().upper())


def _largest(found: list[_Entry], key: str) -> list[_Entry]:
    # Philadelphia, PA has dozens of ZIP codes, Philadelphia, NY one: the ZIP count stands in for size.
    return sorted(found, key=lambda f: -len(_gazetteer().cities[(key, f.state)]))[:1]
