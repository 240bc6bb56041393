"""The shard map (pure) and a listing that moves between shards (real Meilisearch)."""

import math
import random
from typing import Any

import meilisearch
import pytest
from sqlmodel import Session, select

from core.outbox import record_change
from directory.listings.models import Location, Service, ServiceAtLocation
from search.client import TaskFailed, iter_documents, service_filter
from search.layout import Indexes
from search.shards import ShardMap, circle_boxes, partition
from search.sync import push_services
from tests.factories import CHICAGO, insert_listing, place
from tests.search.conftest import run_search
from tests.support import chicago_map


def clustered_points(n: int, seed: int = 3) -> tuple[list[float], list[float]]:
    """Dense cities and a thin countryside, as listings are."""
    rng = random.Random(seed)
    cities = [(41.88, -87.63), (40.71, -74.0), (34.05, -118.24), (29.76, -95.37), (47.6, -122.33)]
    lats, lngs = [], []
    for k in range(n):
        if k % 5:
            lat, lng = rng.choice(cities)
            lats.append(lat + rng.gauss(0, 0.2))
            lngs.append(lng + rng.gauss(0, 0.2))
        else:
            lats.append(rng.uniform(25, 49))
            lngs.append(rng.uniform(-124, -67))
    return lats, lngs


def make_map(lats: list[float], lngs: list[float], cap: int, groups: int = 1) -> ShardMap:
    return partition(lats, lngs, max_documents=cap, groups=groups, uid=lambda n: f"s{n:03d}", generation="g")


def test_every_point_is_in_exactly_one_shard_of_bounded_size() -> None:
    lats, lngs = clustered_points(2000)
    shard_map = make_map(lats, lngs, cap=100)
    routed = [shard_map.shard_for(lat, lng) for lat, lng in zip(lats, lngs, strict=True)]
    counts = {s.uid: 0 for s in shard_map.shards}
    for shard in routed:
        counts[shard.uid] += 1
    assert all(50 < n <= 100 for n in counts.values())  # balanced: median cuts halve every box
    assert [counts[s.uid] for s in shard_map.shards] == [s.documents for s in shard_map.shards]
    for (lat, lng), shard in zip(zip(lats, lngs, strict=True), routed, strict=True):
        assert shard.south <= lat <= shard.north and shard.west <= lng <= shard.east
    boxes = [(s.south, s.west, s.north, s.east) for s in shard_map.shards]
    area = sum((n - s) * (e - w) for s, w, n, e in boxes)
    assert area == pytest.approx(180 * 360)  # the boxes tile the globe: any new point has a shard


def test_the_map_survives_its_json_form_exactly() -> None:
    lats, lngs = clustered_points(500, seed=9)
    shard_map = make_map(lats, lngs, cap=40, groups=3)
    again = ShardMap.from_json(shard_map.to_json())
    assert again == shard_map
    probes = clustered_points(300, seed=10)
    assert all(shard_map.shard_for(lat, lng) == again.shard_for(lat, lng) for lat, lng in zip(*probes, strict=True))


def test_neighbouring_regions_share_a_server_and_servers_are_balanced() -> None:
    lats, lngs = clustered_points(3000, seed=5)
    shard_map = make_map(lats, lngs, cap=100, groups=3)
    groups = [s.group for s in shard_map.shards]
    assert groups == sorted(groups) and set(groups) == {0, 1, 2}  # consecutive (depth-first) runs
    per_group = [sum(s.documents for s in shard_map.shards if s.group == g) for g in range(3)]
    assert max(per_group) - min(per_group) <= 200


def test_identical_points_stay_together_beyond_the_cap() -> None:
    """Forty services at one address cannot be split; the cap is then soft."""
    lats, lngs = [41.0] * 40 + [42.0, 43.0], [-87.0] * 40 + [-87.0, -87.0]
    shard_map = make_map(lats, lngs, cap=10)
    assert sorted(s.documents for s in shard_map.shards) == [2, 40]


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """What `_geoRadius` measures (a sphere of radius 6371 km)."""
    lat1, lat2, dlng = math.radians(a[0]), math.radians(b[0]), math.radians(b[1] - a[1])
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlng / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


@pytest.mark.parametrize("radius_km", [2, 25, 100, 500])
def test_a_circle_asks_every_shard_that_holds_a_point_inside_it(radius_km: float) -> None:
    lats, lngs = clustered_points(3000, seed=7)
    shard_map = make_map(lats, lngs, cap=60)
    rng = random.Random(radius_km)
    for _ in range(40):
        lat, lng = rng.choice(list(zip(lats, lngs, strict=True)))
        centre = (lat + rng.uniform(-0.3, 0.3), lng + rng.uniform(-0.3, 0.3))
        asked = {s.uid for s in shard_map.covering(*centre, radius_km)}
        inside = {
            shard_map.shard_for(y, x).uid
            for y, x in zip(lats, lngs, strict=True)
            if haversine_km(centre, (y, x)) <= radius_km
        }
        assert inside <= asked
        assert len(asked) < len(shard_map.shards) or radius_km >= 500  # small circles ask few shards


def test_circles_across_the_date_line_and_around_a_pole() -> None:
    west, east = circle_boxes(0.0, 179.9, 50)[0], circle_boxes(0.0, 179.9, 50)[1]
    assert west[3] == 180.0 and east[1] == -180.0 and east[3] < -179
    [polar] = circle_boxes(89.9, 10.0, 100)
    assert (polar[1], polar[2], polar[3]) == (-180.0, 90.0, 180.0)
    lats, lngs = [0.0, 0.1, 0.0, 0.1], [179.95, 179.96, -179.95, -179.96]
    shard_map = make_map(lats, lngs, cap=1)
    asked = {s.uid for s in shard_map.covering(0.05, 179.99, 30)}
    assert asked == {shard_map.shard_for(y, x).uid for y, x in zip(lats, lngs, strict=True)}


