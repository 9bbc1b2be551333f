"""Read-side queries: positions history by aircraft, registration, callsign and time.

SQL text on a :class:`db.reader.Reader` (an engine works too): see that module for why.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from flightwatch.db.encoding import COORDINATE_SCALE, TRACK_SCALE, flag, seconds
from flightwatch.db.reader import Reader, as_reader, where

if TYPE_CHECKING:
    from sqlalchemy import Engine


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


def _registration_key(column: str) -> str:
    return f"REPLACE(REPLACE(UPPER({column}), '-', ''), ' ', '')"


def icaos_for_registration(source: Reader | Engine, registration: str) -> list[str]:
    """Addresses known for a registration, from the watchlist and from aggregator data."""
    reader = as_reader(source)
    wanted = normalise_registration(registration)
    found: set[str] = set()
    for table in ("watchlist", "aircraft"):
        rows = reader.rows(f"SELECT icao FROM {table} WHERE {_registration_key('registration')}"
                           " = :wanted", {"wanted": wanted})
        found.update(row[0] for row in rows)
    return sorted(found)


@dataclass(frozen=True, slots=True)
class CallsignSpan:
    icao: str
    callsign: str
    first_seen: datetime
    last_seen: datetime


def callsign_spans(
    source: Reader | Engine,
    *,
    icaos: list[str] | None = None,
    callsign: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[CallsignSpan]:
    """Periods during which aircraft flew under a callsign (``*`` is a wildcard)."""
    conditions: list[str] = []
    params: dict[str, object] = {}
    if icaos is not None:
        conditions.append("icao IN (:icaos)")
        params["icaos"] = icaos
    if callsign is not None:
        pattern = callsign.strip().upper()
        if "*" in pattern:
            conditions.append("callsign LIKE :callsign")
            params["callsign"] = pattern.replace("*", "%")
        else:
            conditions.append("callsign = :callsign")
            params["callsign"] = pattern
    if since is not None:
        conditions.append("last_seen >= :since")
        params["since"] = seconds(since)
    if until is not None:
        conditions.append("first_seen <= :until")
        params["until"] = seconds(until)
    rows = as_reader(source).rows(
        f"SELECT icao, callsign, first_seen, last_seen FROM callsigns{where(conditions)}"
        " ORDER BY icao, first_seen", params)
    return [CallsignSpan(icao, name, datetime.fromtimestamp(first, UTC),
                         datetime.fromtimestamp(last, UTC)) for icao, name, first, last in rows]


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


def _unscaled(column: str, scale: int) -> str:
    """A ScaledInteger column's value as a float computed by the database."""
    return f"CAST(p.{column} AS FLOAT) / {float(scale)!r}"


def history(
    source: Reader | Engine,
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
    reader = as_reader(source)
    conditions: list[str] = []
    params: dict[str, object] = {}
    if icaos is not None:
        conditions.append("p.icao IN (:icaos)")
        params["icaos"] = [int(icao, 16) for icao in icaos]
    if since is not None:
        conditions.append("p.time >= :since")
        params["since"] = seconds(since)
    if until is not None:
        conditions.append("p.time <= :until")
        params["until"] = seconds(until)
    if bbox is not None:
        # Compared as stored (integers of 1e-5 degrees), as the bound values would be.
        conditions.append("p.lon BETWEEN :min_lon AND :max_lon")
        conditions.append("p.lat BETWEEN :min_lat AND :max_lat")
        params.update(zip(("min_lon", "min_lat", "max_lon", "max_lat"),
                          (round(value * COORDINATE_SCALE) for value in bbox), strict=True))
    spans = None
    flown: _CallsignIndex | None = None
    if callsign is not None:
        spans = callsign_spans(reader, icaos=icaos, callsign=callsign, since=since, until=until)
        if not spans:
            return
        # The aircraft and the overall window in SQL; each span exactly in Python (one
        # OR term per span overflows SQLite's expression depth past ~1,000 spans).
        conditions.append("p.icao IN (:flown)")
        params["flown"] = [int(icao, 16) for icao in sorted({s.icao for s in spans})]
        conditions.append("p.time >= :flown_since AND p.time <= :flown_until")
        params["flown_since"] = seconds(min(s.first_seen for s in spans))
        params["flown_until"] = seconds(max(s.last_seen for s in spans))
        flown = _CallsignIndex(spans)
    # The address comes raw (an integer, see db/types.py) and is converted once per
    # aircraft in the loop below, the scaled columns are divided by the database (IEEE
    # division, as Python's): a converter call per value cost more than the query.
    sql = (
        "SELECT p.icao, p.time, "
        f"{_unscaled('lat', COORDINATE_SCALE)}, {_unscaled('lon', COORDINATE_SCALE)}, "
        f"p.altitude_ft, p.ground_speed_kt, {_unscaled('track_deg', TRACK_SCALE)}, "
        "p.vertical_rate_fpm, p.on_ground, s.name "
        f"FROM positions p LEFT OUTER JOIN sources s ON s.id = p.source_id{where(conditions)}"
        " ORDER BY p.icao, p.time"
    )
    if spans is None:
        spans = callsign_spans(reader, icaos=icaos, since=since, until=until)
    names = _CallsignIndex(spans)
    callsign_at = names.at
    # Positional unpacking: attribute access on rows and keyword construction cost
    # more than the SQL itself on a long history.
    address = ""
    previous = -1
    utc = UTC
    from_seconds = datetime.fromtimestamp
    for number, stamp, lat, lon, alt, speed, track, rate, on_ground, name in reader.rows(
            sql, params, batch=batch):
        if number != previous:  # rows come by aircraft: one conversion per track
            address, previous = f"{number:06X}", number
        time = from_seconds(stamp, utc)
        if flown is not None and not flown.covers(address, time):
            continue
        yield HistoryRow(address, time, lat, lon, alt, speed, track, rate,
                         callsign_at(address, time), flag(on_ground), name)
