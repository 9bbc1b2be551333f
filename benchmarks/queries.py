"""Query times on a long history: 10 million positions of 5,000 aircraft over 90 days.

Generates the history straight into the tables (a receiver near Vilnius that hears
western and central Belarus; transit flights and departures/arrivals at airports in
range; a few hundred watched state aircraft that use Minsk more than others do), in
SQLite and in PostgreSQL, with the flights and per-geofence tables filled as the
flight segmenter would, then times:

1. one aircraft's 30-day history (``db.queries.history``), target < 200 ms;
2. watched aircraft that were inside Belarus in the last 30 days, target < 1 s, two ways:
   a. positions: the watched aircraft's positions in the fence's bounding box (chunks
      skipped by their own box), then shapely;
   b. flights: the precomputed ``flight_geofences`` table joined to the watchlist;
3. the flights query of ``flightwatch flights --watched --airport UMMS --since 30d``
   (``db.flight_queries.query_flights``), target < 200 ms.

It prints times (first run and median of ``--repeat``) and never asserts them.
Generating takes minutes; ``--keep DIR`` keeps the SQLite file (and remembers what
the PostgreSQL schema holds) so the next run only times the queries.

    python benchmarks/queries.py [--positions N] [--aircraft N] [--keep DIR]
                                 [--postgres URL | --no-postgres] [--repeat N]

PostgreSQL: ``--postgres`` or FLIGHTWATCH_TEST_POSTGRES_URL; the data goes into a
schema ``fw_bench_v<generator version>`` of that database (dropped and refilled when it
holds other data).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import (  # noqa: E402
    BigInteger,
    Engine,
    create_engine,
    func,
    select,
    text,
    type_coerce,
)

END = datetime(2026, 11, 1, tzinfo=UTC)  # the data's "now": queries ask for END - 30 days
RECEIVER = (54.69, 25.28)  # Vilnius
RANGE_KM = 420.0
STEP_S = 5  # the tracker's default store interval
GROUND_POSITIONS = 12
SOURCE = "vilnius/beast:127.0.0.1:30005"  # receiver-qualified, as Store(receiver=) names it
GENERATOR_VERSION = 5  # 5: positions in compressed chunks (migration 0010)
SCHEMA = f"fw_bench_v{GENERATOR_VERSION}"  # two versions compared keep their own data
# Airports in range besides the bundled Belarusian ones (ident, lat, lon, elevation ft).
NEIGHBOURS = [("EYVI", 54.6341, 25.2858, 646), ("EYKA", 54.9639, 24.0848, 256),
              ("EVRA", 56.9236, 23.9711, 36)]


@dataclass(frozen=True)
class Params:
    positions: int
    aircraft: int
    watched: int
    days: int
    seed: int
    version: int = GENERATOR_VERSION

    def signature(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:16]


# --- generation ------------------------------------------------------------------------


def load_airports() -> dict[str, tuple[float, float, float]]:
    found = {}
    with open(REPO / "config" / "airports.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["type"] in ("large_airport", "medium_airport"):
                found[row["ident"]] = (float(row["lat"]), float(row["lon"]),
                                       float(row["elevation_ft"] or 0))
    for ident, lat, lon, elevation in NEIGHBOURS:
        found[ident] = (lat, lon, float(elevation))
    return {k: v for k, v in found.items() if km_between(RECEIVER, v[:2]) < RANGE_KM - 30}


def km_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    dy = (b[0] - a[0]) * 111.2
    dx = (b[1] - a[1]) * 111.2 * math.cos(math.radians((a[0] + b[0]) / 2))
    return math.hypot(dx, dy)


def edge_point(rng: np.random.Generator) -> tuple[float, float]:
    """A point on the edge of the receiver's range, where a track is first or last heard."""
    bearing = rng.uniform(0, 2 * math.pi)
    lat = RECEIVER[0] + RANGE_KM * math.cos(bearing) / 111.2
    lon = RECEIVER[1] + RANGE_KM * math.sin(bearing) / (111.2 * math.cos(math.radians(lat)))
    return lat, lon


@dataclass
class Pass:
    """One time an aircraft crossed the receiver's range: later one flights row."""

    icao: str
    start: tuple[float, float]
    end: tuple[float, float]
    speed_kt: float
    cruise_ft: float
    departure: str | None
    arrival: str | None
    n: int
    first_time: int = 0


