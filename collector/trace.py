"""readsb / tar1090 trace files (``trace_full_<hex>.json``): one aircraft's day as points.

A document is ``{"icao", "timestamp", "trace": [[dt, lat, lon, alt, gs, track, flags,
vrate, details, ...], ...]}`` (newer files add ``r``/``t`` for registration and type):

- a point's time is ``timestamp + dt``;
- ``alt`` is feet, ``"ground"`` (on the ground) or null;
- ``flags`` bit 1: *stale*, no position for a while before this one; bit 2: *new leg*
  (readsb's own cut between a landing and the next takeoff);
- ``details`` is null or an aircraft.json-style object (``flight``, ``squawk``,
  ``category`` ...), mapped by the same code as live aircraft.json.

readsb thins traces (a point every few seconds to a minute in level flight), so a
long gap between points is not silence; only a stale or new-leg point says the
aircraft was not heard in between (see :attr:`TracePoint.after_silence`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import BinaryIO

from flightwatch.collector import plausible
from flightwatch.collector.aggregators.aircraft_json import observation_from_aircraft
from flightwatch.collector.plausible import Rejected, check_range, check_text
from flightwatch.decoder import Observation, normalise_icao, utc_from_epoch

STALE = 1
NEW_LEG = 2
_NUMBER = (int, float)
_MAX_TRACE_S = 2 * 86_400.0  # a trace file is a day; readsb may run a little over
_DROPPED_DETAILS = ("seen", "seen_pos", "lat", "lon", "hex")


class TraceError(ValueError):
    """Not a trace document (or not one for a 24-bit ICAO address)."""


@dataclass(slots=True)
class Trace:
    """One aircraft's points in time order, and how many points were malformed."""

    icao: str
    observations: list[Observation]
    silences: set[int]  # indices of points that follow a stale or new-leg flag
    malformed: int = 0
    example: str = ""  # why the first refused point was refused


def read_trace(stream: BinaryIO, source: str) -> Trace:
    """Parse one trace document; :class:`TraceError` if it is not one."""
    try:
        doc = json.load(stream)
    except UnicodeDecodeError as exc:
        raise TraceError(f"not UTF-8 JSON ({exc.reason})") from exc
    return parse_trace(doc, source)


def parse_trace(doc: object, source: str) -> Trace:
    if not isinstance(doc, Mapping) or not isinstance(doc.get("trace"), list):
        raise TraceError("not a trace document (no 'trace' list)")
    hex_value = doc.get("icao")
    icao = normalise_icao(hex_value) if isinstance(hex_value, str) else None
    if icao is None:
        raise TraceError(f"icao={hex_value!r} is not a 24-bit address")
    start = doc.get("timestamp")
    if not isinstance(start, _NUMBER) or isinstance(start, bool):
        raise TraceError(f"timestamp={start!r} is not a number")
    try:  # a file is as hostile as an aggregator's answer: no year 3000, no 1e300
        plausible.check_answer_time(float(start), time.time())
    except (Rejected, OverflowError) as exc:
        raise TraceError(f"timestamp {start!r}: {exc}") from None
    identity = {key: _checked_text(key, doc.get(key)) for key in ("r", "t")}
    points: list[tuple[float, int, Observation]] = []
    malformed = 0
    example = ""
    for index, point in enumerate(doc["trace"]):
        try:
            when, flags, obs = _point(point, icao, float(start), source)
        except (ValueError, TypeError, IndexError, OverflowError) as exc:
            malformed += 1
            example = example or f"point {index}: {str(exc)[:160]}"
            continue
        points.append((when, index, obs))
        if flags & (STALE | NEW_LEG):
            obs.extra = {**(obs.extra or {}), "trace_flags": flags}
    points.sort(key=lambda p: (p[0], p[1]))  # readsb writes them in order; make sure
    observations = [obs for _, _, obs in points]
    if observations:
        first = observations[0]
        first.registration = _text(identity["r"]) or first.registration
        first.aircraft_type = _text(identity["t"]) or first.aircraft_type
    silences = {i for i, obs in enumerate(observations)
                if obs.extra is not None and "trace_flags" in obs.extra}
    return Trace(icao, observations, silences, malformed, example)


def _point(point: object, icao: str, start: float,
           source: str) -> tuple[float, int, Observation]:
    if not isinstance(point, list) or len(point) < 7:
        raise ValueError("a point has fewer than 7 fields")
    dt, lat, lon, alt, gs, track, flags = point[:7]
    vrate = point[7] if len(point) > 7 else None
    details = point[8] if len(point) > 8 else None
    if type(dt) not in _NUMBER or type(lat) not in _NUMBER or type(lon) not in _NUMBER:
        raise ValueError("time or position is not a number")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError("position out of range")
    flags = flags if type(flags) is int else 0
    when = start + dt
    if not start - 60.0 <= when <= start + _MAX_TRACE_S:
        raise ValueError(f"offset {dt!r} s: outside the trace's day")
    if isinstance(details, Mapping):
        entry = {k: v for k, v in details.items() if k not in _DROPPED_DETAILS}
        entry.update(hex=icao, lat=lat, lon=lon, alt_baro=alt, gs=gs, track=track,
                     baro_rate=vrate)
        entry.pop("geom_rate", None)
        obs = observation_from_aircraft(entry, when, source)
        if obs is None:  # cannot happen: the address was checked
            raise ValueError("non-ICAO address")
        return when, flags, obs
    on_ground: bool | None = None
    altitude: float | None = None
    if alt == "ground":
        on_ground = True
    elif type(alt) in _NUMBER:
        altitude, on_ground = float(alt), False
    return when, flags, Observation(
        icao=icao, time=utc_from_epoch(when), source=source, lat=float(lat), lon=float(lon),
        altitude_ft=check_range("altitude_ft", altitude),
        ground_speed_kt=_num("ground_speed_kt", gs), track_deg=_num("track_deg", track),
        vertical_rate_fpm=_num("vertical_rate_fpm", vrate), on_ground=on_ground,
    )


def _num(field: str, value: object) -> float | None:
    """A plausible number for ``field``, None when absent; Rejected when impossible."""
    if type(value) not in _NUMBER:
        return None
    return check_range(field, float(value))  # type: ignore[arg-type]


def _checked_text(key: str, value: object) -> str | None:
    """The trace's registration or type, dropped (not fatal) when it cannot be stored."""
    if not isinstance(value, str):
        return None
    try:
        return check_text(key, value)
    except Rejected:
        return None


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None