# --- a listing that moves ---------------------------------------------------------------------------

ROGERS_PARK = (41.9997, -87.6696)  # north of the test map's cut at latitude 41.9; the Loop is south of it


def shard_ids(client: meilisearch.Client, uid: str, service: Service) -> list[str]:
    return [d["id"] for d in iter_documents(client, uid, filter=service_filter([service.id]))]


def move(session: Session, service: Service, point: tuple[float, float] | tuple[None, None]) -> None:
    link = session.exec(select(ServiceAtLocation).where(ServiceAtLocation.service_id == service.id)).first()
    assert link is not None
    location = session.get(Location, link.location_id)
    assert location is not None
    location.latitude, location.longitude = point
    session.add(location)
    record_change(session, [service.id])
    session.commit()


@pytest.mark.usefixtures("taxonomy")
def test_a_listing_that_moves_moves_to_its_new_shard_and_leaves_no_copy(
    session: Session, meili_client: meilisearch.Client, search_index: str, search_indexes: Indexes
) -> None:
    mover = insert_listing(session, name="Traveling Pantry")
    stayer = insert_listing(session, name="Settled Pantry")
    push_services(session=session, indexes=search_indexes, service_ids=[mover.id, stayer.id])
    shard_map = search_indexes.current_map()
    assert shard_map is not None
    south, north = shard_map.shard_for(*CHICAGO), shard_map.shard_for(*ROGERS_PARK)
    assert south != north and len(shard_ids(meili_client, south.uid, mover)) == 1

    def found_near(point: tuple[float, float]) -> list[str]:
        result = run_search(meili_client, search_index, session, lat=point[0], lng=point[1], radius_km=3)
        return sorted(h["name"] for h in result.hits)

    assert found_near(CHICAGO) == ["Settled Pantry", "Traveling Pantry"]
    move(session, mover, ROGERS_PARK)
    push_services(session=session, indexes=search_indexes, service_ids=[mover.id])
    assert shard_ids(meili_client, south.uid, mover) == []  # no copy left behind
    assert len(shard_ids(meili_client, north.uid, mover)) == 1
    assert found_near(CHICAGO) == ["Settled Pantry"]
    assert found_near(ROGERS_PARK) == ["Traveling Pantry"]
    [flat] = iter_documents(meili_client, search_index, filter=service_filter([mover.id]))
    assert flat["_geo"] == {"lat": ROGERS_PARK[0], "lng": ROGERS_PARK[1]}

    move(session, mover, (None, None))  # the address lost its coordinates: no shard, still found by name
    push_services(session=session, indexes=search_indexes, service_ids=[mover.id])
    assert shard_ids(meili_client, north.uid, mover) == [] and shard_ids(meili_client, south.uid, mover) == []
    assert [h["name"] for h in run_search(meili_client, search_index, session, q="traveling").hits] == [
        "Traveling Pantry"
    ]


@pytest.mark.usefixtures("taxonomy")
def test_a_move_whose_flat_write_fails_is_finished_by_the_retry(
    session: Session,
    meili_client: meilisearch.Client,
    search_index: str,
    search_indexes: Indexes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Shards are written first, the flat index last: it still says where the copy was until all is done."""
    import search.sync as sync_module

    service = insert_listing(session, name="Interrupted Pantry", places=[place(*ROGERS_PARK)])
    push_services(session=session, indexes=search_indexes, service_ids=[service.id])
    shard_map = search_indexes.current_map()
    assert shard_map is not None
    north, south = shard_map.shard_for(*ROGERS_PARK), shard_map.shard_for(*CHICAGO)
    move(session, service, CHICAGO)

    real_documents_for = sync_module.documents_for

    def with_a_rejected_flat_document(session_: Session, ids: Any) -> Any:
        docs, current = real_documents_for(session_, ids)
        return [*docs, {"id": "not a valid id!", "service_id": str(service.id)}], current  # no point: flat only

    monkeypatch.setattr(sync_module, "documents_for", with_a_rejected_flat_document)
    with pytest.raises(TaskFailed, match="not a valid id"):
        push_services(session=session, indexes=search_indexes, service_ids=[service.id])
    assert shard_ids(meili_client, north.uid, service) == [] and len(shard_ids(meili_client, south.uid, service)) == 1
    [flat] = iter_documents(meili_client, search_index, filter=service_filter([service.id]))
    assert flat["_geo"]["lat"] == ROGERS_PARK[0]  # the failed task left the flat index as it was

    monkeypatch.setattr(sync_module, "documents_for", real_documents_for)
    push_services(session=session, indexes=search_indexes, service_ids=[service.id])
    assert shard_ids(meili_client, north.uid, service) == [] and len(shard_ids(meili_client, south.uid, service)) == 1
    found = run_search(meili_client, search_index, session, lat=41.95, lng=-87.65, radius_km=30)
    assert [h["name"] for h in found.hits] == ["Interrupted Pantry"]
    assert math.isclose(found.hits[0]["lat"], CHICAGO[0])


def test_the_test_map_cuts_between_the_loop_and_rogers_park() -> None:
    shard_map = chicago_map("t")
    assert shard_map.shard_for(*CHICAGO) != shard_map.shard_for(*ROGERS_PARK)
