"""A busy receiver's stored history, built fast through the product's own writer.

The disk-write benchmarks measure live ingest on a database that already holds days
of history, because what a commit costs depends on what is already in the file. This
module builds that history in minutes instead of days: flights over Belarus, 455 in
the air at any time, each an hour or so long with a position every 5 to 6 seconds
(the tracker's default store interval), from a pool of aircraft that come back day
after day (the live benchmark's aircraft among them), with the noise of real tracks
(coordinates to a metre or two, altitude steps of 25 ft, speed and track jitter).

Positions, callsigns and aircraft rows go through :class:`db.store.Store` on the
data's own clock, an hour a batch, so the file holds what the product writes; the
flights and their time inside the Belarus fence (which the flight segmenter would
have written) are inserted as rows. History older than ``full_s`` is generated
already thinned (one position per ``THINNED_STEP_S``), as retention leaves it.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

HOUR = 3600
SOURCE = "beast:127.0.0.1:30005"
BELARUS_BOX = (51.2, 56.2, 23.2, 32.8)  # lat_min, lat_max, lon_min, lon_max (tools.simulate)
STEP_S = 5.0  # the tracker's default store interval
THINNED_STEP_S = 180  # retention's default thin_interval
KT_TO_DEG_PER_S = 1.852 / 111.2 / 3600


@dataclass(frozen=True)
class HistoryPlan:
    """What to build: ``full_s`` seconds of full-rate history (and ``thinned_s`` more,
    thinned, before that) ending at ``end`` (Unix seconds)."""

    end: int
    full_s: int
    thinned_s: int = 0
    concurrent: int = 455
    pool: int = 6_000
    live: tuple[str, ...] = ()
    seed: int = 7


@dataclass(order=True)
class _Flight:
    start: int
    icao: str = field(compare=False)
    duration: int = field(compare=False)
    seed: int = field(compare=False)
    step: float = field(compare=False)
    arrays: dict[str, np.ndarray] | None = field(default=None, compare=False)

    @property
    def end(self) -> int:
        return self.start + self.duration


def _pool(plan: HistoryPlan, rng: np.random.Generator) -> list[str]:
    """The aircraft that fly: the live ones plus random addresses outside the RU/BY blocks."""
    taken = set(plan.live)
    pool = list(plan.live)
    while len(pool) < plan.pool:
        value = int(rng.integers(0x200000, 0xFFFFFF))
        icao = f"{value:06X}"
        if icao not in taken and not 0x510000 <= value <= 0x5107FF:
            taken.add(icao)
            pool.append(icao)
    return pool


def schedule(plan: HistoryPlan) -> list[_Flight]:
    """Every flight of the history, by start time: ``concurrent`` slots each flying one
    aircraft after another, an aircraft never in two places at once (slots take turns in
    time order, so an aircraft's busy time is always known when it is picked)."""
    rng = np.random.default_rng(plan.seed)
    pool = _pool(plan, rng)
    first = plan.end - plan.full_s - plan.thinned_s
    full_from = plan.end - plan.full_s
    busy_until = dict.fromkeys(pool, 0)
    flights: list[_Flight] = []
    # Slots start out of step: (next start, slot)
    slots = [(first - int(rng.integers(0, 90 * 60)), slot) for slot in range(plan.concurrent)]
    heapq.heapify(slots)
    while slots:
        t, slot = heapq.heappop(slots)
        if t >= plan.end:
            continue
        duration = int(rng.integers(40 * 60, 90 * 60))
        icao = pool[int(rng.integers(len(pool)))]
        while busy_until[icao] > t:
            icao = pool[int(rng.integers(len(pool)))]
        # Live aircraft land well before the live hour: it starts new flights for them.
        if icao in plan.live:
            duration = min(duration, plan.end - 45 * 60 - t)
        if duration > 60:
            busy_until[icao] = t + duration + 30 * 60
            step = STEP_S if t + duration > full_from else THINNED_STEP_S
            flights.append(_Flight(t, icao, duration, int(rng.integers(2**31)), step))
        heapq.heappush(slots, (t + max(duration, 0) + int(rng.integers(60, 15 * 60)), slot))
    flights.sort()
    return flights


def track(flight: _Flight, full_from: int) -> dict[str, np.ndarray]:
    """A flight's stored positions with the noise of a real track (one straight leg,
    level, climbing or descending), times in whole seconds."""
    rng = np.random.default_rng(flight.seed)
    lat_min, lat_max, lon_min, lon_max = BELARUS_BOX
    gaps = rng.choice([5, 5, 5, 6, 6, 7], size=int(flight.duration / STEP_S) + 1)
    t = flight.start + np.cumsum(gaps) - gaps[0]
    t = t[t < flight.end]
    thinned = t < full_from
    if thinned.any():  # one position per thinning bucket, as retention keeps
        buckets = t // THINNED_STEP_S
        first_of_bucket = np.concatenate(([True], buckets[1:] != buckets[:-1]))
        t = t[~thinned | first_of_bucket]
    n = len(t)
    elapsed = (t - flight.start).astype(float)
    speed = rng.uniform(250, 480)
    bearing = math.radians(rng.uniform(0, 360))
    lat0, lon0 = rng.uniform(lat_min, lat_max), rng.uniform(lon_min, lon_max)
    dist = speed * KT_TO_DEG_PER_S * elapsed
    lat = lat0 + dist * math.cos(bearing) + rng.normal(0, 1.5e-5, n)
    lon = lon0 + dist * math.sin(bearing) / math.cos(math.radians(lat0)) + rng.normal(0, 2e-5, n)
    rate = float(rng.choice([0.0, 0.0, 1500.0, -1500.0]))
    alt0 = rng.uniform(3000, 40000)
    alt = np.clip(alt0 + rate * elapsed / 60, 1000, 45000)
    alt = np.round((alt + rng.choice([0, 0, 0, 25, -25], n)) / 25) * 25
    vr = np.round((rate + rng.choice([0, 0, 64, -64], n)) / 64) * 64
    gs = np.round(speed + rng.normal(0, 0.8, n))
    trk = np.round((math.degrees(bearing) + rng.normal(0, 0.15, n)) % 360, 1)
    return {"time": t, "lat": np.round(lat, 5), "lon": np.round(lon, 5), "alt": alt,
            "gs": gs, "track": trk, "vr": vr}


def callsign_of(flight: _Flight) -> str:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    value = flight.seed
    return letters[value % 26] + letters[value // 26 % 26] + letters[value // 676 % 26] + \
        str(value % 9000 + 100)


def windows(plan: HistoryPlan, flights: Sequence[_Flight], width: int = HOUR
            ) -> Iterator[tuple[int, list[tuple[_Flight, dict[str, np.ndarray]]],
                                list[_Flight]]]:
    """Hour by hour: (window start, [(flight, its positions in the window)], flights that
    ended in the window)."""
    full_from = plan.end - plan.full_s
    start = plan.end - plan.full_s - plan.thinned_s
    active: list[tuple[int, int, _Flight]] = []  # (end, order, flight)
    upcoming = 0
    order = 0
    while start < plan.end:
        stop = min(start + width, plan.end)
        while upcoming < len(flights) and flights[upcoming].start < stop:
            flight = flights[upcoming]
            flight.arrays = track(flight, full_from)
            heapq.heappush(active, (flight.end, order, flight))
            order += 1
            upcoming += 1
        parts = []
        for _end, _order, flight in active:
            arrays = flight.arrays
            assert arrays is not None
            times = arrays["time"]
            inside = (times >= start) & (times < stop)
            if inside.any():
                parts.append((flight, {k: v[inside] for k, v in arrays.items()}))
        ended = []
        while active and active[0][0] <= stop:
            ended.append(heapq.heappop(active)[2])
        yield start, parts, ended
        start = stop


def fill(engine: Any, plan: HistoryPlan, fence: Any = None,
         progress: Callable[[str], None] = lambda _line: None) -> dict[str, int]:
    """Build the history into ``engine``'s (current) schema; counts of what was written."""
    import shapely
    from sqlalchemy import insert

    from flightwatch.db.models import FlightGeofence, FlightRecord
    from flightwatch.db.store import Store
    from flightwatch.decoder.tracker import AircraftState
    from flightwatch.decoder.tracker import Position as TrackPosition

    flights = schedule(plan)
    clock = [0.0]
    store = Store(engine, batch_rows=10**9, batch_seconds=HOUR, clock=lambda: clock[0])
    counts = {"positions": 0, "flights": 0}
    utc = UTC
    for start, parts, ended in windows(plan, flights):
        clock[0] = float(start)
        rows: list[tuple[Any, ...]] = []
        for flight, a in parts:
            callsign = callsign_of(flight)
            rows.extend(zip(a["time"].tolist(), [flight.icao] * len(a["time"]),
                            a["lat"].tolist(), a["lon"].tolist(), a["alt"].tolist(),
                            a["gs"].tolist(), a["track"].tolist(), a["vr"].tolist(),
                            [callsign] * len(a["time"]), strict=True))
        rows.sort()
        add = store.add_position
        for t, icao, lat, lon, alt, gs, trk, vr, callsign in rows:
            add(TrackPosition(icao, datetime.fromtimestamp(t, utc), lat, lon, alt, gs, trk,
                              vr, False, callsign, SOURCE))
        counts["positions"] += len(rows)
        flight_rows, fence_rows = [], []
        for flight in ended:
            a = flight.arrays
            assert a is not None
            if not len(a["time"]):
                continue
            first = datetime.fromtimestamp(int(a["time"][0]), utc)
            last = datetime.fromtimestamp(int(a["time"][-1]), utc)
            store.note_aircraft(AircraftState(flight.icao, first, last,
                                              callsign=callsign_of(flight)))
            flight_rows.append({"icao": flight.icao, "first_seen": first, "last_seen": last,
                                "callsign": callsign_of(flight),
                                "max_altitude_ft": int(a["alt"].max()),
                                "positions": len(a["time"])})
            if fence is not None:
                inside = shapely.contains_xy(fence.geometry, a["lon"], a["lat"])
                if inside.any():
                    where = np.flatnonzero(inside)
                    both = inside[1:] & inside[:-1]
                    seconds = int(np.diff(a["time"])[both].sum())
                    fence_rows.append({
                        "icao": flight.icao, "first_seen": first, "geofence": fence.name,
                        "seconds": seconds,
                        "first_inside": datetime.fromtimestamp(int(a["time"][where[0]]), utc),
                        "last_inside": datetime.fromtimestamp(int(a["time"][where[-1]]), utc)})
            flight.arrays = None
        clock[0] = float(start + HOUR)
        if not store.flush():
            raise SystemExit("the history could not be written")
        with engine.begin() as conn:
            if flight_rows:
                conn.execute(insert(FlightRecord.__table__), flight_rows)
            if fence_rows:
                conn.execute(insert(FlightGeofence.__table__), fence_rows)
        counts["flights"] += len(flight_rows)
        progress(f"{datetime.fromtimestamp(start, utc):%Y-%m-%d %H:%M}: "
                 f"{counts['positions']:,} positions, {counts['flights']:,} flights")
    if not store.close():
        raise SystemExit("the history could not be written")
    return counts
