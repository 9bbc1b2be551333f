"""Reading flights: ``flightwatch flights`` and the web API. SQL text on a
:class:`db.reader.Reader` (an engine works too); :mod:`db.flights` cuts and writes them."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flightwatch.db.encoding import epoch, seconds
from flightwatch.db.evidence import parse_candidates
from flightwatch.db.reader import Reader, as_reader, where

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from flightwatch.db.airports import AirportIndex


@dataclass(frozen=True, slots=True)
class FlightRow:
    """One flight; the first ten fields are the ``flights`` output contract.

    ``turnaround_s``: seconds on the ground before this departure, from the same
    aircraft's previous flight's arrival at the airport this one departed from.
    """

    icao: str
    registration: str | None
    callsign: str | None
    departure_airport: str | None
    departure_time: datetime | None
    arrival_airport: str | None
    arrival_time: datetime | None
    first_seen: datetime
    last_seen: datetime
    max_altitude_ft: int | None
    positions: int
    geofence_seconds: tuple[str, ...]  # "belarus=1234": seconds inside each fence
    departure_evidence: str | None = None  # observed | inferred | probable | confirmed
    arrival_evidence: str | None = None
    turnaround_s: int | None = None
    departure_uncertainty_s: int | None = None  # plus or minus, of departure_time
    arrival_uncertainty_s: int | None = None
    departure_reason: str | None = None  # one quotable line: how the end is known
    arrival_reason: str | None = None
    departure_candidates: tuple[str, ...] = ()  # airports that fit alike (none named)
    arrival_candidates: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """Names the flight in track exports: ``157710-2024-05-01T09:40:00Z``."""
        return f"{self.icao}-{self.first_seen.isoformat().replace('+00:00', 'Z')}"


_IN_CHUNK = 500  # addresses per IN (...) list
_TIMES = ("first_seen", "last_seen", "departure_time", "arrival_time")  # EpochSeconds
_COLUMNS = (
    "icao", "callsign", "departure_airport", "departure_time", "arrival_airport",
    "arrival_time", "first_seen", "last_seen", "max_altitude_ft", "positions",
    "departure_evidence", "arrival_evidence", "departure_uncertainty_s",
    "arrival_uncertainty_s", "departure_reason", "arrival_reason", "departure_candidates",
    "arrival_candidates",
)
# The registration the flight was seen with, else the watchlist's, else an aggregator's.
_REGISTRATION = (
    "COALESCE(f.registration,"
    " (SELECT w.registration FROM watchlist w WHERE w.icao = f.icao),"
    " (SELECT a.registration FROM aircraft a WHERE a.icao = f.icao))"
)


def query_flights(
    source: Reader | Engine,
    *,
    icaos: Sequence[str] | None = None,
    callsign: str | None = None,
    airport: str | None = None,
    watched: bool = False,
    geofence: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[FlightRow]:
    """Flights, oldest first.

    With ``airport``: flights that departed from or arrived at it, that departure or
    arrival between ``since`` and ``until``. Without: flights in the air (or seen)
    at some time between them. ``callsign`` takes ``*`` as a wildcard;
    ``watched`` keeps aircraft on the watchlist; ``geofence`` keeps flights that
    spent time inside that fence.
    """
    reader = as_reader(source)
    conditions: list[str] = []
    params: dict[str, Any] = {}
    if icaos is not None:
        conditions.append("f.icao IN (:icaos)")
        params["icaos"] = list(icaos)
    if callsign is not None:
        pattern = callsign.strip().upper()
        conditions.append("f.callsign LIKE :callsign" if "*" in pattern
                          else "f.callsign = :callsign")
        params["callsign"] = pattern.replace("*", "%")
    if since is not None:
        params["since"] = seconds(since)
    if until is not None:
        params["until"] = seconds(until)
    if airport is not None:
        params["airport"] = airport.strip().upper()
        params["among"] = f"% {params['airport']} %"
        conditions.append(f"(({_at_airport('departure', since, until)})"
                          f" OR ({_at_airport('arrival', since, until)}))")
    else:
        if since is not None:
            conditions.append("f.last_seen >= :since")
        if until is not None:
            conditions.append("f.first_seen <= :until")
    if watched:
        conditions.append("f.icao IN (SELECT icao FROM watchlist)")
    if geofence is not None:
        conditions.append(
            "EXISTS (SELECT 1 FROM flight_geofences inside WHERE inside.icao = f.icao"
            " AND inside.first_seen = f.first_seen AND inside.geofence = :geofence)")
        params["geofence"] = geofence
    # No ORDER BY: it would tempt SQLite to walk the first_seen index instead of using
    # the one the filters need; the rows are sorted here instead.
    sql = (f"SELECT {', '.join(f'f.{c}' for c in _COLUMNS)}, {_REGISTRATION}"
           f" FROM flights f{where(conditions)}")
    rows = []
    for row in reader.rows(sql, params):
        values = dict(zip(_COLUMNS, row, strict=False))
        for name in _TIMES:
            values[name] = epoch(values[name])
        for name in ("departure_candidates", "arrival_candidates"):
            values[name] = parse_candidates(values[name])
        values["registration"] = row[-1]
        rows.append(values)
    rows.sort(key=lambda r: (r["first_seen"], r["icao"]))
    fence_times = _fence_times(reader, rows) if rows else {}
    turnarounds = _turnarounds(reader, rows)
    return [
        FlightRow(**r, geofence_seconds=fence_times.get((r["icao"], r["first_seen"]), ()),
                  turnaround_s=turnarounds.get((r["icao"], r["first_seen"])))
        for r in rows
    ]


def _at_airport(event: str, since: datetime | None, until: datetime | None) -> str:
    """Departed from (``event`` departure) or arrived at the airport, in the window; or,
    where several airports fit alike and none is named, the airport is one of them.
    Both branches walk the (airport, time) index: NULL is a key like any other."""
    window = [f"f.{event}_time IS NOT NULL"]
    if since is not None:
        window.append(f"f.{event}_time >= :since")
    if until is not None:
        window.append(f"f.{event}_time <= :until")
    named = " AND ".join([f"f.{event}_airport = :airport", *window])
    alike = " AND ".join([f"f.{event}_airport IS NULL", *window,
                          f"' ' || f.{event}_candidates || ' ' LIKE :among"])
    return f"({named}) OR ({alike})"


def _chunks(icaos: list[str]) -> list[list[str]]:
    return [icaos[start:start + _IN_CHUNK] for start in range(0, len(icaos), _IN_CHUNK)]


def _fence_times(reader: Reader, rows: Sequence[dict[str, Any]]) -> dict[tuple[str, datetime],
                                                                          tuple[str, ...]]:
    """``name=seconds`` per flight, looked up by the flights' own keys (by the primary
    key's ``icao`` prefix; re-running the flight filters as a join was 40x slower)."""
    wanted = {(r["icao"], r["first_seen"]) for r in rows}
    out: dict[tuple[str, datetime], list[str]] = {}
    for chunk in _chunks(sorted({icao for icao, _first in wanted})):
        found = reader.rows("SELECT icao, first_seen, geofence, seconds FROM flight_geofences"
                            " WHERE icao IN (:icaos)", {"icaos": chunk})
        for icao, first_seen, fence, inside_s in found:
            key = (icao, epoch(first_seen))
            if key in wanted:
                out.setdefault(key, []).append(f"{fence}={inside_s}")
    return {k: tuple(sorted(v)) for k, v in out.items()}


