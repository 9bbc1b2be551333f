"""Flights: each aircraft's stored positions cut into flights as they arrive (read back by
:mod:`db.flight_queries`).

Segmentation, per aircraft, on the observation clock (so a replay cuts the same
flights as the live run did):

- A **gap** longer than ``gap_s`` (30 min) without a position ends the flight;
  the next airborne position starts a new one.
- **On the ground** means surface messages (``on_ground``), or low and slow near an
  airport: below ``landed_below_ft`` above the field, slower than
  ``landed_slower_kt``, within ``airport_radius_km`` (aggregators without a ground
  flag, and transponders that never switch to surface messages). A change of
  ground state counts once it held for ``confirm_positions`` positions; its time
  is the first of them.
- **Landing** (air -> ground) sets the arrival airport and time. The flight keeps
  the roll-out, taxi and parked positions that follow (``last_seen`` grows) until
  the aircraft takes off again or goes silent for ``gap_s``.
- **Takeoff** (ground -> air) starts a new flight: ``departure_time`` is the first
  airborne position and the departure airport the one it stood on. Ground
  positions with no flight before them (first seen parked) start no flight.
- A flight first seen airborne and **climbing below** ``landed_below_ft`` near an
  airport (or on a runway's climb-out) departed from it (the takeoff itself was
  not heard): departure airport set, ``departure_time`` is ``first_seen``,
  ``departure_evidence`` ``inferred`` (see :mod:`db.landing`).
- An airborne aircraft whose track is **lost** (``lost``) low on a runway's approach
  landed there: arrival airport and estimated time, ``arrival_evidence``
  ``inferred``. If it is heard again climbing out within the gap, that is a takeoff
  from the same airport, ``inferred`` too (nobody heard it on the ground); heard again
  descending or level, it had only dropped below coverage: the arrival is undone.
- **Time inside a geofence** adds up the intervals between consecutive positions
  of the flight that are both inside.

A flight is keyed by ``(icao, first_seen)`` and written with absolute values, so a
retried batch or a replay of the same capture updates rows instead of adding
copies. The segmenter writes in batches (``flush``), never per position. An
aircraft it has no memory of (after a restart) resumes its latest flight from the
database when that flight is recent enough.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, Table, bindparam, select
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from flightwatch.db.airports import Airport, AirportIndex, on_the_ground
from flightwatch.db.failures import FailureStreak
from flightwatch.db.landing import (
    INFERRED,
    OBSERVED,
    inferred_arrival,
    inferred_departure,
    not_climbing,
)
from flightwatch.db.models import (
    AirportRecord,
    FlightGeofence,
    FlightRecord,
)
from flightwatch.db.store import dialect_insert
from flightwatch.decoder.tracker import Position

log = logging.getLogger(__name__)

_FLIGHTS: Table = FlightRecord.__table__  # type: ignore[assignment]
_FENCES: Table = FlightGeofence.__table__  # type: ignore[assignment]
_AIRPORTS: Table = AirportRecord.__table__  # type: ignore[assignment]
_SWEEP_EVERY = timedelta(minutes=1)
#: A flight's growing figures (last seen, positions, highest altitude, time inside
#: fences) are written for every flight at once this often, not at each commit: a
#: round rewrites the pages of all flights in the air, each commit would rewrite them
#: again. A flight that starts, lands, takes off or changes callsign is written at the
#: next commit, as is everything when the writer is flushed (a replay, an import, a stop).
COUNTERS_EVERY_S = 600.0
_DEPARTURE_WINDOW = timedelta(minutes=1)


class FenceLike(Protocol):
    """A named area (``alerts.geofence.Geofence``)."""

    name: str

    def contains(self, lat: float, lon: float) -> bool: ...


def _whole_second(p: Position) -> Position:
    """``p`` at the start of its second (built directly: ``dataclasses.replace`` was a
    tenth of an import's time, whose trace points carry fractions of a second)."""
    return Position(p.icao, p.time.replace(microsecond=0), p.lat, p.lon, p.altitude_ft,
                    p.ground_speed_kt, p.track_deg, p.vertical_rate_fpm, p.on_ground,
                    p.callsign, p.source)


@dataclass(frozen=True, slots=True)
class FlightRules:
    """Segmentation tuning; the airport thresholds mean what ``[alerts]``'s keys mean."""

    gap_s: float = 30 * 60.0
    airport_radius_km: float = 5.0
    landed_below_ft: float = 1500.0  # above field elevation
    landed_slower_kt: float = 80.0
    confirm_positions: int = 2
    inferred_below_ft: float = 700.0  # above field elevation
    approach_km: float = 10.0
    approach_deg: float = 20.0
    approach_slower_kt: float = 200.0


@dataclass(slots=True)
class _FenceTime:
    seconds: float
    first_inside: datetime
    last_inside: datetime


@dataclass(slots=True, eq=False)
class _Flight:
    icao: str
    first_seen: datetime
    last_seen: datetime
    callsign: str | None = None
    registration: str | None = None
    departure_airport: str | None = None
    departure_time: datetime | None = None
    arrival_airport: str | None = None
    arrival_time: datetime | None = None
    departure_evidence: str | None = None  # observed | inferred
    arrival_evidence: str | None = None
    max_altitude_ft: float | None = None
    positions: int = 0
    fences: dict[str, _FenceTime] = field(default_factory=dict)
    inside: frozenset[str] = frozenset()  # fences the last position was in
    dirty: bool = True
    stored: tuple[Any, ...] | None = None  # ``identity()`` as last written; None: never

    def identity(self) -> tuple[Any, ...]:
        """What a flight is (callsign, airports, times, evidence): written at once when it
        changes. The rest (last seen, positions, altitude, time inside fences) grows with
        every position and is written in rounds."""
        return (self.callsign, self.registration, self.departure_airport,
                self.departure_time, self.arrival_airport, self.arrival_time,
                self.departure_evidence, self.arrival_evidence)

    def counters(self) -> dict[str, Any]:
        return {"b_icao": self.icao, "b_first_seen": self.first_seen,
                "last_seen": self.last_seen, "positions": self.positions,
                "max_altitude_ft": None if self.max_altitude_ft is None
                else round(self.max_altitude_ft)}

    def row(self) -> dict[str, Any]:
        return {
            "icao": self.icao, "first_seen": self.first_seen, "last_seen": self.last_seen,
            "callsign": self.callsign, "registration": self.registration,
            "departure_airport": self.departure_airport, "departure_time": self.departure_time,
            "arrival_airport": self.arrival_airport, "arrival_time": self.arrival_time,
            "departure_evidence": self.departure_evidence,
            "arrival_evidence": self.arrival_evidence,
            "max_altitude_ft": None if self.max_altitude_ft is None
            else round(self.max_altitude_ft),
            "positions": self.positions,
        }


@dataclass(slots=True, eq=False)
class _Aircraft:
    """The segmenter's memory of one aircraft."""

    flight: _Flight | None = None
    last_time: datetime | None = None
    ground: bool | None = None  # settled ground state; None: not judged since a gap
    ground_inferred: bool = False  # ``ground`` comes from a landing inferred at a loss
    ground_airport: Airport | None = None  # where it stands (or last stood)
    pending: list[tuple[Position, bool, Airport | None]] = field(default_factory=list)


class FlightSegmenter:
    """Cuts stored positions into flights and keeps the ``flights`` table up to date.

    Feed it every stored position (``add``) in time order per aircraft; call
    ``maybe_flush`` often and ``flush`` at the end. Not thread-safe: the
    pipeline's thread owns it.
    """

    def __init__(
        self,
        engine: Engine,
        airports: AirportIndex,
        fences: Sequence[FenceLike] = (),
        rules: FlightRules | None = None,
        *,
        batch_seconds: float = 5.0,
        batch_flights: int = 500,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.airports = airports
        self.fences = list(fences)
        self.rules = rules or FlightRules()
        self.batch_seconds = batch_seconds
        self.batch_flights = batch_flights
        self._clock = clock
        self._last_write = clock()
        self._next_counters = self._last_write + COUNTERS_EVERY_S
        self._gap = timedelta(seconds=self.rules.gap_s)
        self._aircraft: dict[str, _Aircraft] = {}
        self._dirty: dict[tuple[str, datetime], _Flight] = {}
        self._next_sweep: datetime | None = None
        self._resumable_since: datetime | None = None
        self._resumable_icaos: set[str] = set()
        self._forget: set[str] = set()
        self._writes = FailureStreak(log, "flights: database writes recovered")

    # --- segmentation -----------------------------------------------------------------

    def add(self, position: Position, registration: str | None = None) -> None:
        """One stored position of one aircraft."""
        if position.time.microsecond:
            # Whole seconds, as the positions table keeps them (a second position in the
            # same second is not stored), so a resumed flight skips exactly what it counted.
            position = _whole_second(position)
        icao, now = position.icao, position.time
        aircraft = self._aircraft.get(icao)
        if aircraft is None:
            aircraft = self._resume(icao, now)
            self._aircraft[icao] = aircraft
        if aircraft.last_time is not None:
            if now <= aircraft.last_time:
                return  # late or repeated (a second source, a replay of stored data)
            if now - aircraft.last_time > self._gap:
                self._end_flight(aircraft)
                aircraft.ground, aircraft.ground_airport = None, None
                aircraft.ground_inferred = False
                aircraft.pending.clear()
        aircraft.last_time = now
        down, airport = on_the_ground(position, self.airports, self.rules)
        if aircraft.ground_inferred and not down and not_climbing(position):
            self._reacquired(aircraft)
        if aircraft.ground is None:  # first judgement: nothing to confirm against
            aircraft.ground = down
            aircraft.ground_airport = airport if down else None
            if not down:
                departed = inferred_departure(position, self.airports, self.rules)
                flight = self._start_flight(aircraft, position, departed,
                                            now if departed else None)
                flight.departure_evidence = INFERRED if departed else None
            self._assign(aircraft, position, registration)
        elif down == aircraft.ground:
            for held, _, _ in aircraft.pending:  # a blip: the held positions were not a change
                self._assign(aircraft, held, registration)
            aircraft.pending.clear()
            if down and airport is not None:
                aircraft.ground_airport = airport
            if not down:
                self._maybe_departed(aircraft, position)
            self._assign(aircraft, position, registration)
        else:
            aircraft.pending.append((position, down, airport))
            if len(aircraft.pending) >= self.rules.confirm_positions:
                self._change(aircraft, registration)
        self._sweep(now)

    def _change(self, aircraft: _Aircraft, registration: str | None) -> None:
        """The held positions confirmed a change of ground state: takeoff or landing."""
        held = aircraft.pending
        first, down, airport = held[0]
        aircraft.pending = []
        aircraft.ground = down
        if down:  # landing
            flight = aircraft.flight
            if flight is None:  # not airborne in a flight we know of (resumed, odd data)
                flight = self._start_flight(aircraft, first, None, None)
            touchdown = airport or next((a for _, _, a in held if a is not None), None)
            flight.arrival_airport = touchdown.code if touchdown else None
            flight.arrival_time = first.time
            flight.arrival_evidence = OBSERVED
            aircraft.ground_airport = touchdown
        else:  # takeoff
            self._end_flight(aircraft)
            origin = aircraft.ground_airport or self.airports.nearest(
                first.lat, first.lon, self.rules.airport_radius_km
            )
            flight = self._start_flight(aircraft, first, origin, first.time)
            flight.departure_evidence = INFERRED if aircraft.ground_inferred else OBSERVED
            aircraft.ground_airport = None
        aircraft.ground_inferred = False
        for position, _, _ in held:
            self._assign(aircraft, position, registration)

    def _maybe_departed(self, aircraft: _Aircraft, position: Position) -> None:
        """A flight's first positions may come before its first velocity message (no
        vertical rate yet): a climb-out is looked for during its first minute."""
        flight = aircraft.flight
        if (flight is None or flight.departure_time is not None
                or flight.arrival_time is not None
                or position.time - flight.first_seen > _DEPARTURE_WINDOW):
            return
        departed = inferred_departure(position, self.airports, self.rules)
        if departed is not None:
            flight.departure_airport, flight.departure_time = departed.code, flight.first_seen
            flight.departure_evidence = INFERRED

    def _reacquired(self, aircraft: _Aircraft) -> None:
        """Heard again, airborne and not climbing, after a landing inferred at its loss: it
        had only dropped below coverage on the approach. The flight goes on."""
        flight = aircraft.flight
        if flight is not None:
            flight.arrival_airport, flight.arrival_time, flight.arrival_evidence = None, None, None
            flight.dirty = True
            self._dirty[(flight.icao, flight.first_seen)] = flight
        aircraft.ground, aircraft.ground_inferred, aircraft.ground_airport = False, False, None

    def lost(self, position: Position | None) -> None:
        """The tracker lost the aircraft whose latest position this is: if it was on a
        runway's approach, it landed there (``inferred``)."""
        if position is None:
            return
        aircraft = self._aircraft.get(position.icao)
        if aircraft is None or aircraft.ground is not False or aircraft.flight is None:
            return
        arrival = inferred_arrival(position, self.airports, self.rules)
        if arrival is None:
            return
        flight = aircraft.flight
        flight.arrival_airport = arrival.airport.code
        flight.arrival_time = arrival.time.replace(microsecond=0)
        flight.arrival_evidence = INFERRED
        flight.dirty = True
        self._dirty[(flight.icao, flight.first_seen)] = flight
        aircraft.ground, aircraft.ground_inferred = True, True
        aircraft.ground_airport = arrival.airport
        aircraft.pending.clear()

    def _start_flight(
        self,
        aircraft: _Aircraft,
        position: Position,
        departure: Airport | None,
        departure_time: datetime | None,
    ) -> _Flight:
        flight = _Flight(
            icao=position.icao, first_seen=position.time, last_seen=position.time,
            departure_airport=departure.code if departure else None,
            departure_time=departure_time,
        )
        aircraft.flight = flight
        return flight

    def _end_flight(self, aircraft: _Aircraft) -> None:
        aircraft.flight = None

    def _assign(self, aircraft: _Aircraft, position: Position, registration: str | None) -> None:
        """Add a position to the aircraft's current flight (none when it stands on the ground
        without having been seen to land)."""
        flight = aircraft.flight
        if flight is None:
            return
        previous = flight.last_seen
        flight.last_seen = position.time
        flight.positions += 1
        if position.callsign and flight.arrival_time is None:
            # The latest airborne one: a crew may set the new callsign only after takeoff.
            flight.callsign = position.callsign
        if registration and flight.registration is None:
            flight.registration = registration
        altitude = position.altitude_ft
        if altitude is not None and (flight.max_altitude_ft is None
                                     or altitude > flight.max_altitude_ft):
            flight.max_altitude_ft = altitude
        if self.fences:
            inside = frozenset(
                f.name for f in self.fences if f.contains(position.lat, position.lon)
            )
            for name in inside:
                spent = flight.fences.get(name)
                if spent is None:
                    flight.fences[name] = _FenceTime(0.0, position.time, position.time)
                    continue
                if name in flight.inside:
                    spent.seconds += (position.time - previous).total_seconds()
                spent.last_inside = position.time
            flight.inside = inside
        flight.dirty = True
        self._dirty[(flight.icao, flight.first_seen)] = flight

    def _sweep(self, now: datetime) -> None:
        """Forget aircraft silent for longer than the gap whose flight is written."""
        if self._next_sweep is not None and now < self._next_sweep:
            return
        self._next_sweep = now + _SWEEP_EVERY
        cutoff = now - self._gap
        stale = [
            icao for icao, a in self._aircraft.items()
            if a.last_time is not None and a.last_time < cutoff
            and (a.flight is None or not a.flight.dirty)
        ]
        for icao in stale:
            del self._aircraft[icao]

    def _resume(self, icao: str, now: datetime) -> _Aircraft:
        """Memory of an aircraft from its latest stored flight, if that flight could go on."""
        aircraft = _Aircraft()
        try:
            if icao not in self._resumable(now):
                return aircraft
            return self._resume_from_database(aircraft, icao, now)
        except SQLAlchemyError as exc:  # the database is down: start afresh, keep decoding
            log.warning("flights: cannot read %s's last flight (%s); starting a new one",
                        icao, exc.__class__.__name__)
            return aircraft

    def _resumable(self, now: datetime) -> set[str]:
        """Aircraft whose stored flight may go on at ``now``: one query, not one per aircraft.

        Flights this segmenter wrote stay in memory until they are older than the gap,
        so only flights stored before it started (a restart) can be resumed from the
        database; they are loaded once, again only if the clock goes back (a replay of
        older data).
        """
        earliest = now - self._gap
        if self._resumable_since is None or earliest < self._resumable_since:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    select(_FLIGHTS.c.icao).where(_FLIGHTS.c.last_seen >= earliest).distinct()
                )
                self._resumable_icaos = {row.icao for row in rows}
            self._resumable_since = earliest
        return self._resumable_icaos

    def _resume_from_database(self, aircraft: _Aircraft, icao: str, now: datetime) -> _Aircraft:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(_FLIGHTS)
                .where(_FLIGHTS.c.icao == icao, _FLIGHTS.c.first_seen <= now)
                .order_by(_FLIGHTS.c.first_seen.desc())
                .limit(1)
            ).first()
            if row is None or now - row.last_seen > self._gap:
                return aircraft
            fences = conn.execute(
                select(_FENCES).where(
                    _FENCES.c.icao == icao, _FENCES.c.first_seen == row.first_seen
                )
            ).all()
        flight = _Flight(
            icao=icao, first_seen=row.first_seen, last_seen=row.last_seen,
            callsign=row.callsign, registration=row.registration,
            departure_airport=row.departure_airport, departure_time=row.departure_time,
            arrival_airport=row.arrival_airport, arrival_time=row.arrival_time,
            departure_evidence=row.departure_evidence, arrival_evidence=row.arrival_evidence,
            max_altitude_ft=row.max_altitude_ft, positions=row.positions,
            fences={f.geofence: _FenceTime(f.seconds, f.first_inside, f.last_inside)
                    for f in fences},
            dirty=False,
        )
        flight.stored = flight.identity()
        aircraft.flight = flight
        aircraft.last_time = row.last_seen
        aircraft.ground = row.arrival_time is not None
        aircraft.ground_inferred = row.arrival_evidence == INFERRED
        if aircraft.ground and row.arrival_airport:
            aircraft.ground_airport = self.airports.get(row.arrival_airport)
        return aircraft

    # --- batched writes ---------------------------------------------------------------

    @property
    def pending(self) -> int:
        return len(self._dirty)

    def write(self, conn: Connection, *, every: bool = True) -> tuple[list[_Flight], bool]:
        """Write the changed flights and their geofence times (inside a transaction): all of
        them (``every``), else those whose identity changed, and the rest's figures when
        their round is due. The flights written, and whether that was a round."""
        if not self._dirty:
            return [], every
        flights = [self._dirty[key] for key in sorted(self._dirty)]
        changed = [f for f in flights if f.stored != f.identity()]
        round_due = every or self._clock() >= self._next_counters
        counted = [f for f in flights if f.stored == f.identity()] if round_due else []
        if changed:
            stmt = dialect_insert(self.engine, _FLIGHTS)
            keys = ("icao", "first_seen")
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[_FLIGHTS.c[k] for k in keys],
                    set_={c.name: stmt.excluded[c.name] for c in _FLIGHTS.c
                          if c.name not in keys},
                ),
                [f.row() for f in changed],
            )
        if counted:
            table = _FLIGHTS.c
            conn.execute(
                _FLIGHTS.update()
                .where(table.icao == bindparam("b_icao"),
                       table.first_seen == bindparam("b_first_seen"))
                .values(last_seen=bindparam("last_seen"), positions=bindparam("positions"),
                        max_altitude_ft=bindparam("max_altitude_ft")),
                [f.counters() for f in counted])
        written = changed + counted
        fence_rows = [
            {"icao": f.icao, "first_seen": f.first_seen, "geofence": name,
             "seconds": round(t.seconds), "first_inside": t.first_inside,
             "last_inside": t.last_inside}
            for f in sorted(written, key=lambda f: (f.icao, f.first_seen))
            for name, t in sorted(f.fences.items())
        ]
        if fence_rows:
            fstmt = dialect_insert(self.engine, _FENCES)
            conn.execute(
                fstmt.on_conflict_do_update(
                    index_elements=[_FENCES.c.icao, _FENCES.c.first_seen, _FENCES.c.geofence],
                    set_={k: fstmt.excluded[k] for k in ("seconds", "first_inside",
                                                         "last_inside")},
                ),
                fence_rows,
            )
        return written, round_due

    def forget(self, icao: str) -> None:
        """Drop the memory of an aircraft whose track ended for good (an import's finished
        trace) once its flight is written; a later position resumes it from the database.
        Keeps an import of a day's traces, one aircraft after another, in bounded memory."""
        self._forget.add(icao)

    def written(self, flights: Sequence[_Flight], round_done: bool) -> None:
        """The transaction that wrote ``flights`` committed (``round_done``: the figures of
        every flight in the air with them)."""
        for flight in flights:
            flight.dirty = False
            flight.stored = flight.identity()
            self._dirty.pop((flight.icao, flight.first_seen), None)
        for icao in list(self._forget):
            aircraft = self._aircraft.get(icao)
            if aircraft is None or aircraft.flight is None or not aircraft.flight.dirty:
                self._forget.discard(icao)
                if self._aircraft.pop(icao, None) is not None:
                    self._resumable_icaos.add(icao)
        self._last_write = self._clock()
        if round_done:
            self._next_counters = self._last_write + COUNTERS_EVERY_S

    def due(self) -> bool:
        if len(self._dirty) >= self.batch_flights:
            return True
        return bool(self._dirty) and self._clock() - self._last_write >= self.batch_seconds

    def maybe_flush(self) -> None:
        if self.due():
            self._flush(every=False)

    def flush(self) -> bool:
        """Write every changed flight in one transaction; False (and keep them) on failure."""
        return self._flush(every=True)

    def _flush(self, *, every: bool) -> bool:
        if not self._dirty:
            self.written([], every)  # nothing to write: forgotten aircraft can go now
            return True
        try:
            with self.engine.begin() as conn:
                flights, round_done = self.write(conn, every=every)
        except OperationalError as exc:  # a locked database: keep the rows, try again later
            self._writes.failed("flights: database write failed, retrying later: %s", exc.orig)
            self._last_write = self._clock()
            return False
        self._writes.succeeded()
        self.written(flights, round_done)
        return True


