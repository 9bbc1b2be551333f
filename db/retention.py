"""Retention: thin old positions to one per aircraft per interval, delete older ones.

Months of full-rate positions do not fit on an SD card, but a track at one point every
few minutes still shows where an aircraft went. Thinning reads an aircraft's hourly
chunks of one UTC day (:mod:`db.positions`) and writes what it keeps as one chunk for
the day; deleting drops whole chunks (and cuts the one chunk a bound falls into). Work
goes in short transactions of about ``batch`` positions, because SQLite has one
writer: the daemon's :class:`~db.store.Store` waits (busy timeout) at most one batch,
never a whole run. Alerts, aircraft, callsigns, sources and the watchlist are never
touched.

The daemon's job (:class:`Retention`) moves its bounds a whole day at a time when
``thin_after`` (``delete_after``) is a day or more: each aircraft's day is then
thinned once, in one piece, instead of rewritten as every hour of it comes of age; a
position is thinned between ``thin_after`` and a day later. Thinning is idempotent:
chunks record the interval they were thinned to, and what is thinned is not read again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, text

from flightwatch.db.blocks import GROUND, TIME, Columns, concat, normalised, selected, window
from flightwatch.db.position_reader import DAY, HOUR
from flightwatch.db.positions import (
    StoredChunk,
    Track,
    all_present,
    chunk_data,
    chunks_in,
    delete_chunks,
    lock_positions,
    merge_log,
    write_tracks,
)

log = logging.getLogger(__name__)

K = TypeVar("K")  # an aircraft's key: the stored integer here, an address string in tests

DEFAULT_BATCH = 20_000  # positions a transaction; ~0.3 s a batch on a PC


@dataclass(slots=True)
class Progress:
    """What one thinning or deleting pass did, and whether it reached its end."""

    deleted: int = 0
    scanned: int = 0
    batches: int = 0
    until: int | None = None  # thinning: every position before this (epoch s) is thinned
    finished: bool = True


def _epoch(when: datetime) -> int:
    if when.tzinfo is None:
        raise ValueError(f"naive datetime {when!r}: retention works on UTC-aware times")
    return int(when.timestamp())


def _expired(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() >= deadline


def rows_to_drop(
    rows: Iterable[tuple[K, int, Any]], interval_s: int
) -> list[tuple[K, int]]:
    """Keys of the rows thinning removes from ``rows`` (sorted by icao, then time).

    Kept: the first row of each aircraft in each ``interval_s`` bucket (buckets
    are aligned to the epoch, so the same data always thins the same way), and
    every row whose ``on_ground`` differs from the aircraft's previous kept row,
    so landings and take-offs survive. Applying it to thinned rows drops nothing.
    """
    drop: list[tuple[K, int]] = []
    last_icao: K | None = None
    last_bucket = -1
    kept_ground: Any = None
    for icao, t, ground in rows:
        bucket = t // interval_s
        if icao != last_icao or bucket != last_bucket or ground != kept_ground:
            last_icao, last_bucket, kept_ground = icao, bucket, ground
        else:
            drop.append((icao, t))
    return drop


def thinned(columns: Columns, interval_s: int) -> Columns:
    """One aircraft's time-ordered positions as thinning keeps them (:func:`rows_to_drop`)."""
    times = columns[TIME]
    dropped = {t for _i, t in rows_to_drop(zip([0] * len(times), times, columns[GROUND],
                                                 strict=True), interval_s)}
    return selected(columns, [t not in dropped for t in times]) if dropped else columns


def _merge_older_log(engine: Engine, stop: int) -> None:
    """Positions still in the log older than ``stop`` (an import of old data) go into
    chunks first, where thinning and deleting find them."""
    merge_log(engine, before=stop)


