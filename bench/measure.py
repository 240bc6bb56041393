"""Latency, throughput and edit-to-searchable measurements over loopback HTTP."""

import math
import random
import re
import statistics
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bench.queries import Query, as_http_params
from core.outbox import record_change
from directory.listings.models import Location, Service, ServiceAtLocation

IN_PERSON = ("in_person", "hybrid")  # meetings with a place document


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def summary(ms: Sequence[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(ms, 50), 2),
        "p95": round(percentile(ms, 95), 2),
        "mean": round(sum(ms) / len(ms), 2) if ms else math.nan,
        "n": len(ms),
    }


def api_search(client: httpx.Client, query: Query) -> dict[str, Any]:
    resp = client.get("/api/v1/search", params=as_http_params(query))
    resp.raise_for_status()
    return dict(resp.json())


@dataclass
class Latencies:
    e2e_ms: list[float]
    raw_ms: list[float]

    def per_query(self, queries: Sequence[Query]) -> list[dict[str, Any]]:
        """Median e2e and raw time of each query (samples are stored round after round)."""
        n = len(queries)
        return [
            {
                "query": query,
                "e2e_p50": round(statistics.median(self.e2e_ms[i::n]), 2),
                "raw_p50": round(statistics.median(self.raw_ms[i::n]), 2),
            }
            for i, query in enumerate(queries)
        ]


def latencies(
    base_url: str,
    meili_url: str,
    api_key: str,
    queries: Sequence[Query],
    raw: Sequence[list[list[dict[str, Any]]]],
    rounds: int = 5,
) -> Latencies:
    """Each query through the app and as the equivalent raw multi-search, interleaved, after a warm-up round."""
    result = Latencies([], [])
    headers = {"Authorization": f"Bearer {api_key}"}
    with (
        httpx.Client(base_url=base_url, timeout=30) as app,
        # A connection per request, as the app's client makes: on a kept-alive connection Meilisearch's
        # replies wait ~40 ms for a delayed ACK (Nagle), which would inflate the raw figures.
        httpx.Client(
            base_url=meili_url, headers=headers, timeout=30, limits=httpx.Limits(max_keepalive_connections=0)
        ) as meili,
    ):
        for round_no in range(rounds + 1):
            for query, bodies in zip(queries, raw, strict=True):
                started = time.perf_counter()
                api_search(app, query)
                e2e = (time.perf_counter() - started) * 1000
                started = time.perf_counter()
                for body in bodies:
                    meili.post("/multi-search", json={"queries": body}).raise_for_status()
                direct = (time.perf_counter() - started) * 1000
                if round_no:  # round 0 warms caches on both paths
                    result.e2e_ms.append(e2e)
                    result.raw_ms.append(direct)
    return result


def throughput(base_url: str, queries: Sequence[Query], clients: int = 8, seconds: float = 20.0) -> dict[str, Any]:
    """`clients` threads, each with its own keep-alive connection, cycling through the queries."""
    samples: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client_loop(offset: int) -> None:
        mine: list[float] = []
        failed = 0
        with httpx.Client(base_url=base_url, timeout=30) as http:
            n = offset
            while time.monotonic() < stop_at:
                started = time.perf_counter()
                try:
                    api_search(http, queries[n % len(queries)])
                    mine.append((time.perf_counter() - started) * 1000)
                except httpx.HTTPError:
                    failed += 1
                n += 1
        with lock:
            samples.extend(mine)
            errors[0] += failed

    started = time.monotonic()
    threads = [threading.Thread(target=client_loop, args=(i * 7,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    return {
        "clients": clients,
        "seconds": round(elapsed, 1),
        "requests": len(samples),
        "errors": errors[0],
        "rps": round(len(samples) / elapsed, 1),
        "latency_ms": summary(samples),
    }


def edit_delays(engine: Engine, base_url: str, edits: int = 20, seed: int = 11, timeout: float = 60.0) -> list[float]:
    """Rename a listing with a place (DB write + outbox row, one commit), then poll the API until the new name
    is found both by words alone (the index every listing is in) and around the listing's point (where place
    searches look: its shard, or the one index)."""
    rng = random.Random(seed)
    with Session(engine) as session:
        rows = session.exec(
            select(Service.id, Location.latitude, Location.longitude)
            .join(ServiceAtLocation, col(ServiceAtLocation.service_id) == col(Service.id))
            .join(Location, col(Location.id) == col(ServiceAtLocation.location_id))
            .where(
                Service.status == "active",
                col(Location.latitude).is_not(None),
                col(Location.is_confidential).is_(False),
            )
            .order_by(col(Service.id))
            .limit(5000)
        ).all()
    delays: list[float] = []
    with httpx.Client(base_url=base_url, timeout=30) as http:
        for service_id, lat, lng in rng.sample(list(rows), edits):
            token = "Zebu" + uuid.uuid4().hex[:10]
            with Session(engine) as session:
                service = session.get(Service, service_id)
                assert service is not None
                service.name = f"{token} community resource"
                session.add(service)
                record_change(session, [service_id])
                session.commit()
            started = time.perf_counter()
            near = {"lat": round(float(lat or 0), 6), "lng": round(float(lng or 0), 6), "radius_km": 5}
            waiting = [{}, near]  # both must find it
            while waiting:
                if _found(http, token, str(service_id), waiting[0]):
                    waiting.pop(0)
                    continue
                if time.perf_counter() - started > timeout:
                    raise RuntimeError(f"edit of {service_id} not searchable after {timeout:.0f}s")
                time.sleep(0.01)
            delays.append((time.perf_counter() - started) * 1000)
            time.sleep(rng.uniform(0.05, 0.3))  # edits arrive at random points of the worker's poll cycle
    return delays


def meili_update_ms(meili_url: str, api_key: str, uids: Sequence[str], count: int) -> list[float]:
    """How long Meilisearch itself took for the last `count` single-document updates of these indexes."""
    if not uids:
        return []
    headers = {"Authorization": f"Bearer {api_key}"}
    params: dict[str, str | int] = {
        "indexUids": ",".join(uids),
        "types": "documentAdditionOrUpdate",
        "limit": 4 * count,
    }
    tasks = httpx.get(f"{meili_url}/tasks", params=params, headers=headers, timeout=30).json()["results"]
    single = [t for t in tasks if (t.get("details") or {}).get("receivedDocuments") == 1 and t.get("duration")]
    return [_iso_seconds(t["duration"]) * 1000 for t in single[:count]]


def _iso_seconds(duration: str) -> float:
    match = re.fullmatch(r"PT(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?", duration)
    if not match:
        return math.nan
    hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def _found(http: httpx.Client, token: str, service_id: str, where: Query) -> bool:
    hits = api_search(http, {"q": token, "per_page": 5, **where})["hits"]
    return any(h["service_id"] == service_id for h in hits)


class SearchProbe:
    """Searches in a loop through the app (e.g. during a reindex), taking the queries in turn, and counts
    failures and empty results."""

    def __init__(self, base_url: str, queries: Sequence[Query]) -> None:
        self.base_url, self.queries = base_url, list(queries)
        self.ok = self.failed = self.empty = 0
        self.totals: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "SearchProbe":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=30) as http:
            n = 0
            while not self._stop.is_set():
                query = self.queries[n % len(self.queries)]
                n += 1
                try:
                    total = int(api_search(http, query)["total"])
                except httpx.HTTPError:
                    self.failed += 1
                    continue
                self.ok += 1
                self.empty += total == 0
                self.totals.add(total)
                self._stop.wait(0.05)
