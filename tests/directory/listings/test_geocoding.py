"""Offline geocoding against the real `zipcodes` gazetteer; only the online service is faked."""

import socket
from pathlib import Path
from typing import Any

import pytest
from geopy.distance import distance
from geopy.exc import GeocoderUnavailable
from geopy.geocoders import Nominatim
from geopy.geocoders.base import Geocoder
from geopy.location import Location
from geopy.point import Point

from core.errors import ConfigurationError, NotFound, ServiceUnavailable
from core.settings import Settings
from directory.listings import geocoding
from directory.listings.geocoding import (
    CachingGeocoder,
    OfflineGeocoder,
    Place,
    approximate_point,
    get_geocoder,
    resolve_place,
    timezone_for,
)

CHICAGO_LOOP = (41.886, -87.618)
SAINT_PAUL_DOWNTOWN = (44.9537, -93.0900)


def km(a: tuple[float, float], b: tuple[float, float]) -> float:
    return distance(a, b).km


def at(place: Place) -> tuple[float, float]:
    return (place.latitude, place.longitude)


def one(result: object) -> Location:
    assert isinstance(result, Location)
    return result


def several(result: object) -> list[Location]:
    assert isinstance(result, list)
    return result


@pytest.fixture(scope="module")
def geocoder() -> OfflineGeocoder:
    return OfflineGeocoder()


def test_zip_resolves_to_its_centre_with_local_timezone() -> None:
    place = resolve_place("60601")
    assert km(at(place), CHICAGO_LOOP) < 5
    assert (place.postal_code, place.city, place.state) == ("60601", "Chicago", "IL")
    assert place.timezone == "America/Chicago"
    assert place.approximate is True
    assert "60601" in place.label


def test_zip_plus_four_is_the_same_place_as_the_zip() -> None:
    assert resolve_place("  60601-1234 ") == resolve_place("60601")


def test_location_raw_describes_the_match(geocoder: OfflineGeocoder) -> None:
    assert one(geocoder.geocode("60601")).raw == {
        "postal_code": "60601",
        "city": "Chicago",
        "state": "IL",
        "timezone": "America/Chicago",
        "approximate": True,
        "kind": "zip",
    }
    city = one(geocoder.geocode("Chicago, IL"))
    assert city.raw["kind"] == "city"
    assert city.raw["postal_code"] is None


@pytest.mark.parametrize("query", ["chicago il", "CHICAGO, IL", "Chicago, Illinois", "Chicago, IL, USA"])
def test_city_spellings_give_the_same_city_centre(query: str) -> None:
    reference = resolve_place("Chicago, IL")
    assert resolve_place(query) == reference
    assert reference.postal_code is None
    assert (reference.city, reference.state, reference.timezone) == ("Chicago", "IL", "America/Chicago")
    assert km(at(reference), CHICAGO_LOOP) < 15


@pytest.mark.parametrize("query", ["St. Paul, MN", "St Paul MN", "saint paul, minnesota", "St.Paul, MN"])
def test_saint_and_st_are_the_same_city(query: str) -> None:
    place = resolve_place(query)
    assert place == resolve_place("Saint Paul, Minnesota")
    assert (place.city, place.state) == ("Saint Paul", "MN")
    assert km(at(place), SAINT_PAUL_DOWNTOWN) < 15


@pytest.mark.parametrize(
    ("query", "city"),
    [
        ("O'Fallon, MO", "O Fallon"),
        ("Winston-Salem, NC", "Winston Salem"),
        ("Mt Vernon, NY", "Mount Vernon"),
        ("Washington, D.C.", "Washington"),
        ("New York", "New York"),
    ],
)
def test_punctuation_and_abbreviations_in_city_names(query: str, city: str) -> None:
    assert resolve_place(query).city == city


def test_full_address_uses_its_zip() -> None:
    place = resolve_place("123 Main St, Springfield, IL 62701")
    assert (place.postal_code, place.city, place.state) == ("62701", "Springfield", "IL")


def test_full_address_without_zip_uses_the_city() -> None:
    place = resolve_place("500 E Capitol Ave, Springfield, IL")
    assert place.postal_code is None
    assert (place.city, place.state) == ("Springfield", "IL")
    assert km(at(place), (39.80, -89.65)) < 15


def test_address_picks_the_longest_city_name() -> None:
    assert resolve_place("100 Main St West Chicago IL").city == "West Chicago"


def test_box_number_in_another_state_is_not_taken_for_the_zip() -> None:
    place = resolve_place("PO Box 12345, Chicago, IL")  # 12345 is a real ZIP, in New York
    assert (place.city, place.state, place.postal_code) == ("Chicago", "IL", None)


@pytest.mark.parametrize("query", ["asdfqwer", "99999", "Springfield", "Nowhere, ZZ", "IL"])
def test_nonsense_is_not_found_and_names_the_input(query: str) -> None:
    with pytest.raises(NotFound) as caught:
        resolve_place(query)
    assert f'"{query}"' in caught.value.message
    assert "5-digit ZIP" in caught.value.message
    assert caught.value.field == "near"


@pytest.mark.parametrize("query", ["", "   "])
def test_empty_input_is_not_found(query: str) -> None:
    with pytest.raises(NotFound, match="5-digit ZIP"):
        resolve_place(query)


def test_overlong_input_is_cut_to_200_characters() -> None:
    with pytest.raises(NotFound) as caught:
        resolve_place("x" * 5000)
    assert '"' + "x" * 200 + '"' in caught.value.message
    assert "x" * 201 not in caught.value.message


