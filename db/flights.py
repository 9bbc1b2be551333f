"""Flights: each aircraft's stored positions cut into flights as they arrive (read back by
:mod:`db.flight_queries`).

Segmentation, per aircraft, on the observation clock (so a replay cuts the same
flights as the live run did):

- A **gap** longer than ``gap_s`` (30 min) without a position ends the flight;
  the next airborne position starts a new one. Positions on the ground with no
  flight before them (first seen parked) start no flight.
- Where a flight began and ended is judged elsewhere (:mod:`flightwatch.alerts.detect`,
  which tells it through the daemon's flight listener): an **arrival** sets the
  flight's arrival (airport, estimated time, grade, uncertainty, reason, candidates);
  the flight keeps the roll-out, taxi and parked positions that follow until a
  **departure** that starts a new flight (a take-off after the ground) or a gap. A
  departure judged from the first positions heard (first heard climbing) belongs to
  the flight they began. A **confirmed** arrival (a turnaround) upgrades the flight
  the aircraft was lost with; a **withdrawn** one clears its arrival and keeps the
  reason why.
- **Time inside a geofence** adds up the intervals between consecutive positions
  of the flight that are both inside.

A flight is keyed by ``(icao, first_seen)`` and written with absolute values, so a
retried batch or a replay of the same capture updates rows instead of adding
copies. The segmenter writes in batches (``flush``), never per position. An
aircraft it has no memory of (after a restart) resumes its latest flight from the
database when that flight is recent enough; a judgement about an earlier flight
that is no longer in memory is written as an update of that row.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, Table, and_, bindparam, func, select
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from flightwatch.db.evidence import (
    INFERRED,
    PROBABLE,
    AirportFix,
    LostFlight,
    parse_candidates,
)
from flightwatch.db.failures import FailureStreak
from flightwatch.db.models import (
    FlightGeofence,
    FlightRecord,
)
from flightwatch.db.store import dialect_insert
from flightwatch.decoder.tracker import Position

log = logging.getLogger(__name__)

_FLIGHTS: Table = FlightRecord.__table__  # type: ignore[assignment]
_FENCES: Table = FlightGeofence.__table__  # type: ignore[assignment]
_SWEEP_EVERY = timedelta(minutes=1)
#: A flight's growing figures (last seen, positions, highest altitude, time inside
#: fences) are written for every flight at once this often, not at each commit: a
#: round rewrites the pages of all flights in the air, each commit would rewrite them
#: again. A flight that starts, lands, takes off or changes callsign is written at the
#: next commit, as is everything when the writer is flushed (a replay, an import, a stop).
COUNTERS_EVERY_S = 600.0
_DEPARTURE_WINDOW = timedelta(minutes=3)  # a first-heard departure annotates a young flight
_ENDS = ("departure", "arrival")


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
    departure: AirportFix | None = None
    arrival: AirportFix | None = None
    withdrawn: str | None = None  # why an arrival judged at a loss was withdrawn
    max_altitude_ft: float | None = None
    positions: int = 0
    fences: dict[str, _FenceTime] = field(default_factory=dict)
    inside: frozenset[str] = frozenset()  # fences the last position was in
    dirty: bool = True
    stored: tuple[Any, ...] | None = None  # ``identity()`` as last written; None: never

    def identity(self) -> tuple[Any, ...]:
        """What a flight is (callsign, its ends and how they are known): written at once when it
        changes. The rest (last seen, positions, altitude, time inside fences) grows with
        every position and is written in rounds."""
        return (self.callsign, self.registration, self.departure, self.arrival,
                self.withdrawn)

    def counters(self) -> dict[str, Any]:
        return {"b_icao": self.icao, "b_first_seen": self.first_seen,
                "last_seen": self.last_seen, "positions": self.positions,
                "max_altitude_ft": None if self.max_altitude_ft is None
                else round(self.max_altitude_ft)}

    def row(self) -> dict[str, Any]:
        return {
            "icao": self.icao, "first_seen": self.first_seen, "last_seen": self.last_seen,
            "callsign": self.callsign, "registration": self.registration,
            **fix_columns("departure", self.departure),
            **fix_columns("arrival", self.arrival, self.withdrawn),
            "max_altitude_ft": None if self.max_altitude_ft is None
            else round(self.max_altitude_ft),
            "positions": self.positions,
        }


def fix_columns(end: str, fix: AirportFix | None, withdrawn: str | None = None,
                ) -> dict[str, Any]:
    """The six columns of one end of a flight (``departure`` or ``arrival``)."""
    if fix is None:
        return {f"{end}_airport": None, f"{end}_time": None, f"{end}_evidence": None,
                f"{end}_uncertainty_s": None, f"{end}_reason": withdrawn,
                f"{end}_candidates": None}
    return {f"{end}_airport": fix.airport, f"{end}_time": fix.time.replace(microsecond=0),
            f"{end}_evidence": fix.evidence, f"{end}_uncertainty_s": fix.uncertainty_s,
            f"{end}_reason": fix.reason, f"{end}_candidates": fix.candidates_text}


def _fix_from_row(row: Any, end: str) -> AirportFix | None:
    when = getattr(row, f"{end}_time")
    evidence = getattr(row, f"{end}_evidence")
    if when is None or evidence is None:
        return None
    return AirportFix(getattr(row, f"{end}_airport"), when, evidence,
                      getattr(row, f"{end}_uncertainty_s") or 0, getattr(row, f"{end}_reason"),
                      parse_candidates(getattr(row, f"{end}_candidates")))


@dataclass(slots=True, eq=False)
class _Aircraft:
    """The segmenter's memory of one aircraft."""

    flight: _Flight | None = None
    previous: _Flight | None = None  # the flight before (a turnaround may confirm its end)
    last_time: datetime | None = None


