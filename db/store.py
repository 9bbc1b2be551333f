"""The single writer: buffers positions and aircraft updates, commits them in batches.

Batching is what keeps an SD card alive: one transaction every few seconds
instead of one per position. A locked or unreachable database keeps the
batch in memory and tries again later; nothing is dropped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Engine, Table, case, func, select
from sqlalchemy.exc import DBAPIError, OperationalError

from flightwatch.db.encoding import (
    COORDINATE_DECIMALS,
    COORDINATE_SCALE,
    TRACK_DECIMALS,
    TRACK_SCALE,
)
from flightwatch.db.failures import FailureStreak
from flightwatch.db.models import Aircraft, CallsignPeriod, Position, Source
from flightwatch.decoder.tracker import AircraftState
from flightwatch.decoder.tracker import Position as TrackPosition

log = logging.getLogger(__name__)

MAX_BUFFERED_POSITIONS = 500_000  # ~100 MB of rows; hours of a busy receiver
_INSERT_SLICE = 2_000  # rows per executemany: bounds the driver's transient memory
_RETRY_FAILED_S = 15.0  # a failing database is retried at least this often

_POSITIONS: Table = Position.__table__  # type: ignore[assignment]
_AIRCRAFT: Table = Aircraft.__table__  # type: ignore[assignment]
_CALLSIGNS: Table = CallsignPeriod.__table__  # type: ignore[assignment]
_SOURCES: Table = Source.__table__  # type: ignore[assignment]
_POSITION_COLUMNS = ", ".join(c.name for c in _POSITIONS.c)  # the order rows are built in
_KEY = itemgetter(0, 1)  # (icao, time)


@dataclass(slots=True)
class StoreStats:
    positions_written: int = 0
    positions_buffered: int = 0
    commits: int = 0
    failed_commits: int = 0
    positions_dropped: int = 0


@dataclass(slots=True)
class _CallsignPeriod:
    callsign: str
    first_seen: datetime
    last_seen: datetime


def _round(value: float | None, digits: int | None = None) -> Any:
    if value is None:
        return None
    return round(value) if digits is None else round(value, digits)


def dialect_insert(engine: Engine, table: Table) -> Any:
    """An INSERT with ON CONFLICT support for the engine's dialect.

    The dialect modules load here, not at import: PostgreSQL's pulls in asyncpg's
    support code, a tenth of a second that no SQLite command should pay.
    """
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table)


def source_name(receiver: str | None, source: str) -> str:
    """The name a source goes by in the database (positions and alerts alike):
    ``"<receiver>/<source>"``, so two receivers' ``beast:127.0.0.1:30005`` stay apart."""
    return f"{receiver}/{source}" if receiver else source