@pytest.mark.parametrize("query", ["asdfqwer", "99999", "", "Chicago, ZZ"])
def test_geocode_returns_none_for_unknown_places(geocoder: OfflineGeocoder, query: str) -> None:
    assert geocoder.geocode(query) is None


def test_bare_ambiguous_city_lists_every_state(geocoder: OfflineGeocoder) -> None:
    assert geocoder.geocode("Springfield") is None
    states = {location.raw["state"] for location in several(geocoder.geocode("Springfield", exactly_one=False))}
    assert {"IL", "MA", "MO", "OR"} <= states


def test_reverse_gives_the_nearest_zip(geocoder: OfflineGeocoder) -> None:
    assert one(geocoder.reverse(Point(41.8858, -87.6181))).raw["postal_code"] == "60601"
    assert one(geocoder.reverse("61.2176, -149.8997")).raw["state"] == "AK"
    nearby = several(geocoder.reverse((41.8858, -87.6181), exactly_one=False))
    assert nearby[0].raw["postal_code"] == "60601"
    assert len(nearby) == 5
    assert all(km(CHICAGO_LOOP, (loc.latitude, loc.longitude)) < 5 for loc in nearby)


def test_reverse_far_out_at_sea_finds_nothing(geocoder: OfflineGeocoder) -> None:
    assert geocoder.reverse((0.0, -150.0)) is None


def test_timezone_for() -> None:
    assert timezone_for(34.05, -118.24) == "America/Los_Angeles"
    assert timezone_for(41.88, -87.63) == "America/Chicago"


def test_approximate_point_prefers_zip_then_city() -> None:
    by_zip = approximate_point(postal_code="62701-1234", city="Chicago", state="IL")
    assert by_zip is not None
    assert (by_zip.postal_code, by_zip.city) == ("62701", "Springfield")
    by_city = approximate_point(postal_code="00000", city="chicago", state="Illinois")
    assert by_city == resolve_place("Chicago, IL")
    assert by_city.approximate is True
    assert approximate_point(postal_code=None, city="Atlantis", state="IL") is None
    assert approximate_point(postal_code=None, city=None, state="IL") is None
    assert approximate_point(postal_code=None, city="Springfield", state=None) is None  # ambiguous


def test_get_geocoder_follows_settings(tmp_path: Path) -> None:
    assert isinstance(get_geocoder(Settings(data_dir=tmp_path, geocoder="offline")), OfflineGeocoder)
    settings = Settings(data_dir=tmp_path, geocoder="nominatim", nominatim_user_agent="test-directory/1.0")
    online = get_geocoder(settings)
    assert isinstance(online, CachingGeocoder)
    assert isinstance(online.inner, Nominatim)
    assert online.inner.headers["User-Agent"] == "test-directory/1.0"


def test_get_geocoder_rejects_unknown_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="bogus"):
        get_geocoder(Settings(data_dir=tmp_path, geocoder="bogus"))


def test_offline_geocoder_never_touches_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    with pytest.raises(AssertionError, match="network"):
        socket.create_connection(("127.0.0.1", 9))
    # Rebuild the indexes with the network closed too.
    geocoding._build_gazetteer.cache_clear()
    geocoding._timezone_finder.cache_clear()
    offline = OfflineGeocoder()
    assert one(offline.geocode("60601")).raw["postal_code"] == "60601"
    assert one(offline.reverse((41.8858, -87.6181))).raw["postal_code"] == "60601"
    assert resolve_place("St. Paul, MN", geocoder=offline).state == "MN"
    assert timezone_for(34.05, -118.24) == "America/Los_Angeles"


class CountingGeocoder(OfflineGeocoder):
    """The real offline geocoder, counting the calls that reach it."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def geocode(self, query: str, **kwargs: Any) -> Any:
        self.calls.append(query)
        return super().geocode(query, **kwargs)


def test_caching_geocoder_asks_once_per_query() -> None:
    inner = CountingGeocoder()
    cached = CachingGeocoder(inner, min_delay_seconds=0)
    first = cached.geocode("Chicago, IL")
    assert cached.geocode("  chicago,   il ") == first
    assert len(inner.calls) == 1
    cached.geocode("60601")
    assert len(inner.calls) == 2
    assert resolve_place("Chicago, IL", geocoder=cached) == resolve_place("Chicago, IL")


class DownGeocoder(Geocoder):
    """Stands in for an online service that is unreachable."""

    attempts = 0

    def geocode(self, query: str, **kwargs: Any) -> Any:
        self.attempts += 1
        raise GeocoderUnavailable("connection refused")


def test_online_outage_is_service_unavailable_and_not_cached() -> None:
    inner = DownGeocoder()
    cached = CachingGeocoder(inner, min_delay_seconds=0)
    for _ in range(2):
        with pytest.raises(ServiceUnavailable):
            resolve_place("Chicago, IL", geocoder=cached)
    assert inner.attempts == 2  # the failure was not remembered: the second search tried again


class StreetGeocoder(Geocoder):
    """Stands in for Nominatim answering with addressdetails."""

    def geocode(self, query: str, **kwargs: Any) -> Any:
        address = {"house_number": "1", "city": "Chicago", "postcode": "60602", "ISO3166-2-lvl4": "US-IL"}
        return Location("1 N State St, Chicago", Point(41.8821, -87.6278), {"address": address})


def test_online_answer_becomes_a_place() -> None:
    place = resolve_place("1 N State St, Chicago", geocoder=StreetGeocoder())
    assert (place.postal_code, place.city, place.state) == ("60602", "Chicago", "IL")
    assert place.timezone == "America/Chicago"
    assert place.approximate is False
