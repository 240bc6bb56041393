"""The shard map: which regional index holds a listing's point, and which indexes a search circle touches.

Pure (no I/O). Meilisearch keeps one geo R-tree per index, rewrites it whole on every indexing batch and
loads it on every geo-sorted search, so place-bound documents are split into regional indexes of bounded
size. The map is a k-d tree over (lat, lng): starting from the whole globe, a box holding more than
`max_documents` points is cut at the median of its longer side (in kilometres), so dense regions get
small boxes and empty ones large boxes, and every shard holds between about half the cap and the cap
(a box of identical points cannot be cut and may hold more).

A point belongs to exactly one shard: routing walks the tree (`lat < cut` goes low, else high), so
boundaries are never ambiguous. The map is computed by a full reindex from the points in the database
and then fixed until the next one: edits route through it (a listing that moves to another box moves to
that shard), and a shard may outgrow the cap until then. `generation` names the shards, so a reindex
builds a new set beside the live one instead of rewriting it.
"""

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

EARTH_RADIUS_KM = 6371.0
# `_geoRadius` uses a haversine distance; the bounding box is widened a little so rounding or another
# Earth radius can never leave out a shard that holds a hit.
RADIUS_MARGIN = 1.01
WORLD = (-90.0, -180.0, 90.0, 180.0)  # south, west, north, east
FORMAT = 1

# A tree node: a shard number (leaf) or [axis, cut, low, high] with axis 0 = latitude, 1 = longitude.
Node = int | list[Any]


@dataclass(frozen=True)
class Shard:
    uid: str
    south: float
    west: float
    north: float
    east: float
    group: int  # which shard server holds it (index into the configured shard servers)
    documents: int  # points in it when the map was made

    def touches(self, south: float, west: float, north: float, east: float) -> bool:
        """Does this box meet the closed box given? (longitudes without wrap-around)"""
        return self.south <= north and south <= self.north and self.west <= east and west <= self.east


@dataclass(frozen=True)
class ShardMap:
    """`shards` empty: one index holds every document and its `_geo` (the layout before shards)."""

    generation: str
    max_documents: int
    groups: int
    shards: tuple[Shard, ...] = ()
    tree: Node = 0
    _by_uid: dict[str, Shard] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_uid.update({s.uid: s for s in self.shards})

    @property
    def sharded(self) -> bool:
        return bool(self.shards)

    def shard_for(self, lat: float, lng: float) -> Shard:
        """The one shard whose box holds this point."""
        node = self.tree
        while isinstance(node, list):
            axis, cut, low, high = node
            node = low if (lat if axis == 0 else lng) < cut else high
        return self.shards[node]

    def get(self, uid: str) -> Shard | None:
        return self._by_uid.get(uid)

    def covering(self, lat: float, lng: float, radius_km: float) -> list[Shard]:
        """The shards whose box meets the circle's bounding box (a superset of those holding a hit)."""
        boxes = circle_boxes(lat, lng, radius_km)
        return [s for s in self.shards if any(s.touches(*box) for box in boxes)]

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "generation": self.generation,
                "max_documents": self.max_documents,
                "groups": self.groups,
                "tree": self.tree,
                "shards": [[s.uid, s.group, s.documents] for s in self.shards],
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> "ShardMap":
        """Raises ValueError for a map of another format (an older version wrote it)."""
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise ValueError(f"shard map format {data.get('format')!r}, expected {FORMAT}")
        tree: Node = data["tree"]
        boxes = leaf_boxes(tree)
        shards = tuple(
            Shard(uid, *boxes[n], group=group, documents=documents)
            for n, (uid, group, documents) in enumerate(data["shards"])
        )
        return cls(data["generation"], data["max_documents"], data["groups"], shards, tree)


def single(generation: str) -> ShardMap:
    """The map of the one-index layout (`max_documents` 0)."""
    return ShardMap(generation=generation, max_documents=0, groups=1)