class Store:
    """Buffers writes and commits them every ``batch_rows`` rows or ``batch_seconds``.

    With ``receiver`` set, sources are stored as ``"<receiver>/<source>"``, so two
    receivers' ``beast:127.0.0.1:30005`` stay apart in one shared database. Rows
    are written in key order, so concurrent writers lock rows in the same order
    and cannot deadlock each other (PostgreSQL).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        batch_rows: int = 500,
        batch_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        receiver: str | None = None,
    ) -> None:
        self.engine = engine
        self.receiver = receiver
        self.batch_rows = batch_rows
        self.batch_seconds = batch_seconds
        self._clock = clock
        self._last_commit = clock()
        self._positions: list[tuple[Any, ...]] = []
        self._aircraft: dict[str, AircraftState] = {}
        self._callsigns: dict[str, _CallsignPeriod] = {}
        self._dirty_callsigns: dict[tuple[str, datetime], _CallsignPeriod] = {}
        self._source_ids: dict[str, int] = {}
        self._writes = FailureStreak(log, "database writes recovered")
        self.stats = StoreStats()

    def add_position(self, position: TrackPosition) -> None:
        if len(self._positions) >= MAX_BUFFERED_POSITIONS:
            # The database has been unwritable for hours: keep memory bounded on a Pi.
            del self._positions[: MAX_BUFFERED_POSITIONS // 10]
            self.stats.positions_dropped += MAX_BUFFERED_POSITIONS // 10
            log.error("database unwritable: dropped the oldest %d buffered positions "
                      "(%d so far)", MAX_BUFFERED_POSITIONS // 10, self.stats.positions_dropped)
        track = position.track_deg
        # Encoded as the table stores them (db/types.py): a tuple of small ints takes
        # about half the memory of a dict, and the flush hands it to the driver as is.
        self._positions.append((
            int(position.icao, 16),
            int(position.time.timestamp()),
            round(round(position.lat, COORDINATE_DECIMALS) * COORDINATE_SCALE),
            round(round(position.lon, COORDINATE_DECIMALS) * COORDINATE_SCALE),
            _round(position.altitude_ft),
            _round(position.ground_speed_kt),
            None if track is None else round(round(track, TRACK_DECIMALS) * TRACK_SCALE),
            _round(position.vertical_rate_fpm),
            position.on_ground,
            position.source,
        ))
        if position.callsign:
            self.note_callsign(position.icao, position.callsign, position.time)
        self.stats.positions_buffered = len(self._positions)

    def note_aircraft(self, state: AircraftState) -> None:
        """Remember that this aircraft's summary row needs writing at the next commit."""
        self._aircraft[state.icao] = state

    def note_callsign(self, icao: str, callsign: str, when: datetime) -> None:
        period = self._callsigns.get(icao)
        if period is not None and period.callsign != callsign and (
            period.first_seen.replace(microsecond=0) == when.replace(microsecond=0)
        ):
            # Changed within the second the period began: periods are keyed by
            # (icao, whole second), so the later callsign takes that row over.
            period.callsign = callsign
        elif period is None or period.callsign != callsign:
            period = _CallsignPeriod(callsign, when, when)
            self._callsigns[icao] = period
        if when > period.last_seen:
            period.last_seen = when
        self._dirty_callsigns[(icao, period.first_seen)] = period

    def forget(self, icaos: Iterable[str]) -> None:
        """Drop per-aircraft memory of aircraft the tracker has expired."""
        for icao in icaos:
            self._callsigns.pop(icao, None)

    @property
    def pending(self) -> int:
        return len(self._positions) + len(self._aircraft) + len(self._dirty_callsigns)

    def due(self) -> bool:
        waited = self._clock() - self._last_commit
        if self._writes.failing:  # retry once per interval, not on every new position
            return waited >= min(self.batch_seconds, _RETRY_FAILED_S)
        if len(self._positions) >= self.batch_rows:
            return True
        return self.pending > 0 and waited >= self.batch_seconds

    def maybe_flush(self) -> None:
        if self.due():
            self.flush()

    def flush(self) -> bool:
        """Commit everything buffered in one transaction; False (and keep it) on failure."""
        if not self.pending:
            self._last_commit = self._clock()
            return True
        committed_ids = dict(self._source_ids)
        try:
            with self.engine.begin() as conn:
                if self._positions:
                    self._insert_positions(conn)
                if self._aircraft:
                    conn.execute(self._aircraft_upsert(), [
                        _aircraft_row(self._aircraft[icao]) for icao in sorted(self._aircraft)
                    ])
                if self._dirty_callsigns:
                    conn.execute(self._callsign_upsert(), [
                        {"icao": icao, "first_seen": first, "last_seen": p.last_seen,
                         "callsign": p.callsign}
                        for (icao, first), p in sorted(self._dirty_callsigns.items())
                    ])
        except DBAPIError as exc:
            # The cache follows the transaction: a source row it created was rolled back.
            self._source_ids = committed_ids
            self.stats.failed_commits += 1
            self._last_commit = self._clock()  # wait a full interval before retrying
            if not isinstance(exc, OperationalError):
                self._refused(exc)
            self._writes.failed(
                "database write failed, keeping %d positions in memory and retrying: %s",
                len(self._positions), exc.orig,
            )
            return False
        self._writes.succeeded()
        self.stats.positions_written += len(self._positions)
        self.stats.commits += 1
        self._positions.clear()
        self._aircraft.clear()
        self._dirty_callsigns.clear()
        self.stats.positions_buffered = 0
        self._last_commit = self._clock()
        return True

    def _refused(self, exc: DBAPIError) -> None:
        """The database refused the batch's content, which no retry changes (a constraint,
        a value it cannot store). Positions are numbers in checked ranges; the aircraft and
        callsign summaries carry received text and are rewritten by the next update of
        their aircraft: they go, so the positions are written at the next try."""
        log.error("database refused a batch (%s): dropping its %d aircraft and %d callsign "
                  "updates, keeping its positions", exc.orig, len(self._aircraft),
                  len(self._dirty_callsigns))
        self._aircraft.clear()
        self._dirty_callsigns.clear()

    def _insert_positions(self, conn: Any) -> None:
        """Straight to the driver in key order, a slice at a time: converting thousands
        of rows through SQLAlchemy's parameter handling cost more time and memory than
        the insert itself."""
        buffered = self._positions
        buffered.sort(key=_KEY)  # in place: no second copy of a large batch
        ids = {name: self._source_id(conn, source_name(self.receiver, name))
               for name in {row[9] for row in buffered}}
        mark = "?" if self.engine.dialect.paramstyle == "qmark" else "%s"
        sql = (f"INSERT INTO positions ({_POSITION_COLUMNS}) VALUES "
               f"({', '.join([mark] * len(_POSITIONS.c))}) ON CONFLICT DO NOTHING")
        for start in range(0, len(buffered), _INSERT_SLICE):
            rows = [(*row[:9], ids[row[9]]) for row in buffered[start : start + _INSERT_SLICE]]
            conn.exec_driver_sql(sql, rows)

    def _source_id(self, conn: Any, name: str) -> int:
        cached = self._source_ids.get(name)
        if cached is not None:
            return cached
        conn.execute(dialect_insert(self.engine, _SOURCES).on_conflict_do_nothing(), {"name": name})
        source_id = conn.execute(select(_SOURCES.c.id).where(_SOURCES.c.name == name)).scalar_one()
        self._source_ids[name] = source_id
        return int(source_id)

    def _aircraft_upsert(self) -> Any:
        stmt = dialect_insert(self.engine, _AIRCRAFT)
        excluded = stmt.excluded
        table = _AIRCRAFT.c
        newer = excluded.last_seen >= table.last_seen
        # An import of older history widens the span; it never makes the aircraft
        # "last seen" in the past nor replaces its current callsign with an old one.
        return stmt.on_conflict_do_update(
            index_elements=[table.icao],
            set_={
                "first_seen": case((excluded.first_seen < table.first_seen, excluded.first_seen),
                                   else_=table.first_seen),
                "last_seen": case((newer, excluded.last_seen), else_=table.last_seen),
                "callsign": case((newer, func.coalesce(excluded.callsign, table.callsign)),
                                 else_=table.callsign),
                "registration": func.coalesce(excluded.registration, table.registration),
                "aircraft_type": func.coalesce(excluded.aircraft_type, table.aircraft_type),
            },
        )

    def _callsign_upsert(self) -> Any:
        stmt = dialect_insert(self.engine, _CALLSIGNS)
        return stmt.on_conflict_do_update(
            index_elements=[_CALLSIGNS.c.icao, _CALLSIGNS.c.first_seen],
            set_={"last_seen": stmt.excluded.last_seen, "callsign": stmt.excluded.callsign},
        )

    def close(self) -> bool:
        return self.flush()


def _aircraft_row(state: AircraftState) -> dict[str, Any]:
    return {
        "icao": state.icao,
        "registration": state.registration,
        "aircraft_type": state.aircraft_type,
        "callsign": state.callsign,
        "first_seen": state.first_seen,
        "last_seen": state.last_seen,
    }
