"""The single writer: buffers positions and aircraft updates, commits them in batches.

Batching is what keeps an SD card alive: one transaction a minute instead of one per
position, and what each commit writes is small: positions are appended to the log as
compressed blocks and folded into per-aircraft chunks every ``merge_interval``
(:mod:`db.positions`); a callsign period's row is only told its new end; an aircraft's
summary row is rewritten when the aircraft is new or its registration or type changes,
and otherwise about once an hour (each rewrite costs a page of a table that holds
every aircraft ever heard). A locked or unreachable database keeps the batch in memory
and tries again later; nothing is dropped.
"""

from __future__ import annotations

import logging
import time
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Table, bindparam, case, func, select
from sqlalchemy.exc import DBAPIError, OperationalError

from flightwatch.db.blocks import COLUMNS, NULLABLE, SOURCE, Columns, ground_code, normalised
from flightwatch.db.encoding import (
    COORDINATE_DECIMALS,
    COORDINATE_SCALE,
    TRACK_DECIMALS,
    TRACK_SCALE,
)
from flightwatch.db.failures import FailureStreak
from flightwatch.db.models import Aircraft, CallsignPeriod, Source
from flightwatch.db.position_reader import parts_for
from flightwatch.db.positions import append_log, merge_log
from flightwatch.decoder.tracker import AircraftState
from flightwatch.decoder.tracker import Position as TrackPosition

log = logging.getLogger(__name__)

MAX_BUFFERED_POSITIONS = 500_000  # ~40 MB of columns; hours of a busy receiver
_RETRY_FAILED_S = 15.0  # a failing database is retried at least this often
#: An aircraft's summary row (last seen, callsign) is rewritten at most this often unless
#: the aircraft is new or its registration or type changed.
AIRCRAFT_EVERY_S = 3600.0
#: The log is also merged once it holds this many positions (an import writes fast).
MERGE_POSITIONS = 300_000

_AIRCRAFT: Table = Aircraft.__table__  # type: ignore[assignment]
_CALLSIGNS: Table = CallsignPeriod.__table__  # type: ignore[assignment]
_SOURCES: Table = Source.__table__  # type: ignore[assignment]
_NULL = -(1 << 63)  # None in a buffered column (no stored value comes near it)


@dataclass(slots=True)
class StoreStats:
    positions_written: int = 0
    positions_buffered: int = 0
    commits: int = 0
    failed_commits: int = 0
    positions_dropped: int = 0
    merges: int = 0


class _Buffered:
    """One aircraft's positions waiting for the next commit, column by column as stored
    (:mod:`db.blocks`): 8 bytes a value. A tuple of Python ints per position took about
    five times that, which a busy replay's batch of 20,000 positions made megabytes."""

    __slots__ = ("columns",)

    def __init__(self) -> None:
        self.columns = tuple(array("q") for _ in range(COLUMNS))

    def __len__(self) -> int:
        return len(self.columns[0])

    def add(self, values: tuple[int | None, ...]) -> None:
        for column, value in zip(self.columns, values, strict=True):
            column.append(_NULL if value is None else value)

    def drop_oldest(self, share: float) -> int:
        n = int(len(self) * share)
        for column in self.columns:
            del column[:n]
        return n

    def to_columns(self, source_ids: Sequence[int]) -> Columns:
        """As a block takes them: None for nothing, the source as its database id, in
        time order with one position per second (the first buffered wins, as the table's
        unique key made it before)."""
        out: list[list[Any]] = []
        for index, column in enumerate(self.columns):
            if index in NULLABLE:
                out.append([None if v == _NULL else v for v in column])
            elif index == SOURCE:
                out.append([source_ids[v] for v in column])
            else:
                out.append(column.tolist())
        return normalised(tuple(out))