def _first_period(conn: Connection, span: int, stop: int, extra: str = "") -> int | None:
    """The oldest period of ``span`` holding a chunk that starts before ``stop``."""
    value = conn.execute(text(f"SELECT min(period) FROM position_chunks WHERE span = :span "
                              f"AND period <= :last AND first_time < :stop{extra}"),
                         {"span": span, "last": (stop - 1) // span, "stop": stop}).scalar()
    return None if value is None else int(value)


def _day_to_thin(conn: Connection, stop: int, interval: int) -> int | None:
    """The oldest UTC day holding full-rate positions before ``stop``, or thinned to a
    shorter interval than ``interval``."""
    hour = _first_period(conn, HOUR, stop)
    day = _first_period(conn, DAY, stop, f" AND thinned < {int(interval)}")
    days = [d for d in (None if hour is None else hour * HOUR // DAY, day) if d is not None]
    return min(days) if days else None


@dataclass(slots=True)
class _Rewrite:
    """A batch of chunks to replace (read without the write lock), and by what."""

    doomed: list[int]
    days: list[Track]
    hours: list[Track]
    scanned: int = 0
    deleted: int = 0

    def apply(self, engine: Engine, thinned_to: int, progress: Progress) -> None:
        """Replace the chunks in one short transaction holding the write lock; skipped
        (to be planned again) when another writer changed them since they were read."""
        with engine.begin() as conn:
            lock_positions(conn)
            if not all_present(conn, "position_chunks", self.doomed):
                return
            delete_chunks(conn, self.doomed)
            write_tracks(conn, self.days, span=DAY, thinned=thinned_to)
            write_tracks(conn, self.hours, span=HOUR)
        progress.scanned += self.scanned
        progress.deleted += self.deleted
        progress.batches += 1


def _plan_thinning(conn: Connection, stop: int, interval: int, batch: int) -> _Rewrite | None:
    """Some aircraft of the oldest day with work (about ``batch`` positions): their hourly
    chunks before ``stop`` (and the day's thinned chunk) become one thinned chunk for the
    day; None when there is nothing left to thin."""
    day = _day_to_thin(conn, stop, interval)
    if day is None:
        return None
    hours = range(day * DAY // HOUR, min((day + 1) * DAY // HOUR, (stop - 1) // HOUR + 1))
    hourly = [c for c in chunks_in(conn, HOUR, hours) if c.first_time < stop]
    daily = [c for c in chunks_in(conn, DAY, [day]) if c.first_time < stop]
    sizes: dict[int, int] = {}
    for chunk in hourly:
        sizes[chunk.icao] = sizes.get(chunk.icao, 0) + chunk.positions
    for chunk in daily:
        if chunk.thinned < interval:
            sizes.setdefault(chunk.icao, chunk.positions)
    chosen = _first_fitting(sizes, batch)
    mine = [c for c in (*hourly, *daily) if c.icao in chosen]
    data = chunk_data(conn, [c.id for c in mine])
    plan = _Rewrite([c.id for c in mine], [], [])
    for icao in sorted(chosen):
        own = sorted((c for c in mine if c.icao == icao and c.id in data),
                     key=lambda c: (c.span != DAY, c.first_time))
        plan.scanned += sum(len(window(data[c.id], None, stop - 1)[TIME])
                            for c in own if c.span == HOUR)
        joined = normalised(concat([data[c.id] for c in own]))
        before, after = window(joined, None, stop - 1), window(joined, stop, None)
        kept = thinned(before, interval)
        plan.deleted += len(before[TIME]) - len(kept[TIME])
        if kept[TIME]:
            plan.days.append((icao, kept))
        if after[TIME]:
            plan.hours.append((icao, after))
    return plan


def _first_fitting(sizes: Mapping[int, int], batch: int) -> set[int]:
    """Aircraft in address order while their positions fit ``batch`` (at least one)."""
    chosen: set[int] = set()
    total = 0
    for icao in sorted(sizes):
        if chosen and total + sizes[icao] > batch:
            break
        chosen.add(icao)
        total += sizes[icao]
    return chosen


def thin_positions(
    engine: Engine,
    older_than: datetime,
    interval_s: float,
    *,
    batch: int = DEFAULT_BATCH,
    since: int | None = None,
    deadline: float | None = None,
) -> Progress:
    """Thin positions older than ``older_than`` to one per aircraft per ``interval_s``.

    Works through the oldest day first, some aircraft at a time (about ``batch``
    positions), each batch in one short transaction; stops early once the
    ``time.monotonic()`` ``deadline`` has passed (``finished`` False). The bound is
    rounded down to a whole interval. ``since`` is accepted for callers that remember
    how far they got; the chunks themselves say what is thinned.
    """
    del since
    interval = max(int(interval_s), 1)
    stop = _epoch(older_than) // interval * interval
    progress = Progress()
    _merge_older_log(engine, stop)
    while True:
        if _expired(deadline):
            progress.finished = False
            return progress
        with engine.connect() as conn:
            plan = _plan_thinning(conn, stop, interval, batch)
        if plan is None:
            break
        plan.apply(engine, interval, progress)
    progress.until = stop
    return progress


def _plan_deleting(conn: Connection, stop: int, batch: int) -> tuple[_Rewrite, int] | None:
    """The oldest chunks before ``stop`` (about ``batch`` positions), and what is left of
    the ones ``stop`` cuts; with the thinning interval of those; None when none is left."""
    doomed: list[StoredChunk] = []
    for span in (DAY, HOUR):
        rows = conn.execute(text(
            "SELECT id, span, period, icao, first_time, last_time, positions, thinned "
            "FROM position_chunks WHERE span = :span AND period <= :last "
            "AND first_time < :stop ORDER BY period LIMIT :limit"),
            {"span": span, "last": (stop - 1) // span, "stop": stop, "limit": max(batch, 1)})
        doomed.extend(StoredChunk(*row) for row in rows)
    if not doomed:
        return None
    doomed.sort(key=lambda c: c.first_time)
    chosen: list[StoredChunk] = []
    total = 0
    for chunk in doomed:
        if chosen and total + chunk.positions > batch:
            break
        chosen.append(chunk)
        total += chunk.positions
    cut = [c for c in chosen if c.last_time >= stop]
    data = chunk_data(conn, [c.id for c in cut])
    kept = {c.id: window(data[c.id], stop, None) for c in cut if c.id in data}
    plan = _Rewrite([c.id for c in chosen],
                    [(c.icao, kept[c.id]) for c in cut if c.span == DAY and c.id in kept],
                    [(c.icao, kept[c.id]) for c in cut if c.span == HOUR and c.id in kept])
    plan.deleted = total - sum(len(k[TIME]) for k in kept.values())
    return plan, max((c.thinned for c in cut if c.span == DAY), default=0)


def delete_positions(
    engine: Engine,
    older_than: datetime,
    *,
    batch: int = DEFAULT_BATCH,
    deadline: float | None = None,
) -> Progress:
    """Delete positions older than ``older_than``, about ``batch`` positions per
    transaction."""
    stop = _epoch(older_than)
    progress = Progress()
    _merge_older_log(engine, stop)
    while True:
        if _expired(deadline):
            progress.finished = False
            return progress
        with engine.connect() as conn:
            planned = _plan_deleting(conn, stop, batch)
        if planned is None:
            return progress
        plan, thinned_to = planned
        plan.apply(engine, thinned_to, progress)


def free_pages(engine: Engine) -> tuple[int, int]:
    """SQLite's (freelist pages, page size); (0, 0) on other databases."""
    if engine.dialect.name != "sqlite":
        return 0, 0
    with engine.connect() as conn:
        free = conn.exec_driver_sql("PRAGMA freelist_count").scalar()
        size = conn.exec_driver_sql("PRAGMA page_size").scalar()
    return int(free or 0), int(size or 0)


def reclaim_space(engine: Engine, max_pages: int, *, keep_free_pages: int = 0) -> int:
    """Give at most ``max_pages`` free SQLite pages back to the file system; how many.

    Free pages beyond ``keep_free_pages`` only: new positions reuse free pages,
    and handing back space that is about to be needed again costs writes.
    PostgreSQL's autovacuum does this job there, so this does nothing.
    """
    free, _size = free_pages(engine)
    pages = min(max_pages, free - keep_free_pages)
    if pages <= 0:
        return 0
    with engine.connect() as conn:
        # sqlite3's execute() steps a statement once, and this pragma frees one page
        # per step; executescript() runs it to the end.
        raw: Any = conn.connection.dbapi_connection
        raw.executescript(f"PRAGMA incremental_vacuum({int(pages)});")
    after, _size = free_pages(engine)
    return free - after


@dataclass(slots=True)
class RetentionReport:
    """One run's work; ``caught_up`` False means the time budget ran out first."""

    thinned: int = 0
    scanned: int = 0
    deleted: int = 0
    pages_reclaimed: int = 0
    bytes_reclaimed: int = 0
    seconds: float = 0.0
    caught_up: bool = True

    @property
    def did_something(self) -> bool:
        return bool(self.thinned or self.deleted or self.pages_reclaimed)

    def render(self) -> str:
        return (
            f"retention: thinned {self.thinned:,} positions ({self.scanned:,} read), "
            f"deleted {self.deleted:,} old positions, reclaimed "
            f"{self.bytes_reclaimed / 1e6:.1f} MB in {self.seconds:.1f} s"
            + ("" if self.caught_up else "; more next run")
        )


class Retention:
    """Thinning, deletion and space reclaiming for one database, run from a scheduled job.

    ``section`` is the ``[retention]`` settings: ``thin_after``,
    ``thin_interval``, ``delete_after`` (seconds, 0 turns a step off),
    ``batch_rows``, ``run_seconds``, ``vacuum_pages`` and ``keep_free_mb``.
    """

    def __init__(self, engine: Engine, section: Mapping[str, Any]) -> None:
        self.engine = engine
        self.section = section
        self.thinned_until: int | None = None

    def run(self, now: datetime | None = None) -> RetentionReport:
        """One bounded run: at most ``run_seconds`` of batches, the rest next time."""
        cfg = self.section
        now = now or datetime.now(UTC)
        began = time.monotonic()
        deadline = began + cfg["run_seconds"]
        batch = cfg["batch_rows"]
        report = RetentionReport()
        if cfg["delete_after"] > 0:
            gone = delete_positions(
                self.engine, _bound(now, cfg["delete_after"]), batch=batch, deadline=deadline,
            )
            report.deleted = gone.deleted
            report.caught_up = gone.finished
        interval = cfg["thin_interval"]
        if cfg["thin_after"] > 0 and interval >= 1 and report.caught_up:
            done = thin_positions(
                self.engine, _bound(now, cfg["thin_after"]), interval,
                batch=batch, since=self.thinned_until, deadline=deadline,
            )
            self.thinned_until = done.until
            report.thinned, report.scanned = done.deleted, done.scanned
            report.caught_up = done.finished
        _free, page_size = free_pages(self.engine)
        if page_size and cfg["vacuum_pages"] > 0:
            keep = int(cfg["keep_free_mb"] * 1e6) // page_size
            report.pages_reclaimed = reclaim_space(
                self.engine, cfg["vacuum_pages"], keep_free_pages=keep
            )
            report.bytes_reclaimed = report.pages_reclaimed * page_size
        report.seconds = time.monotonic() - began
        if report.did_something:
            log.info("%s", report.render())
        return report


def _bound(now: datetime, age_s: float) -> datetime:
    """``now - age_s``, down to a whole UTC day when the age is a day or more: each
    aircraft's day is then thinned (or deleted) once, in one piece."""
    bound = now - timedelta(seconds=age_s)
    if age_s < DAY:
        return bound
    day = int(bound.timestamp()) // DAY * DAY
    return datetime.fromtimestamp(day, UTC)