def plan_passes(params: Params, rng: np.random.Generator,
                airports: dict[str, tuple[float, float, float]]) -> tuple[list[str], list[str],
                                                                          list[Pass]]:
    """Aircraft addresses, the watched ones, and passes until the positions add up."""
    taken: set[int] = set()
    addresses = []
    while len(addresses) < params.aircraft:
        watched_block = len(addresses) < params.watched
        value = int(rng.integers(0x140000, 0x160000) if watched_block and len(addresses) % 3
                    else rng.integers(0x510000, 0x510400) if watched_block
                    else rng.integers(0x380000, 0x500000))
        if value not in taken:
            taken.add(value)
            addresses.append(f"{value:06X}")
    watched = addresses[:params.watched]
    weights = rng.lognormal(0.0, 1.0, params.aircraft)
    weights[:params.watched] *= 3
    weights /= weights.sum()
    others = [a for a in airports if a != "UMMS"]
    passes: list[Pass] = []
    total = 0
    while total < params.positions:
        index = int(rng.choice(params.aircraft, p=weights))
        is_watched = index < params.watched
        roll = rng.uniform()
        departure = arrival = None
        minsk = 0.4 if is_watched else 0.1
        if roll < minsk:
            departure, arrival = ("UMMS", None) if rng.uniform() < 0.5 else (None, "UMMS")
        elif roll < minsk + 0.2:
            ident = others[int(rng.integers(len(others)))]
            departure, arrival = (ident, None) if rng.uniform() < 0.5 else (None, ident)
        start = airports[departure][:2] if departure else edge_point(rng)
        end = airports[arrival][:2] if arrival else edge_point(rng)
        if km_between(start, end) < 150:
            continue
        speed = float(rng.uniform(380, 480))
        seconds = km_between(start, end) / (speed * 1.852) * 3600
        n = int(seconds // STEP_S) + (GROUND_POSITIONS if departure or arrival else 0)
        passes.append(Pass(addresses[index], start, end, speed,
                           float(rng.choice([28000, 32000, 36000, 38000])), departure, arrival,
                           n))
        total += n
    return addresses, watched, passes


def schedule(passes: list[Pass], params: Params, rng: np.random.Generator) -> list[Pass]:
    """Start times: spread over the days, never overlapping, > 30 min apart per aircraft."""
    first = int((END - timedelta(days=params.days)).timestamp())
    last = int(END.timestamp())
    by_icao: dict[str, list[Pass]] = {}
    for p in passes:
        by_icao.setdefault(p.icao, []).append(p)
    kept = []
    for icao in sorted(by_icao):
        mine = by_icao[icao]
        starts = np.sort(rng.integers(first, last, len(mine)))
        free = first
        for p, start in zip(mine, starts, strict=True):
            p.first_time = max(int(start), free)
            free = p.first_time + p.n * STEP_S + 45 * 60
            if free - 45 * 60 < last:
                kept.append(p)
    return kept


def track(p: Pass, airports: dict[str, tuple[float, float, float]]
          ) -> dict[str, np.ndarray]:
    """The stored positions of one pass, every STEP_S seconds."""
    n = p.n
    frac = np.linspace(0.0, 1.0, n)
    lat = p.start[0] + (p.end[0] - p.start[0]) * frac
    lon = p.start[1] + (p.end[1] - p.start[1]) * frac
    t = np.arange(n, dtype=np.int64) * STEP_S
    alt = np.full(n, p.cruise_ft)
    gs = np.full(n, p.speed_kt)
    vr = np.zeros(n)
    ground = np.zeros(n, dtype=bool)
    if p.departure:
        elevation = airports[p.departure][2]
        climb = elevation + (t - GROUND_POSITIONS * STEP_S) * 2200 / 60
        alt = np.minimum(alt, climb)
        vr = np.where(alt < p.cruise_ft, 2200.0, 0.0)
        ground[:GROUND_POSITIONS] = True
    if p.arrival:
        elevation = airports[p.arrival][2]
        descent = elevation + ((n - GROUND_POSITIONS - 1) * STEP_S - t) * 1800 / 60
        vr = np.where(descent < alt, -1800.0, vr)
        alt = np.minimum(alt, descent)
        ground[n - GROUND_POSITIONS:] = True
    alt = np.where(ground, np.nan, alt)
    gs = np.where(ground, 15.0, np.where(alt < 10000, np.minimum(gs, 250.0), gs))
    vr = np.where(ground, 0.0, vr)
    bearing = math.degrees(math.atan2(
        (p.end[1] - p.start[1]) * math.cos(math.radians(p.start[0])), p.end[0] - p.start[0]
    )) % 360
    return {"time": p.first_time + t, "lat": np.round(lat, 5), "lon": np.round(lon, 5),
            "alt": alt, "gs": gs, "track": round(bearing, 1), "vr": vr, "ground": ground}


@dataclass
class Chunk:
    positions: list[tuple[Any, ...]]
    flights: list[dict[str, Any]]
    fences: list[dict[str, Any]]
    callsigns: list[dict[str, Any]]


def generate(params: Params, fence: Any, airports: dict[str, tuple[float, float, float]],
             chunk_rows: int = 400_000) -> Iterator[Chunk | tuple[list[str], list[str]]]:
    """First (addresses, watched), then chunks of rows in (icao, time) order."""
    import shapely

    rng = np.random.default_rng(params.seed)
    addresses, watched, passes = plan_passes(params, rng, airports)
    passes = schedule(passes, params, rng)
    yield addresses, watched
    chunk = Chunk([], [], [], [])
    for p in passes:
        c = track(p, airports)
        times = c["time"].tolist()
        alt = [None if math.isnan(a) else round(a) for a in c["alt"].tolist()]
        # As stored (db/types.py): the address as an integer, 1e-5 degrees, 0.1 degree.
        chunk.positions.extend(zip(
            [int(p.icao, 16)] * p.n, times, np.round(c["lat"] * 1e5).astype(int).tolist(),
            np.round(c["lon"] * 1e5).astype(int).tolist(), alt,
            np.round(c["gs"]).astype(int).tolist(), [round(c["track"] * 10)] * p.n,
            np.round(c["vr"]).astype(int).tolist(), c["ground"].tolist(), [1] * p.n,
            strict=True,
        ))
        callsign = f"BW{int(p.icao, 16) % 9000 + 100}"
        airborne = np.flatnonzero(~c["ground"])
        row = {"icao": p.icao, "first_seen": times[0], "last_seen": times[-1],
               "callsign": callsign, "registration": None,
               "departure_airport": p.departure, "arrival_airport": p.arrival,
               "departure_time": times[airborne[0]] if p.departure else None,
               "arrival_time": times[airborne[-1] + 1] if p.arrival else None,
               "max_altitude_ft": max(a for a in alt if a is not None), "positions": p.n}
        chunk.flights.append(row)
        chunk.callsigns.append({"icao": p.icao, "first_seen": times[0], "last_seen": times[-1],
                                "callsign": callsign})
        inside = shapely.contains_xy(fence.geometry, c["lon"], c["lat"])
        if inside.any():
            both = inside[1:] & inside[:-1]
            where = np.flatnonzero(inside)
            chunk.fences.append({
                "icao": p.icao, "first_seen": times[0], "geofence": fence.name,
                "seconds": int(both.sum()) * STEP_S, "first_inside": times[where[0]],
                "last_inside": times[where[-1]],
            })
        if len(chunk.positions) >= chunk_rows:
            yield chunk
            chunk = Chunk([], [], [], [])
    yield chunk


# --- loading -------------------------------------------------------------------------


def small_tables(engine: Engine, addresses: list[str], watched: list[str]) -> None:
    """Sources, aircraft, watchlist through the models (typed columns). The airports table
    stays empty, as a daemon with the bundled airports leaves it."""
    from flightwatch.db.models import Aircraft, Source, WatchlistEntry

    seen = datetime(2026, 1, 1, tzinfo=UTC)
    registration = {a: f"EW-{i:05d}" for i, a in enumerate(watched)}
    with engine.begin() as conn:
        conn.execute(Source.__table__.insert(), [{"id": 1, "name": SOURCE}])
        conn.execute(Aircraft.__table__.insert(), [
            {"icao": a, "registration": registration.get(a), "first_seen": seen,
             "last_seen": END} for a in addresses])
        conn.execute(WatchlistEntry.__table__.insert(), [
            {"icao": a, "registration": r, "operator": "state", "group_name": "BY_GOV",
             "origin": "benchmark", "updated": seen} for a, r in registration.items()])


def core_rows(engine: Engine, chunk: Chunk) -> None:
    """Flights, per-fence times and callsign periods (EpochSeconds columns take datetimes)."""
    from flightwatch.db.models import CallsignPeriod, FlightGeofence, FlightRecord

    def typed(rows: list[dict[str, Any]], keys: tuple[str, ...]) -> list[dict[str, Any]]:
        return [{k: (datetime.fromtimestamp(v, UTC) if k in keys and v is not None else v)
                 for k, v in r.items()} for r in rows]

    times = ("first_seen", "last_seen", "departure_time", "arrival_time", "first_inside",
             "last_inside")
    with engine.begin() as conn:
        for model, rows in ((FlightRecord, chunk.flights), (FlightGeofence, chunk.fences),
                            (CallsignPeriod, chunk.callsigns)):
            if rows:
                conn.execute(model.__table__.insert(), typed(rows, times))


class ChunkSink:
    """Positions written as the product stores them: hourly chunks (db.positions), an
    aircraft's passes at a time. Full rate throughout (retention would have thinned what
    is older than a week; the queries read the same positions either way)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def positions(self, rows: list[tuple[Any, ...]]) -> None:
        from flightwatch.db.blocks import ground_code
        from flightwatch.db.position_reader import HOUR
        from flightwatch.db.positions import lock_positions, write_tracks

        by_icao: dict[int, list[tuple[Any, ...]]] = {}
        for icao, *rest in rows:
            by_icao.setdefault(icao, []).append(rest)
        tracks = []
        for icao, points in sorted(by_icao.items()):
            points.sort(key=lambda p: p[0])
            columns = tuple(list(c) for c in zip(*points, strict=True))
            columns[7][:] = [ground_code(bool(g)) for g in columns[7]]
            tracks.append((icao, columns))
        with self.engine.begin() as conn:
            lock_positions(conn)
            write_tracks(conn, tracks, span=HOUR)

    def finish(self) -> None:
        with self.engine.connect() as conn:
            if self.engine.dialect.name == "sqlite":
                conn.exec_driver_sql("ANALYZE")
            else:
                conn.exec_driver_sql("CREATE TABLE bench_signature (signature text)")
                conn.commit()
        if self.engine.dialect.name == "postgresql":
            with self.engine.connect().execution_options(
                    isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))


def load(params: Params, sinks: list[Any], fence: Any) -> None:
    airports = load_airports()
    began = time.perf_counter()
    rows = 0
    for item in generate(params, fence, airports):
        if isinstance(item, tuple):
            for sink in sinks:
                small_tables(sink.engine, *item)
            continue
        for sink in sinks:
            sink.positions(item.positions)
            core_rows(sink.engine, item)
        rows += len(item.positions)
        rate = rows / (time.perf_counter() - began)
        print(f"\r  {rows:,} positions written ({rate:,.0f}/s)", end="", file=sys.stderr)
    print(file=sys.stderr)
    for sink in sinks:
        started = time.perf_counter()
        sink.finish()
        print(f"  {sink.engine.dialect.name}: indexes and statistics in "
              f"{time.perf_counter() - started:.0f} s", file=sys.stderr)


# --- the queries ---------------------------------------------------------------------


def watched_by_activity(engine: Engine, since: datetime) -> tuple[str, str]:
    """The typical (median) and the busiest watched aircraft since ``since``."""
    from flightwatch.db.models import FlightRecord, WatchlistEntry

    stmt = (select(FlightRecord.icao)
            .join(WatchlistEntry, WatchlistEntry.icao == FlightRecord.icao)
            .where(FlightRecord.first_seen >= since).group_by(FlightRecord.icao)
            .order_by(func.sum(FlightRecord.positions), FlightRecord.icao))
    with engine.connect() as conn:
        ranked = list(conn.execute(stmt).scalars())
    return ranked[len(ranked) // 2], ranked[-1]


def watched_inside_by_positions(engine: Engine, fence: Any, since: datetime
                                ) -> dict[str, tuple[int, int, int]]:
    """icao -> (positions inside, first, last inside epoch): the watched aircraft's
    positions in the fence's bounding box (db.position_reader), then shapely."""
    import shapely

    from flightwatch.db.blocks import LAT, LON, TIME
    from flightwatch.db.encoding import COORDINATE_SCALE
    from flightwatch.db.models import WatchlistEntry
    from flightwatch.db.position_reader import tracks
    from flightwatch.db.reader import EngineReader

    min_lon, min_lat, max_lon, max_lat = (round(v * COORDINATE_SCALE) for v in fence.bounds)
    with engine.connect() as conn:
        watched = [int(icao, 16) for icao in conn.execute(select(WatchlistEntry.icao)).scalars()]
    found: dict[str, tuple[int, int, int]] = {}
    for number, columns in tracks(EngineReader(engine), icaos=watched,
                                  since=int(since.timestamp()),
                                  bbox=(min_lon, min_lat, max_lon, max_lat)):
        times = np.array(columns[TIME])
        inside = shapely.contains_xy(fence.geometry, np.array(columns[LON]) / COORDINATE_SCALE,
                                     np.array(columns[LAT]) / COORDINATE_SCALE)
        if inside.any():
            kept = times[inside]
            found[f"{number:06X}"] = (int(inside.sum()), int(kept.min()), int(kept.max()))
    return found


def watched_inside_by_flights(engine: Engine, fence_name: str, since: datetime
                              ) -> dict[str, tuple[int, int, int]]:
    """icao -> (seconds inside, first, last inside epoch) from ``flight_geofences``."""
    from flightwatch.db.models import FlightGeofence, WatchlistEntry

    g = FlightGeofence
    stmt = (
        select(g.icao, func.sum(g.seconds), func.min(type_coerce(g.first_inside, BigInteger)),
               func.max(type_coerce(g.last_inside, BigInteger)))
        .join(WatchlistEntry, WatchlistEntry.icao == g.icao)
        .where(g.geofence == fence_name, g.last_inside >= since)
        .group_by(g.icao)
    )
    with engine.connect() as conn:
        return {row[0]: (int(row[1]), int(row[2]), int(row[3])) for row in conn.execute(stmt)}


def timed(run: Callable[[], Any], repeat: int) -> tuple[Any, float, float]:
    times = []
    result = None
    for _ in range(repeat):
        began = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - began)
    return result, times[0], statistics.median(times)