# --- airports ---------------------------------------------------------------------------


def _airport_row(airport: Airport, origin: str) -> dict[str, Any]:
    return {
        "ident": airport.ident, "icao": airport.icao or None, "iata": airport.iata or None,
        "name": airport.name, "type": airport.type, "lat": airport.lat, "lon": airport.lon,
        "elevation_ft": airport.elevation_ft, "municipality": airport.municipality or None,
        "longest_runway_ft": airport.longest_runway_ft, "runways": airport.runways or None,
        "origin": origin,
    }


CONFIG_ORIGIN = "config"
IMPORT_PREFIX = "import:"


def sync_configured_airports(engine: Engine, airports: Iterable[Airport]) -> int:
    """Make the configured airports the table's ``config`` rows; imported rows stay and win."""
    rows = [_airport_row(a, CONFIG_ORIGIN) for a in airports]
    with engine.begin() as conn:
        conn.execute(_AIRPORTS.delete().where(_AIRPORTS.c.origin == CONFIG_ORIGIN))
        if rows:
            conn.execute(dialect_insert(engine, _AIRPORTS).on_conflict_do_nothing(), rows)
    return len(rows)


def import_airports(engine: Engine, airports: Iterable[Airport], origin: str) -> int:
    """Add or replace airports from an imported file (``origin`` names the file)."""
    rows = [_airport_row(a, f"{IMPORT_PREFIX}{origin}") for a in airports]
    if not rows:
        return 0
    stmt = dialect_insert(engine, _AIRPORTS)
    with engine.begin() as conn:
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[_AIRPORTS.c.ident],
                set_={c.name: stmt.excluded[c.name] for c in _AIRPORTS.c if c.name != "ident"},
            ),
            rows,
        )
    return len(rows)


def stored_airports(engine: Engine) -> list[Airport]:
    """Every airport in the table, for an ``AirportIndex``."""
    with engine.connect() as conn:
        rows = conn.execute(select(_AIRPORTS).order_by(_AIRPORTS.c.ident)).all()
    return [
        Airport(
            ident=r.ident, icao=r.icao or "", name=r.name, type=r.type, lat=r.lat, lon=r.lon,
            elevation_ft=r.elevation_ft, iata=r.iata or "", municipality=r.municipality or "",
            longest_runway_ft=r.longest_runway_ft, runways=r.runways or "",
        )
        for r in rows
    ]
