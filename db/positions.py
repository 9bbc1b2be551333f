"""Where positions are written: a log each commit appends to, folded into per-aircraft chunks.

Why two tables: an SD card wears out with writes. Positions kept as table rows clustered
by aircraft cost each commit a rewritten page per aircraft in the air, twice with the
WAL's checkpoint: hundreds of megabytes an hour for a busy receiver, more as the history
grew. Here a commit appends its positions to ``position_log`` as compressed blocks
(:mod:`db.blocks`, a few of about 8 KB: a few bytes a position, written in order), and
every ``database.merge_interval`` :func:`merge_log` folds the log into
``position_chunks``: each aircraft's positions of each hour as one block, keyed time first
``(span, period, icao, first_time)`` so new chunks land at the end of the key order
instead of beside each aircraft's older ones. Retention later turns a day of hourly
chunks into one thinned chunk per aircraft (:mod:`db.retention`). Readers
(:mod:`db.position_reader`) read both tables, so nothing waits for a merge, and a power
cut loses only what was not yet committed to the log.

Chunks of one aircraft never overlap in time within a span: writing positions that
overlap an existing chunk merges the two, the stored position winning where both have
the same second (a table's unique key did the same before). Every function here runs
inside the caller's transaction; :func:`lock_positions` first makes it the only one
changing positions (another process may import while the daemon runs).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Table, insert, text

from flightwatch.db.blocks import (
    LAT,
    LON,
    TIME,
    Block,
    Columns,
    by_period,
    concat,
    encode,
    normalised,
    selected,
)
from flightwatch.db.models import PositionChunk, PositionLog
from flightwatch.db.position_reader import DAY, HOUR, MAX_PARTS, cut, in_list

log = logging.getLogger(__name__)

_LOCK_KEY = 0x46574C4F47  # PostgreSQL advisory lock of position writers ("FWLOG")

_LOG: Table = PositionLog.__table__  # type: ignore[assignment]
_CHUNKS: Table = PositionChunk.__table__  # type: ignore[assignment]

Track = tuple[int, Columns]  # (24-bit address as stored, time-ordered positions)


def lock_positions(conn: Connection) -> None:
    """Begin the transaction as the only writer of positions (call it first).

    SQLite: ``BEGIN IMMEDIATE`` takes the write lock now, so what the transaction reads
    (the chunks it merges into, whether rows read before are still there) cannot change
    before it writes. PostgreSQL: an advisory lock serialises merges, thinning and
    copies (appends need none).
    """
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    elif conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})


# --- the log ------------------------------------------------------------------------


def append_log(conn: Connection, parts: int, part: int, tracks: Sequence[Track]) -> None:
    """Append one block to the log: the aircraft of a commit with ``icao % parts == part``
    (:func:`db.position_reader.parts_for` says how many parts)."""
    tracks = [(icao, columns) for icao, columns in tracks if columns[TIME]]
    if not tracks:
        return
    conn.execute(insert(_LOG), {
        "parts": parts, "part": part,
        "first_time": min(columns[TIME][0] for _i, columns in tracks),
        "last_time": max(columns[TIME][-1] for _i, columns in tracks),
        "positions": sum(len(columns[TIME]) for _i, columns in tracks),
        "data": encode(tracks),
    })


@dataclass(slots=True)
class Merged:
    """What one :func:`merge_log` did."""

    log_rows: int = 0
    positions: int = 0
    chunks: int = 0
    abandoned: bool = False


def merge_log(engine: Engine, *, should_stop: Callable[[], bool] = lambda: False,
              before: int | None = None) -> Merged:
    """Fold the whole log into chunks and empty it.

    The log is read and the chunks are packed without the write lock, a partition of
    aircraft (``icao % 16``) at a time so that only one partition's positions are
    unpacked at once; then one short transaction checks that the log rows are still
    there (another process may have merged them meanwhile), writes the chunks and
    deletes the rows. ``should_stop`` is asked between partitions: a stopping daemon
    leaves the log for later, losing nothing. With ``before`` (Unix seconds), only if
    the log holds a position older than that.
    """
    merged = Merged()
    with engine.connect() as conn:
        if before is not None and not conn.execute(
                text("SELECT 1 FROM position_log WHERE first_time < :t LIMIT 1"),
                {"t": before}).first():
            return merged
        layout = [tuple(row) for row in conn.execute(
            text("SELECT id, parts, part FROM position_log ORDER BY id"))]
    if not layout:
        return merged
    planned: list[dict[str, Any]] = []
    for partition in range(MAX_PARTS):
        if should_stop():
            merged.abandoned = True
            return merged
        ids = [i for i, parts, part in layout if partition % parts == part]
        tracks = _partition(engine, ids, partition)
        planned.extend(chunk_row(HOUR, icao, piece) for icao, columns in tracks
                       for _period, piece in by_period(columns, HOUR))
        merged.positions += sum(len(columns[TIME]) for _i, columns in tracks)
    ids = [i for i, _parts, _part in layout]
    with engine.begin() as conn:
        lock_positions(conn)
        if not all_present(conn, "position_log", ids):
            return Merged()  # merged by someone else meanwhile: the next merge sees the rest
        merged.chunks = store_chunks(conn, planned)
        for some in cut(ids):
            conn.execute(text(f"DELETE FROM position_log WHERE id IN ({in_list(some)})"))
    merged.log_rows = len(ids)
    return merged


def _partition(engine: Engine, ids: Sequence[int], partition: int) -> list[Track]:
    """The positions of the aircraft with ``icao % MAX_PARTS == partition`` in the log
    rows ``ids``, each aircraft's in time order, one per second."""
    parts: dict[int, list[Columns]] = {}
    with engine.connect() as conn:
        for some in cut(ids):
            for (data,) in conn.execute(text(
                    f"SELECT data FROM position_log WHERE id IN ({in_list(some)}) ORDER BY id")):
                block = Block(data)
                for icao in block.addresses:
                    if icao % MAX_PARTS == partition:
                        columns = block.columns(icao)
                        if columns is not None:
                            parts.setdefault(icao, []).append(columns)
    return [(icao, normalised(concat(parts[icao]))) for icao in sorted(parts)]


