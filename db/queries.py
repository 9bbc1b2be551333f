"""Read-side queries: positions history by aircraft, registration, callsign and time."""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Float, Integer, cast, func, select, type_coerce

from flightwatch.db.models import Aircraft, CallsignPeriod, Position, Source, WatchlistEntry
from flightwatch.db.types import COORDINATE_SCALE, TRACK_SCALE


@dataclass(slots=True)
class HistoryRow:
    """One stored position; field names are the ``history`` output contract."""

    icao: str
    time: datetime
    lat: float
    lon: float
    altitude_ft: int | None
    ground_speed_kt: int | None
    track_deg: float | None
    vertical_rate_fpm: int | None
    callsign: str | None
    on_ground: bool | None
    source: str | None


def normalise_registration(registration: str) -> str:
    """RA-96016, ra96016 and 'RA 96016' all compare equal."""
    return "".join(ch for ch in registration.upper() if ch.isalnum())


def _registration_key(column: Any) -> Any:
    return func.replace(func.replace(func.upper(column), "-", ""), " ", "")


def icaos_for_registration(engine: Engine, registration: str) -> list[str]:
    """Addresses known for a registration, from the watchlist and from aggregator data."""
    wanted = normalise_registration(registration)
    found: set[str] = set()
    with engine.connect() as conn:
        for model in (WatchlistEntry, Aircraft):
            rows = conn.execute(
                select(model.icao).where(_registration_key(model.registration) == wanted)
            )
            found.update(row[0] for row in rows)
    return sorted(found)


@dataclass(frozen=True, slots=True)
class CallsignSpan:
    icao: str
    callsign: str
    first_seen: datetime
    last_seen: datetime


def callsign_spans(
    engine: Engine,
    *,
    icaos: list[str] | None = None,
    callsign: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[CallsignSpan]:
    """Periods during which aircraft flew under a callsign (``*`` is a wildcard)."""
    query = select(CallsignPeriod)
    if icaos is not None:
        query = query.where(CallsignPeriod.icao.in_(icaos))
    if callsign is not None:
        pattern = callsign.strip().upper()
        if "*" in pattern:
            query = query.where(CallsignPeriod.callsign.like(pattern.replace("*", "%")))
        else:
            query = query.where(CallsignPeriod.callsign == pattern)
    if since is not None:
        query = query.where(CallsignPeriod.last_seen >= since)
    if until is not None:
        query = query.where(CallsignPeriod.first_seen <= until)
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(CallsignPeriod.icao, CallsignPeriod.first_seen))
        return [CallsignSpan(r.icao, r.callsign, r.first_seen, r.last_seen) for r in rows]


class _CallsignIndex:
    """Looks up the callsign an aircraft used at a moment, from its spans."""

    def __init__(self, spans: list[CallsignSpan]) -> None:
        self._starts: dict[str, list[datetime]] = defaultdict(list)
        self._names: dict[str, list[str]] = defaultdict(list)
        self._ends: dict[str, list[datetime]] = defaultdict(list)
        for span in spans:
            self._starts[span.icao].append(span.first_seen)
            self._names[span.icao].append(span.callsign)
            self._ends[span.icao].append(span.last_seen)

    def covers(self, icao: str, when: datetime) -> bool:
        """Whether ``when`` falls inside one of the aircraft's spans."""
        starts = self._starts.get(icao)
        if not starts:
            return False
        i = bisect.bisect_right(starts, when) - 1
        return i >= 0 and when <= self._ends[icao][i]

    def at(self, icao: str, when: datetime) -> str | None:
        starts = self._starts.get(icao)
        if not starts:
            return None
        i = bisect.bisect_right(starts, when) - 1
        return self._names[icao][i] if i >= 0 else None


def _unscaled(column: Any, scale: int) -> Any:
    """A ScaledInteger column's value as a float computed by the database."""
    return (cast(type_coerce(column, Integer), Float) / float(scale)).label(column.key)


def history(
    engine: Engine,
    *,
    icaos: list[str] | None = None,
    callsign: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    batch: int = 5000,
) -> Iterator[HistoryRow]:
    """Stored positions ordered by aircraft then time, streamed (history can be large).

    ``bbox`` is (min_lon, min_lat, max_lon, max_lat), a cheap pre-filter for
    geofence queries.
    """
    conditions: list[Any] = []
    if icaos is not None:
        conditions.append(Position.icao.in_(icaos))
    if since is not None:
        conditions.append(Position.time >= since)
    if until is not None:
        conditions.append(Position.time <= until)
    if bbox is not None:
        min_lon, min_lat, max_lon, max_lat = bbox
        conditions.append(Position.lon.between(min_lon, max_lon))
        conditions.append(Position.lat.between(min_lat, max_lat))
    spans = None
    flown: _CallsignIndex | None = None
    if callsign is not None:
        spans = callsign_spans(engine, icaos=icaos, callsign=callsign, since=since, until=until)
        if not spans:
            return
        # The aircraft and the overall window in SQL; each span exactly in Python (one
        # OR term per span overflows SQLite's expression depth past ~1,000 spans).
        conditions.append(Position.icao.in_(sorted({s.icao for s in spans})))
        conditions.append(Position.time >= min(s.first_seen for s in spans))
        conditions.append(Position.time <= max(s.last_seen for s in spans))
        flown = _CallsignIndex(spans)
    # The address comes raw (an integer, see db/types.py) and is converted once per
    # aircraft in the loop below, the scaled columns are divided by the database (IEEE
    # division, as Python's): a converter call per value cost more than the query.
    query = (
        select(
            type_coerce(Position.icao, Integer), Position.time,
            _unscaled(Position.lat, COORDINATE_SCALE), _unscaled(Position.lon, COORDINATE_SCALE),
            Position.altitude_ft, Position.ground_speed_kt,
            _unscaled(Position.track_deg, TRACK_SCALE), Position.vertical_rate_fpm,
            Position.on_ground, Source.name,
        )
        .outerjoin(Source, Source.id == Position.source_id)
        .where(*conditions)
        .order_by(Position.icao, Position.time)
    )
    if spans is None:
        spans = callsign_spans(engine, icaos=icaos, since=since, until=until)
    names = _CallsignIndex(spans)
    with engine.connect() as conn:
        result = conn.execution_options(yield_per=batch).execute(query)
        callsign_at = names.at
        # Positional unpacking: attribute access on rows and keyword construction cost
        # more than the SQL itself on a long history.
        address = ""
        previous = -1
        for number, time, lat, lon, alt, speed, track, rate, on_ground, source in result:
            if number != previous:  # rows come by aircraft: one conversion per track
                address, previous = f"{number:06X}", number
            if flown is not None and not flown.covers(address, time):
                continue
            yield HistoryRow(address, time, lat, lon, alt, speed, track, rate,
                             callsign_at(address, time), on_ground, source)