@dataclass(slots=True)
class _CallsignPeriod:
    callsign: str
    first_seen: datetime
    last_seen: datetime
    stored: str | None = None  # the callsign its row holds; None: no row written yet


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
    """Buffers writes and commits them every ``batch_rows`` rows or ``batch_seconds``;
    merges the log into chunks every ``merge_seconds``.

    With ``receiver`` set, sources are stored as ``"<receiver>/<source>"``, so two
    receivers' ``beast:127.0.0.1:30005`` stay apart in one shared database. Rows
    are written in key order, so concurrent writers lock rows in the same order
    and cannot deadlock each other (PostgreSQL). ``should_stop`` is asked during a
    merge: a stopping daemon abandons it (the log stays for the next run).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        batch_rows: int = 500,
        batch_seconds: float = 5.0,
        merge_seconds: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
        receiver: str | None = None,
    ) -> None:
        self.engine = engine
        self.receiver = receiver
        self.batch_rows = batch_rows
        self.batch_seconds = batch_seconds
        self.merge_seconds = merge_seconds
        self.should_stop: Callable[[], bool] = lambda: False
        self._clock = clock
        self._last_commit = clock()
        self._next_merge = self._last_commit + merge_seconds
        self._next_aircraft = self._last_commit + AIRCRAFT_EVERY_S
        self._logged = 0  # positions appended to the log since the last merge
        self._positions: dict[int, _Buffered] = {}
        self._buffered = 0
        self._source_names: list[str] = []  # a buffered position's source is its index here
        self._aircraft: dict[str, AircraftState] = {}
        # (registration, type) each aircraft's row holds, as read or written; forgotten
        # with the aircraft.
        self._stored_identity: dict[str, tuple[str | None, str | None] | None] = {}
        self._callsigns: dict[str, _CallsignPeriod] = {}
        self._dirty_callsigns: dict[tuple[str, datetime], _CallsignPeriod] = {}
        self._source_ids: dict[str, int] = {}
        self._writes = FailureStreak(log, "database writes recovered")
        self._merges = FailureStreak(log, "merging positions works again")
        self.stats = StoreStats()

    def add_position(self, position: TrackPosition) -> None:
        if self._buffered >= MAX_BUFFERED_POSITIONS:
            # The database has been unwritable for hours: keep memory bounded on a Pi.
            dropped = sum(b.drop_oldest(0.1) for b in self._positions.values())
            self._buffered -= dropped
            self.stats.positions_dropped += dropped
            log.error("database unwritable: dropped the oldest %d buffered positions "
                      "(%d so far)", dropped, self.stats.positions_dropped)
        icao = int(position.icao, 16)
        buffered = self._positions.get(icao)
        if buffered is None:
            buffered = self._positions[icao] = _Buffered()
        track = position.track_deg
        # Encoded as stored (db/encoding.py).
        buffered.add((
            int(position.time.timestamp()),
            round(round(position.lat, COORDINATE_DECIMALS) * COORDINATE_SCALE),
            round(round(position.lon, COORDINATE_DECIMALS) * COORDINATE_SCALE),
            _round(position.altitude_ft),
            _round(position.ground_speed_kt),
            None if track is None else round(round(track, TRACK_DECIMALS) * TRACK_SCALE),
            _round(position.vertical_rate_fpm),
            ground_code(position.on_ground),
            self._source_index(position.source),
        ))
        self._buffered += 1
        if position.callsign:
            self.note_callsign(position.icao, position.callsign, position.time)
        self.stats.positions_buffered = self._buffered

    def _source_index(self, name: str) -> int:
        names = self._source_names
        try:
            return names.index(name)  # a handful of sources per process
        except ValueError:
            names.append(name)
            return len(names) - 1

    def note_aircraft(self, state: AircraftState) -> None:
        """Remember that this aircraft's summary row may need writing."""
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
        """Drop per-aircraft memory of aircraft the tracker has expired (their summary
        row, if it changed, is still written with the next hourly batch)."""
        for icao in icaos:
            self._callsigns.pop(icao, None)
            self._stored_identity.pop(icao, None)

    @property
    def pending(self) -> int:
        return self._buffered + len(self._aircraft) + len(self._dirty_callsigns)

    def due(self) -> bool:
        waited = self._clock() - self._last_commit
        if self._writes.failing:  # retry once per interval, not on every new position
            return waited >= min(self.batch_seconds, _RETRY_FAILED_S)
        if self._buffered >= self.batch_rows:
            return True
        return self.pending > 0 and waited >= self.batch_seconds

    def maybe_flush(self) -> None:
        if self.due():
            self.flush()
        if self._logged and (self._clock() >= self._next_merge
                             or self._logged >= MERGE_POSITIONS):
            self.merge()

    def flush(self, *, all_aircraft: bool = False) -> bool:
        """Commit everything buffered in one transaction; False (and keep it) on failure.

        Aircraft rows wait for their hourly batch unless new or changed (or
        ``all_aircraft``: a replay or import that ends).
        """
        now = self._clock()
        every_aircraft = all_aircraft or now >= self._next_aircraft
        if not (self._positions or self._dirty_callsigns or (self._aircraft and every_aircraft)
                or self._aircraft_news()):
            self._last_commit = now
            return True
        committed_ids = dict(self._source_ids)
        try:
            with self.engine.begin() as conn:
                if self._positions:
                    self._append_log(conn)
                written = self._write_aircraft(conn, every_aircraft)
                self._write_callsigns(conn)
        except DBAPIError as exc:
            # The cache follows the transaction: a source row it created was rolled back.
            self._source_ids = committed_ids
            self.stats.failed_commits += 1
            self._last_commit = self._clock()  # wait a full interval before retrying
            if not isinstance(exc, OperationalError):
                self._refused(exc)
            self._writes.failed(
                "database write failed, keeping %d positions in memory and retrying: %s",
                self._buffered, exc.orig,
            )
            return False
        self._writes.succeeded()
        self.stats.positions_written += self._buffered
        self._logged += self._buffered
        self.stats.commits += 1
        self._positions.clear()
        self._buffered = 0
        for icao in written:
            self._aircraft.pop(icao, None)
        if every_aircraft:
            self._next_aircraft = now + AIRCRAFT_EVERY_S
        for period in self._dirty_callsigns.values():
            period.stored = period.callsign
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

    def merge(self) -> bool:
        """Fold the log into per-aircraft chunks (:func:`db.positions.merge_log`); False
        when the database refused or the merge was abandoned (the log stays)."""
        try:
            merged = merge_log(self.engine, should_stop=self.should_stop)
        except OperationalError as exc:
            self._next_merge = self._clock() + self.batch_seconds
            self._merges.failed("merging positions failed, retrying later: %s", exc.orig)
            return False
        self._merges.succeeded()
        if merged.abandoned:
            return False
        self.stats.merges += 1
        self._logged = 0
        self._next_merge = self._clock() + self.merge_seconds
        log.debug("merged %d positions from %d log blocks into %d chunks",
                  merged.positions, merged.log_rows, merged.chunks)
        return True

    def _append_log(self, conn: Any) -> None:
        """The buffer into the log, a part of the aircraft at a time (blocks of about 8 KB
        fill the file's pages; one block's positions are unpacked at once, never the
        whole batch)."""
        ids = [self._source_id(conn, source_name(self.receiver, name))
               for name in self._source_names]
        parts = parts_for(self._buffered)
        for part in range(parts):
            # Address order: the order concurrent writers lock rows in.
            append_log(conn, parts, part, [
                (icao, self._positions[icao].to_columns(ids))
                for icao in sorted(self._positions) if icao % parts == part])

    def _source_id(self, conn: Any, name: str) -> int:
        cached = self._source_ids.get(name)
        if cached is not None:
            return cached
        conn.execute(dialect_insert(self.engine, _SOURCES).on_conflict_do_nothing(), {"name": name})
        source_id = conn.execute(select(_SOURCES.c.id).where(_SOURCES.c.name == name)).scalar_one()
        self._source_ids[name] = source_id
        return int(source_id)

    def _aircraft_news(self) -> bool:
        """Whether a noted aircraft is not known to have a row, or brings a registration
        or type its row lacks."""
        return any(icao not in self._stored_identity
                   or _identity_news(state, self._stored_identity[icao])
                   for icao, state in self._aircraft.items())

    def _write_aircraft(self, conn: Any, every: bool) -> list[str]:
        """Upsert aircraft rows: all noted ones (``every``), else those whose row lacks
        their registration or type (a new aircraft has no row); the addresses written."""
        unknown = sorted(icao for icao in self._aircraft if icao not in self._stored_identity)
        for some in (unknown[i:i + 500] for i in range(0, len(unknown), 500)):
            for icao in some:
                self._stored_identity[icao] = None
            rows = conn.execute(select(_AIRCRAFT.c.icao, _AIRCRAFT.c.registration,
                                       _AIRCRAFT.c.aircraft_type)
                                .where(_AIRCRAFT.c.icao.in_(some)))
            for icao, registration, aircraft_type in rows:
                self._stored_identity[icao] = (registration, aircraft_type)
        due = sorted(icao for icao, state in self._aircraft.items()
                     if every or _identity_news(state, self._stored_identity.get(icao)))
        if due:
            conn.execute(self._aircraft_upsert(),
                         [_aircraft_row(self._aircraft[icao]) for icao in due])
            for icao in due:
                state = self._aircraft[icao]
                stored = self._stored_identity.get(icao) or (None, None)
                self._stored_identity[icao] = (state.registration or stored[0],
                                               state.aircraft_type or stored[1])
        return due

    def _write_callsigns(self, conn: Any) -> None:
        """New periods (or a callsign changed within its first second) are upserted; the
        rest only get their new end, which leaves the callsign index alone."""
        ends: list[dict[str, Any]] = []
        upserts: list[dict[str, Any]] = []
        for (icao, first), period in sorted(self._dirty_callsigns.items()):
            row = {"icao": icao, "first_seen": first, "last_seen": period.last_seen,
                   "callsign": period.callsign}
            (ends if period.stored == period.callsign else upserts).append(row)
        if upserts:
            conn.execute(self._callsign_upsert(), upserts)
        if ends:
            table = _CALLSIGNS.c
            conn.execute(_CALLSIGNS.update()
                         .where(table.icao == bindparam("b_icao"),
                                table.first_seen == bindparam("b_first"))
                         .values(last_seen=bindparam("b_last")),
                         [{"b_icao": r["icao"], "b_first": r["first_seen"],
                           "b_last": r["last_seen"]} for r in ends])

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
        """Write everything, every aircraft row included, and merge the log (a replay or
        an import that ends)."""
        return self.flush(all_aircraft=True) and self.merge()


def _identity_news(state: AircraftState, stored: tuple[str | None, str | None] | None) -> bool:
    """Whether the aircraft's row is missing or lacks a registration or type it now has."""
    if stored is None:
        return True
    registration, aircraft_type = stored
    return bool((state.registration and state.registration != registration)
                or (state.aircraft_type and state.aircraft_type != aircraft_type))


def _aircraft_row(state: AircraftState) -> dict[str, Any]:
    return {
        "icao": state.icao,
        "registration": state.registration,
        "aircraft_type": state.aircraft_type,
        "callsign": state.callsign,
        "first_seen": state.first_seen,
        "last_seen": state.last_seen,
    }