def run_queries(engine: Engine, fence: Any, repeat: int) -> dict[str, Any]:
    from flightwatch.db.flight_queries import query_flights
    from flightwatch.db.queries import history

    since = END - timedelta(days=30)
    out: dict[str, Any] = {}
    for kind, icao in zip(("typical", "busiest"), watched_by_activity(engine, since),
                          strict=True):
        rows, first, median = timed(lambda i=icao: list(history(engine, icaos=[i], since=since)),
                                    repeat)
        out[f"history {kind}"] = (f"one aircraft's 30-day history ({kind}: {icao})", len(rows),
                                  first, median, 0.2)
    by_pos, first, median = timed(lambda: watched_inside_by_positions(engine, fence, since),
                                  repeat)
    out["inside_positions"] = ("watched inside Belarus, 30 d, from positions",
                               len(by_pos), first, median, 1.0)
    by_flights, first, median = timed(lambda: watched_inside_by_flights(engine, fence.name, since),
                                      repeat)
    out["inside_flights"] = ("watched inside Belarus, 30 d, from flight_geofences",
                             len(by_flights), first, median, 1.0)
    flights, first, median = timed(
        lambda: query_flights(engine, watched=True, airport="UMMS", since=since), repeat)
    out["flights"] = ("flights --watched --airport UMMS --since 30d", len(flights), first,
                      median, 0.2)
    if set(by_pos) != set(by_flights):
        print(f"  !! the two 'inside Belarus' answers differ: {len(set(by_pos) ^ set(by_flights))}"
              " aircraft", file=sys.stderr)
    out["answers"] = (rows, sorted(by_pos), [(f.icao, f.first_seen) for f in flights])
    return out