def all_present(conn: Connection, table: str, ids: Sequence[int]) -> bool:
    """Whether every row of ``ids`` is still in ``table`` (read under the write lock)."""
    found = 0
    for some in cut(sorted(set(ids))):
        found += conn.execute(text(
            f"SELECT count(*) FROM {table} WHERE id IN ({in_list(some)})")).scalar_one()
    return found == len(set(ids))


# --- chunks -------------------------------------------------------------------------


@dataclass(slots=True)
class StoredChunk:
    """A chunk row without its data (what the writers decide on)."""

    id: int
    span: int
    period: int
    icao: int
    first_time: int
    last_time: int
    positions: int
    thinned: int


_CHUNK_COLUMNS = "id, span, period, icao, first_time, last_time, positions, thinned"


def chunk_row(span: int, icao: int, columns: Columns, thinned: int = 0) -> dict[str, Any]:
    """The ``position_chunks`` row of one aircraft's positions within one period."""
    times, lats, lons = columns[TIME], columns[LAT], columns[LON]
    return {
        "span": span, "period": times[0] // span, "icao": icao,
        "first_time": times[0], "last_time": times[-1], "positions": len(times),
        "thinned": thinned, "min_lat": min(lats), "max_lat": max(lats),
        "min_lon": min(lons), "max_lon": max(lons), "data": encode([(icao, columns)]),
    }


def chunks_in(conn: Connection, span: int, periods: Iterable[int],
              icaos: Iterable[int] | None = None) -> list[StoredChunk]:
    """The chunks of ``span`` in ``periods`` (of ``icaos``), without their data."""
    found: list[StoredChunk] = []
    aircraft = "" if icaos is None else f" AND icao IN ({in_list(sorted(set(icaos)))})"
    for some in cut(sorted(set(periods))):
        rows = conn.execute(text(
            f"SELECT {_CHUNK_COLUMNS} FROM position_chunks WHERE span = :span "
            f"AND period IN ({in_list(some)}){aircraft}"), {"span": span})
        found.extend(StoredChunk(*row) for row in rows)
    return found


