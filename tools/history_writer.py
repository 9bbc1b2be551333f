"""Writes historical archives in the formats ``flightwatch import`` reads, from simulated
flights whose truth is known (tools/simulate.py): readsb trace files, aircraft.json
snapshots, OpenSky state-vector CSV; gzip, folders and tarballs.

Written from the published format descriptions, not from flightwatch's readers, so a
reader that misreads a field fails the tests.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import tarfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from tools.simulate import Flight, State

_M_PER_FT = 0.3048
_MS_PER_KT = 1852 / 3600


Heard = Callable[[float, State], bool]
"""Whether a position at (time, state) reached the archive (a coverage model's verdict)."""
STALE_AFTER_S = 20.0
"""readsb flags a trace point *stale* when no position came for this long before it."""


def _samples(flight: Flight, every_s: float) -> list[float]:
    times = []
    t = flight.start_time
    while t <= flight.end_time:
        times.append(t)
        t += every_s
    return times


def trace_document(flight: Flight | Sequence[Flight], *, every_s: float = 4.0,
                   details_every: int = 15, registration: str | None = None,
                   silences: Sequence[tuple[float, float]] = (),
                   heard: Heard | None = None) -> dict[str, Any]:
    """readsb's ``trace_full_<hex>.json``: ``timestamp`` + per-point offsets, for one
    airframe's flight or flights (a day's trace). Points within a ``silences`` (start,
    end) window or that ``heard`` rejects are left out; the first point after a gap of
    more than :data:`STALE_AFTER_S` (or after a silence) is flagged stale, as readsb
    does."""
    flights = [flight] if isinstance(flight, Flight) else sorted(flight,
                                                                 key=lambda f: f.start_time)
    first = flights[0]
    start = first.start_time
    points: list[list[Any]] = []
    stale_next = False
    previous: float | None = None
    i = 0
    for leg in flights:
        for t in _samples(leg, every_s):
            i += 1
            s = leg.state_at(t)
            if any(a <= t < b for a, b in silences):
                stale_next = True
                continue
            if heard is not None and not heard(t, s):
                continue
            details = None
            if (i - 1) % details_every == 0:
                details = {"flight": f"{leg.callsign:<8}", "squawk": leg.squawk,
                           "category": f"A{leg.category}", "alt_geom": round(s.altitude_ft) + 75}
            stale = stale_next or (previous is not None and t - previous > STALE_AFTER_S)
            points.append([
                round(t - start, 2), round(s.lat, 6), round(s.lon, 6),
                "ground" if s.on_ground else round(s.altitude_ft),
                round(s.ground_speed_kt, 1), round(s.track_deg, 1),
                1 if stale else 0,
                None if s.on_ground else round(s.vertical_rate_fpm),
                details, "adsb_icao", None, None, None, None,
            ])
            stale_next, previous = False, t
    doc: dict[str, Any] = {"icao": first.icao.lower(), "timestamp": start, "trace": points}
    if registration:
        doc["r"] = registration
    return doc


def snapshot_documents(flights: Iterable[Flight], *, every_s: float = 5.0,
                       start: float | None = None, end: float | None = None,
                       heard: Heard | None = None) -> list[dict[str, Any]]:
    """readsb ``aircraft.json`` snapshots every ``every_s`` over the flights' span; an
    aircraft whose position ``heard`` rejects is not listed."""
    chosen = list(flights)
    t = start if start is not None else min(f.start_time for f in chosen)
    stop = end if end is not None else max(f.end_time for f in chosen)
    docs = []
    while t <= stop:
        aircraft = []
        for f in chosen:
            if not f.start_time <= t - 0.4 <= f.end_time:
                continue
            s = f.state_at(t - 0.4)  # the position is 0.4 s old at snapshot time
            if heard is not None and not heard(t - 0.4, s):
                continue
            entry: dict[str, Any] = {
                "hex": f.icao.lower(), "flight": f"{f.callsign:<8}", "squawk": f.squawk,
                "alt_baro": "ground" if s.on_ground else round(s.altitude_ft),
                "gs": round(s.ground_speed_kt, 1), "track": round(s.track_deg, 1),
                "lat": round(s.lat, 6), "lon": round(s.lon, 6), "seen_pos": 0.4, "seen": 0.1,
                "messages": 100, "rssi": -20.0,
            }
            if not s.on_ground:
                entry["baro_rate"] = round(s.vertical_rate_fpm)
            aircraft.append(entry)
        docs.append({"now": t, "messages": 1000, "aircraft": aircraft})
        t += every_s
    return docs


OPENSKY_COLUMNS = (
    "time", "icao24", "lat", "lon", "velocity", "heading", "vertrate", "callsign", "onground",
    "alert", "spi", "squawk", "baroaltitude", "geoaltitude", "lastposupdate", "lastcontact",
)


def opensky_csv(flights: Iterable[Flight], *, every_s: float = 10.0) -> str:
    """OpenSky's states dataset: one row per aircraft per 10 s, SI units, sorted by time."""
    chosen = list(flights)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(OPENSKY_COLUMNS)
    t = float(int(min(f.start_time for f in chosen)) // 10 * 10 + 10)
    stop = max(f.end_time for f in chosen)
    while t <= stop:
        for f in chosen:
            if not f.start_time <= t - 1 <= f.end_time:
                continue
            s = f.state_at(t - 1)
            writer.writerow([
                int(t), f.icao.lower(), f"{s.lat:.6f}", f"{s.lon:.6f}",
                f"{s.ground_speed_kt * _MS_PER_KT:.2f}", f"{s.track_deg:.2f}",
                f"{s.vertical_rate_fpm * _M_PER_FT / 60:.2f}", f"{f.callsign:<8}",
                "True" if s.on_ground else "False", "False", "False", f.squawk,
                f"{s.altitude_ft * _M_PER_FT:.2f}", f"{(s.altitude_ft + 75) * _M_PER_FT:.2f}",
                f"{t - 1:.3f}", f"{t - 0.5:.3f}",
            ])
        t += every_s
    return out.getvalue()


#: Each OpenSky column's type (pyarrow's alias), as OpenSky's Parquet and database type it.
OPENSKY_TYPES = {name: {"time": "int64", "icao24": "string", "callsign": "string",
                        "squawk": "string", "onground": "bool", "alert": "bool",
                        "spi": "bool"}.get(name, "float64") for name in OPENSKY_COLUMNS}


def opensky_typed_columns(csv_text: str) -> dict[str, list[Any]]:
    """The rows of an :func:`opensky_csv` as typed columns (int time, float measures or
    None, bool flags, text ids)."""
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    columns: dict[str, list[Any]] = {}
    for name, kind in OPENSKY_TYPES.items():
        cells = [row[name] for row in rows]
        if kind == "bool":
            columns[name] = [cell == "True" for cell in cells]
        elif kind == "string":
            columns[name] = cells
        else:
            number = int if kind == "int64" else float
            columns[name] = [None if cell == "" else number(cell) for cell in cells]
    return columns


def write_opensky_parquet(path: Path, csv_text: str, *, row_group_rows: int = 100) -> Path:
    """The rows of an :func:`opensky_csv` as OpenSky's Parquet extracts type them, in
    several row groups."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = {name: pa.array(values, type=pa.type_for_alias(OPENSKY_TYPES[name]))
               for name, values in opensky_typed_columns(csv_text).items()}
    pq.write_table(pa.table(columns), path, row_group_size=row_group_rows)
    return path


def json_bytes(doc: object, *, gzipped: bool = False) -> bytes:
    data = json.dumps(doc, separators=(",", ":")).encode()
    return gzip.compress(data, mtime=0) if gzipped else data


def trace_path(icao: str) -> str:
    """Where readsb's globe history keeps a trace: by the address's last two hex digits."""
    return f"traces/{icao.lower()[-2:]}/trace_full_{icao.lower()}.json"


def write_tarball(path: Path, files: Iterable[tuple[str, bytes]], *, mode: str = "w") -> Path:
    """A tarball of ``(name, bytes)`` (``mode`` "w:gz" for a .tar.gz)."""
    with tarfile.open(path, mode) as tar:
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1_600_000_000
            tar.addfile(info, io.BytesIO(data))
    return path


def write_files(folder: Path, files: Iterable[tuple[str, bytes]]) -> Path:
    for name, data in files:
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return folder
