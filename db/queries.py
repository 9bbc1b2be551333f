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

from flightwatch.db.blocks import GROUND_VALUES
from flightwatch.db.encoding import COORDINATE_SCALE, TRACK_SCALE, seconds
from flightwatch.db.position_reader import tracks
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


def source_names(reader: Reader) -> dict[int, str]:
    """Source id -> name (a few rows: every receiver port and aggregator ever stored)."""
    return {int(i): name for i, name in reader.rows("SELECT id, name FROM sources")}


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
    geofence queries. ``batch`` is kept for callers; positions are read a stored
    chunk at a time (see :mod:`db.position_reader`).
    """
    reader = as_reader(source)
    numbers = None if icaos is None else [int(icao, 16) for icao in icaos]
    first = None if since is None else seconds(since)
    last = None if until is None else seconds(until)
    # Compared as stored (integers of 1e-5 degrees), as the bound values would be.
    box = None
    if bbox is not None:
        min_lon, min_lat, max_lon, max_lat = (round(v * COORDINATE_SCALE) for v in bbox)
        box = (min_lon, min_lat, max_lon, max_lat)
    spans = None
    flown: _CallsignIndex | None = None
    if callsign is not None:
        spans = callsign_spans(reader, icaos=icaos, callsign=callsign, since=since, until=until)
        if not spans:
            return
        # The aircraft and the overall window from the spans; each span exactly below.
        numbers = sorted({int(s.icao, 16) for s in spans})
        low = seconds(min(s.first_seen for s in spans))
        high = seconds(max(s.last_seen for s in spans))
        first = low if first is None else max(first, low)
        last = high if last is None else min(last, high)
        flown = _CallsignIndex(spans)
    if spans is None:
        spans = callsign_spans(reader, icaos=icaos, since=since, until=until)
    callsign_at = _CallsignIndex(spans).at
    names = source_names(reader)
    utc = UTC
    from_seconds = datetime.fromtimestamp
    coordinate, track_scale = float(COORDINATE_SCALE), float(TRACK_SCALE)
    for number, columns in tracks(reader, icaos=numbers, since=first, until=last,
                                  bbox=box):
        address = f"{number:06X}"
        # Positional unpacking and plain division (as SQL's CAST(x AS FLOAT) / scale
        # did): attribute access and keyword construction cost more than the decoding.
        for stamp, lat, lon, alt, speed, track, rate, ground, source_id in zip(
                *columns, strict=True):
            time = from_seconds(stamp, utc)
            if flown is not None and not flown.covers(address, time):
                continue
            yield HistoryRow(address, time, lat / coordinate, lon / coordinate, alt, speed,
                             None if track is None else track / track_scale, rate,
                             callsign_at(address, time), GROUND_VALUES[ground],
                             names.get(source_id))