def chunk_data(conn: Connection, ids: Sequence[int]) -> dict[int, Columns]:
    """Chunk id -> its positions."""
    out: dict[int, Columns] = {}
    for some in cut(ids):
        for row_id, icao, data in conn.execute(text(
                f"SELECT id, icao, data FROM position_chunks WHERE id IN ({in_list(some)})")):
            columns = Block(data).columns(icao)
            if columns is not None:
                out[row_id] = columns
    return out


def delete_chunks(conn: Connection, ids: Sequence[int]) -> None:
    for some in cut(ids):
        conn.execute(text(f"DELETE FROM position_chunks WHERE id IN ({in_list(some)})"))


def write_tracks(conn: Connection, tracks: Sequence[Track], *, span: int = HOUR,
                 thinned: int = 0) -> int:
    """Store time-ordered positions as chunks of ``span`` (one track per aircraft); how
    many chunks were written (see :func:`store_chunks`)."""
    return store_chunks(conn, [chunk_row(span, icao, piece, thinned)
                               for icao, columns in tracks
                               for _period, piece in by_period(columns, span)])


def store_chunks(conn: Connection, rows: Sequence[dict[str, Any]]) -> int:
    """Insert chunk rows (:func:`chunk_row`, at most one per span, period and aircraft);
    how many were written.

    Where a stored chunk of the same span overlaps, the two are merged into one (the
    stored positions win a shared second); an hourly position whose second a thinned
    day already holds is dropped.
    """
    if not rows:
        return 0
    out = []
    for span in sorted({row["span"] for row in rows}):
        mine = [row for row in rows if row["span"] == span]
        stored = chunks_in(conn, span, {r["period"] for r in mine}, {r["icao"] for r in mine})
        by_key: dict[tuple[int, int], list[StoredChunk]] = {}
        for chunk in stored:
            by_key.setdefault((chunk.period, chunk.icao), []).append(chunk)
        replaced: list[int] = []
        for row in _without_thinned_duplicates(conn, mine) if span == HOUR else mine:
            overlapping = [c for c in by_key.get((row["period"], row["icao"]), ())
                           if c.first_time <= row["last_time"] and c.last_time >= row["first_time"]]
            if overlapping:
                old = chunk_data(conn, [c.id for c in overlapping])
                earlier = sorted(overlapping, key=lambda c: c.first_time)
                new = Block(row["data"]).columns(row["icao"])
                assert new is not None
                part = normalised(concat([*(old[c.id] for c in earlier if c.id in old), new]))
                replaced.extend(c.id for c in overlapping)
                row = chunk_row(span, row["icao"], part,
                                min([row["thinned"], *(c.thinned for c in overlapping)]))
            out.append(row)
        delete_chunks(conn, replaced)
    conn.execute(insert(_CHUNKS), out)
    return len(out)


def _without_thinned_duplicates(conn: Connection, rows: list[dict[str, Any]]
                                ) -> list[dict[str, Any]]:
    """Hourly chunk rows without the seconds a thinned day of the same aircraft holds (an
    import of history that retention already thinned)."""
    days = chunks_in(conn, DAY, {r["period"] * HOUR // DAY for r in rows},
                     {r["icao"] for r in rows})
    if not days:
        return rows
    held: dict[tuple[int, int], set[int]] = {}
    for chunk_id, columns in chunk_data(conn, [c.id for c in days]).items():
        chunk = next(c for c in days if c.id == chunk_id)
        held.setdefault((chunk.period, chunk.icao), set()).update(columns[TIME])
    out = []
    for row in rows:
        seconds = held.get((row["period"] * HOUR // DAY, row["icao"]))
        if seconds:
            part = Block(row["data"]).columns(row["icao"])
            assert part is not None
            part = selected(part, [t not in seconds for t in part[TIME]])
            if not part[TIME]:
                continue
            row = chunk_row(HOUR, row["icao"], part, row["thinned"])
        out.append(row)
    return out