# --- main ----------------------------------------------------------------------------


def sqlite_engine(folder: Path, params: Params) -> tuple[Engine, bool]:
    """The cached SQLite database, or a fresh empty one; True when it is cached."""
    from flightwatch.db import connect

    path = folder / f"bench-{params.signature()}.db"
    marker = path.with_suffix(".done")
    if path.exists() and marker.exists():
        return connect(f"sqlite:///{path}"), True
    for stale in folder.glob(f"{path.name}*"):
        stale.unlink()
    marker.unlink(missing_ok=True)
    return connect(f"sqlite:///{path}"), False


def postgres_engine(base_url: str, params: Params) -> tuple[Engine, bool]:
    from flightwatch.db import connect

    admin = create_engine(base_url)
    with admin.begin() as conn:
        exists = conn.execute(text(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = :s "
            "AND table_name = 'bench_signature'"), {"s": SCHEMA}).first()
        cached = exists and conn.execute(
            text(f"SELECT signature FROM {SCHEMA}.bench_signature")).scalar() == params.signature()
        if not cached:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    admin.dispose()
    separator = "&" if "?" in base_url else "?"
    return connect(f"{base_url}{separator}options=-csearch_path%3D{SCHEMA}"), bool(cached)


def database_size(engine: Engine) -> str:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
            size = conn.exec_driver_sql("PRAGMA page_size").scalar_one()
            return f"{pages * size / 1e9:.2f} GB"
        total = conn.execute(text(
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind = 'r'")).scalar_one()
        return f"{float(total) / 1e9:.2f} GB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--positions", type=int, default=10_000_000)
    parser.add_argument("--aircraft", type=int, default=5_000)
    parser.add_argument("--watched", type=int, default=300)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", type=Path, metavar="DIR", help="keep the SQLite file here")
    parser.add_argument("--postgres", metavar="URL",
                        default=os.environ.get("FLIGHTWATCH_TEST_POSTGRES_URL"))
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()

    from flightwatch.alerts.geofence import Geofence

    params = Params(args.positions, args.aircraft, args.watched, args.days, args.seed)
    fence = Geofence.from_file(REPO / "config" / "geofences" / "belarus.geojson", "belarus")
    scratch = None
    if args.keep is None:
        scratch = tempfile.TemporaryDirectory(prefix="fw-bench-")
    folder = args.keep or Path(scratch.name)  # type: ignore[union-attr]
    folder.mkdir(parents=True, exist_ok=True)

    engines: list[Engine] = []
    to_fill = []
    engine, cached = sqlite_engine(folder, params)
    engines.append(engine)
    if not cached:
        to_fill.append(ChunkSink(engine))
    if args.postgres and not args.no_postgres:
        engine, cached = postgres_engine(args.postgres, params)
        engines.append(engine)
        if not cached:
            to_fill.append(ChunkSink(engine))
    print(f"history: {params.positions:,} positions, {params.aircraft:,} aircraft "
          f"({params.watched} watched), {params.days} days up to {END:%Y-%m-%d}")
    if to_fill:
        names = ", ".join(s.engine.dialect.name for s in to_fill)
        print(f"generating into {names} (cached: none of these) ...")
        began = time.perf_counter()
        load(params, to_fill, fence)
        print(f"generated in {time.perf_counter() - began:.0f} s")
        for sink in to_fill:
            if sink.engine.dialect.name == "sqlite":
                Path(sink.engine.url.database).with_suffix(".done").touch()
            else:
                with sink.engine.begin() as conn:
                    conn.execute(text("INSERT INTO bench_signature VALUES (:s)"),
                                 {"s": params.signature()})
    answers = []
    for engine in engines:
        from flightwatch.db.position_reader import count as count_positions
        from flightwatch.db.reader import EngineReader

        count = count_positions(EngineReader(engine))
        print(f"\n{engine.dialect.name}: {count:,} positions, {database_size(engine)}")
        results = run_queries(engine, fence, args.repeat)
        for key, value in results.items():
            if key == "answers":
                answers.append(value)
                continue
            label, n, first, median, target = value
            verdict = "ok" if median < target else "SLOWER than target"
            print(f"  {label:<55} {n:>7,} rows  first {first * 1000:8.1f} ms  "
                  f"median {median * 1000:8.1f} ms  (target < {target * 1000:.0f} ms: {verdict})")
        engine.dispose()
    if len(answers) == 2:
        same = answers[0] == answers[1]
        print(f"\nSQLite and PostgreSQL answers identical: {same}")
    if scratch is not None:
        scratch.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