def partition(
    lats: Sequence[float], lngs: Sequence[float], *, max_documents: int, groups: int, uid: Any, generation: str
) -> ShardMap:
    """A k-d tree over these points with leaves of at most `max_documents` points (see the module docstring).

    `uid(n)` names shard n; leaves are numbered depth first, so neighbouring regions get neighbouring
    numbers, and consecutive runs of about equal size go to the same group (shard server).
    """
    if max_documents < 1:
        raise ValueError("max_documents must be at least 1")
    counts: list[int] = []

    def build(members: list[int], box: tuple[float, float, float, float]) -> Node:
        cut = _cut(members, box, lats, lngs) if len(members) > max_documents else None
        if cut is None:
            counts.append(len(members))
            return len(counts) - 1
        axis, at = cut
        coords = lats if axis == 0 else lngs
        low = [i for i in members if coords[i] < at]
        high = [i for i in members if coords[i] >= at]
        low_box, high_box = _split_box(box, axis, at)
        return [axis, at, build(low, low_box), build(high, high_box)]

    tree = build(list(range(len(lats))), WORLD)
    boxes = leaf_boxes(tree)
    total = max(1, sum(counts))
    shards: list[Shard] = []
    before = 0
    for n, count in enumerate(counts):
        group = min(groups - 1, int((before + count / 2) * groups / total))
        shards.append(Shard(uid(n), *boxes[n], group=group, documents=count))
        before += count
    return ShardMap(generation=generation, max_documents=max_documents, groups=groups, shards=tuple(shards), tree=tree)


def _cut(
    members: list[int], box: tuple[float, float, float, float], lats: Sequence[float], lngs: Sequence[float]
) -> tuple[int, float] | None:
    """(axis, value) splitting `members` near their median along the box's longer side; None if it cannot."""
    south, west, north, east = box
    height = north - south
    width = (east - west) * math.cos(math.radians((north + south) / 2))
    for axis in (0, 1) if height >= width else (1, 0):
        coords = sorted((lats if axis == 0 else lngs)[i] for i in members)
        at = coords[len(coords) // 2]
        if at == coords[0]:  # the lower half is one value: cut just above it instead
            at = next((c for c in coords if c > at), at)
        if coords[0] < at:
            return axis, at
    return None


def _split_box(
    box: tuple[float, float, float, float], axis: int, at: float
) -> tuple[tuple[float, float, float, float], tuple[float, float, float, float]]:
    south, west, north, east = box
    if axis == 0:
        return (south, west, at, east), (at, west, north, east)
    return (south, west, north, at), (south, at, north, east)


def leaf_boxes(tree: Node) -> dict[int, tuple[float, float, float, float]]:
    """Each leaf's box, derived from the cuts (the map stores only the tree)."""
    boxes: dict[int, tuple[float, float, float, float]] = {}
    stack: list[tuple[Node, tuple[float, float, float, float]]] = [(tree, WORLD)]
    while stack:
        node, box = stack.pop()
        if isinstance(node, list):
            axis, at, low, high = node
            low_box, high_box = _split_box(box, axis, at)
            stack += [(low, low_box), (high, high_box)]
        else:
            boxes[node] = box
    return boxes


def circle_boxes(lat: float, lng: float, radius_km: float) -> list[tuple[float, float, float, float]]:
    """Boxes (south, west, north, east) covering the circle: one, or two where it crosses the date line."""
    angle = radius_km * RADIUS_MARGIN / EARTH_RADIUS_KM
    south, north = lat - math.degrees(angle), lat + math.degrees(angle)
    if south <= -90 or north >= 90 or math.sin(angle) >= math.cos(math.radians(lat)):
        return [(max(south, -90.0), -180.0, min(north, 90.0), 180.0)]  # a pole inside: every longitude
    # The widest longitude span of a spherical cap, reached off the centre's latitude.
    spread = math.degrees(math.asin(math.sin(angle) / math.cos(math.radians(lat))))
    west, east = lng - spread, lng + spread
    if west < -180:
        return [(south, west + 360, north, 180.0), (south, -180.0, north, east)]
    if east > 180:
        return [(south, west, north, 180.0), (south, -180.0, north, east - 360)]
    return [(south, west, north, east)]


def point_of(doc: dict[str, Any]) -> tuple[float, float] | None:
    geo = doc.get("_geo")
    if not geo:
        return None
    return float(geo["lat"]), float(geo["lng"])


def route(shard_map: ShardMap, docs: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The documents with a point, by the uid of the shard that holds them (none for the one-index layout)."""
    routed: dict[str, list[dict[str, Any]]] = {}
    if not shard_map.sharded:
        return routed
    for doc in docs:
        point = point_of(doc)
        if point is not None:
            routed.setdefault(shard_map.shard_for(*point).uid, []).append(doc)
    return routed