def _turnarounds(reader: Reader, rows: Sequence[dict[str, Any]]) -> dict[tuple[str, datetime],
                                                                         int]:
    """Seconds on the ground before each departure that follows an arrival at the same
    airport; the previous flights are read by the primary key's ``icao`` prefix."""
    departing = [r for r in rows if r["departure_airport"] and r["departure_time"] is not None]
    if not departing:
        return {}
    latest = seconds(max(r["first_seen"] for r in departing))
    history: dict[str, list[tuple[datetime, str | None, datetime | None]]] = {}
    for chunk in _chunks(sorted({r["icao"] for r in departing})):
        found = reader.rows(
            "SELECT icao, first_seen, arrival_airport, arrival_time FROM flights"
            " WHERE icao IN (:icaos) AND first_seen < :latest", {"icaos": chunk, "latest": latest})
        for icao, first_seen, arrival_airport, arrival_time in found:
            history.setdefault(icao, []).append(
                (epoch(first_seen), arrival_airport, epoch(arrival_time)))
    for past in history.values():
        past.sort(key=lambda h: h[0])
    starts = {icao: [h[0] for h in past] for icao, past in history.items()}
    out: dict[tuple[str, datetime], int] = {}
    for r in departing:
        index = bisect_left(starts.get(r["icao"], []), r["first_seen"])
        if index == 0:
            continue
        _first, arrival_airport, arrival_time = history[r["icao"]][index - 1]
        if (arrival_airport == r["departure_airport"] and arrival_time is not None
                and arrival_time <= r["departure_time"]):
            out[(r["icao"], r["first_seen"])] = round(
                (r["departure_time"] - arrival_time).total_seconds())
    return out


def airport_known(source: Reader | Engine, code: str,
                  bundled: AirportIndex | None = None) -> bool:
    """Whether the airports table (configured and imported airports) or the ``bundled``
    index (the world set the product ships, and configured files) knows this ICAO code
    or ident."""
    wanted = code.strip().upper()
    if as_reader(source).scalar(
        "SELECT ident FROM airports WHERE icao = :code OR ident = :code LIMIT 1",
        {"code": wanted},
    ) is not None:
        return True
    return bundled is not None and bundled.get(wanted) is not None