class FlightSegmenter:
    """Cuts stored positions into flights and keeps the ``flights`` table up to date.

    Feed it every stored position (``add``) in time order per aircraft, and the
    judgements about where flights began and ended (``arrived``, ``departed``,
    ``confirm_arrival``, ``withdraw_arrival``); call ``maybe_flush`` often and
    ``flush`` at the end. Not thread-safe: the pipeline's thread owns it.
    """

    def __init__(
        self,
        engine: Engine,
        fences: Sequence[FenceLike] = (),
        *,
        gap_s: float = 30 * 60.0,
        batch_seconds: float = 5.0,
        batch_flights: int = 500,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.fences = list(fences)
        self.batch_seconds = batch_seconds
        self.batch_flights = batch_flights
        self._clock = clock
        self._last_write = clock()
        self._next_counters = self._last_write + COUNTERS_EVERY_S
        self._gap = timedelta(seconds=gap_s)
        self._aircraft: dict[str, _Aircraft] = {}
        self._dirty: dict[tuple[str, datetime], _Flight] = {}
        self._updates: list[tuple[str, datetime, dict[str, Any]]] = []  # flights not in memory
        self._next_sweep: datetime | None = None
        self._resumable_since: datetime | None = None
        self._resumable_icaos: set[str] = set()
        self._forget: set[str] = set()
        self._writes = FailureStreak(log, "flights: database writes recovered")

    # --- segmentation -----------------------------------------------------------------

    def add(self, position: Position, registration: str | None = None,
            airborne: bool = True) -> None:
        """One stored position of one aircraft; ``airborne`` as the detector judged it."""
        if position.time.microsecond:
            # Whole seconds, as the positions table keeps them (a second position in the
            # same second is not stored), so a resumed flight skips exactly what it counted.
            position = _whole_second(position)
        icao, now = position.icao, position.time
        aircraft = self._memory(icao, now)
        if aircraft.last_time is not None:
            if now <= aircraft.last_time:
                return  # late or repeated (a second source, a replay of stored data)
            if now - aircraft.last_time > self._gap:
                self._end_flight(aircraft)
        aircraft.last_time = now
        if aircraft.flight is None:
            if not airborne:
                return  # first seen on the ground: no flight until it takes off
            self._start_flight(aircraft, position)
        self._assign(aircraft, position, registration)
        self._sweep(now)

    def arrived(self, icao: str, fix: AirportFix, position: Position) -> None:
        """The current flight ended at ``fix`` (``position``: its touchdown, or the last
        position heard)."""
        if position.time.microsecond:
            position = _whole_second(position)
        aircraft = self._memory(icao, position.time)
        flight = aircraft.flight
        if flight is None:  # not airborne in a flight we know of (resumed, odd data)
            flight = self._start_flight(aircraft, position)
        flight.arrival, flight.withdrawn = fix, None
        self._touch(flight)

    def departed(self, icao: str, fix: AirportFix, first: Position,
                 starts_flight: bool) -> None:
        """A departure: a new flight from ``first`` on (``starts_flight``), or the current
        flight, first heard at ``first``, began at ``fix``."""
        if first.time.microsecond:
            first = _whole_second(first)
        aircraft = self._memory(icao, first.time)
        flight = aircraft.flight
        if starts_flight or flight is None:
            self._end_flight(aircraft)
            flight = self._start_flight(aircraft, first)
        elif (flight.departure is not None or flight.arrival is not None
              or first.time - flight.first_seen > _DEPARTURE_WINDOW):
            return
        flight.departure = fix
        self._touch(flight)

    def confirm_arrival(self, icao: str, lost_at: datetime, fix: AirportFix) -> None:
        """A turnaround confirmed the arrival of the flight lost at ``lost_at``."""
        self._judge_earlier(icao, lost_at, fix, None)

    def withdraw_arrival(self, icao: str, lost_at: datetime, why: str) -> None:
        """The arrival judged when the flight was lost at ``lost_at`` did not happen."""
        self._judge_earlier(icao, lost_at, None, why)

    def _judge_earlier(self, icao: str, lost_at: datetime, fix: AirportFix | None,
                       withdrawn: str | None) -> None:
        aircraft = self._memory(icao, lost_at)
        lost_at = lost_at.replace(microsecond=0)
        for flight in (aircraft.flight, aircraft.previous):
            if flight is not None and flight.first_seen <= lost_at:
                flight.arrival, flight.withdrawn = fix, withdrawn
                self._touch(flight)
                return
        self._updates.append((icao, lost_at, fix_columns("arrival", fix, withdrawn)))

    def _memory(self, icao: str, now: datetime) -> _Aircraft:
        aircraft = self._aircraft.get(icao)
        if aircraft is None:
            aircraft = self._aircraft[icao] = self._resume(icao, now)
        return aircraft

    def _touch(self, flight: _Flight) -> None:
        flight.dirty = True
        self._dirty[(flight.icao, flight.first_seen)] = flight

    def _start_flight(self, aircraft: _Aircraft, position: Position) -> _Flight:
        flight = _Flight(icao=position.icao, first_seen=position.time, last_seen=position.time)
        aircraft.flight = flight
        self._touch(flight)
        return flight

    def _end_flight(self, aircraft: _Aircraft) -> None:
        if aircraft.flight is not None:
            aircraft.previous = aircraft.flight
        aircraft.flight = None

    def _assign(self, aircraft: _Aircraft, position: Position, registration: str | None) -> None:
        """Add a position to the aircraft's current flight."""
        flight = aircraft.flight
        if flight is None:
            return
        previous = flight.last_seen
        flight.last_seen = max(previous, position.time)
        flight.positions += 1
        if position.callsign and flight.arrival is None:
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
        self._touch(flight)

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
            and (a.previous is None or not a.previous.dirty)
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
            departure=_fix_from_row(row, "departure"), arrival=_fix_from_row(row, "arrival"),
            withdrawn=row.arrival_reason if row.arrival_evidence is None else None,
            max_altitude_ft=row.max_altitude_ft, positions=row.positions,
            fences={f.geofence: _FenceTime(f.seconds, f.first_inside, f.last_inside)
                    for f in fences},
            dirty=False,
        )
        flight.stored = flight.identity()
        aircraft.flight = flight
        aircraft.last_time = row.last_seen
        return aircraft

    # --- batched writes ---------------------------------------------------------------

    @property
    def pending(self) -> int:
        return len(self._dirty) + len(self._updates)

    def write(self, conn: Connection, *, every: bool = True) -> tuple[list[_Flight], bool]:
        """Write the changed flights and their geofence times, then judgements about flights
        no longer in memory (inside a transaction). The flights written, and whether that
        was a round (see :meth:`_write_flights`)."""
        written, round_due = self._write_flights(conn, every) if self._dirty else ([], every)
        for icao, lost_at, values in self._updates:
            latest = (select(func.max(_FLIGHTS.c.first_seen))
                      .where(_FLIGHTS.c.icao == icao, _FLIGHTS.c.first_seen <= lost_at)
                      .scalar_subquery())
            conn.execute(_FLIGHTS.update()
                         .where(and_(_FLIGHTS.c.icao == icao, _FLIGHTS.c.first_seen == latest))
                         .values(**values))
        return written, round_due

    def _write_flights(self, conn: Connection, every: bool) -> tuple[list[_Flight], bool]:
        """All the changed flights (``every``), else those whose identity changed, and the
        rest's figures when their round is due."""
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
        self._updates.clear()
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
        if self.pending >= self.batch_flights:
            return True
        return bool(self.pending) and self._clock() - self._last_write >= self.batch_seconds

    def maybe_flush(self) -> None:
        if self.due():
            self._flush(every=False)

    def flush(self) -> bool:
        """Write every changed flight in one transaction; False (and keep them) on failure."""
        return self._flush(every=True)

    def _flush(self, *, every: bool) -> bool:
        if not self.pending:
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


def open_arrivals(engine: Engine, since: datetime, until: datetime) -> dict[str, LostFlight]:
    """Each aircraft's latest flight seen between ``since`` and ``until``, where its end was
    judged an arrival at its loss (``inferred`` or ``probable``) and nothing came after:
    what a restarted detector may still confirm (a departure from there) or withdraw. One
    query on the ``last_seen`` index."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(_FLIGHTS).where(_FLIGHTS.c.last_seen >= since, _FLIGHTS.c.first_seen <= until)
        ).all()
    latest: dict[str, Any] = {}
    for row in rows:
        if row.icao not in latest or row.first_seen > latest[row.icao].first_seen:
            latest[row.icao] = row
    out = {}
    for icao, row in latest.items():
        arrival = _fix_from_row(row, "arrival")
        if arrival is not None and row.arrival_evidence in (INFERRED, PROBABLE):
            out[icao] = LostFlight(row.last_seen, arrival)
    return out
