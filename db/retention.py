"""Retention: thin old positions to one per aircraft per interval, delete older ones.

Months of full-rate positions do not fit on an SD card, but a track at one
point a minute still shows where an aircraft went. Work goes in small
batches, each its own short transaction, because SQLite has one writer: the
daemon's :class:`~db.store.Store` waits (busy timeout) at most one batch, never
a whole run. Alerts, aircraft, callsigns, sources and the watchlist are never
touched.

How far thinning got is kept in memory by :class:`Retention`, so each run only
reads positions that became old enough since the last one. After a restart
the first runs read the already thinned history once more (reads only: thinning
is idempotent, nothing is deleted twice) until they catch up.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import BigInteger, Boolean, Engine, Integer, column, func, select, table

log = logging.getLogger(__name__)

K = TypeVar("K")  # an aircraft's key: the stored integer here, an address string in tests

DEFAULT_BATCH = 20_000  # ~0.3 s a batch on a PC; smaller batches rewrite index pages more often

# The positions table with raw column types: epoch seconds and addresses stay
# integers here, which saves converting every row to Python values and back.
_P = table(
    "positions",
    column("icao", Integer),
    column("time", BigInteger),
    column("on_ground", Boolean),
)


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
    rows: Iterable[tuple[K, int, bool | None]], interval_s: int
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
    kept_ground: bool | None = None
    for icao, t, ground in rows:
        bucket = t // interval_s
        if icao != last_icao or bucket != last_bucket or ground != kept_ground:
            last_icao, last_bucket, kept_ground = icao, bucket, ground
        else:
            drop.append((icao, t))
    return drop


def _oldest(engine: Engine) -> int | None:
    with engine.connect() as conn:
        value = conn.execute(select(func.min(_P.c.time))).scalar()
    return None if value is None else int(value)


def _nth_time(engine: Engine, start: int, stop: int, n: int) -> int | None:
    """The time of the ``n``-th position (0-based) in [start, stop), None if fewer."""
    query = (
        select(_P.c.time)
        .where(_P.c.time >= start, _P.c.time < stop)
        .order_by(_P.c.time)
        .offset(n)
        .limit(1)
    )
    with engine.connect() as conn:
        value = conn.execute(query).scalar()
    return None if value is None else int(value)



def _delete_keys(engine: Engine, keys: list[tuple[int, int]]) -> None:
    """Delete positions by key in one transaction.

    Straight to the driver: SQLAlchemy's per-row parameter handling took
    longer than the deleting itself.
    """
    mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
    sql = f"DELETE FROM positions WHERE icao = {mark} AND time = {mark}"
    with engine.begin() as conn:
        conn.exec_driver_sql(sql, keys)


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

    Works through time in windows of whole buckets holding about ``batch``
    rows: each window is read, then its surplus deleted in one short
    transaction. Starts at ``since`` (epoch seconds, from an earlier
    ``Progress.until``) or at the oldest position, and stops early once the
    ``time.monotonic()`` ``deadline`` has passed (``finished`` False).
    """
    interval = max(int(interval_s), 1)
    stop = _epoch(older_than) // interval * interval
    progress = Progress(until=since)
    start = since if since is not None else _oldest(engine)
    if start is None:
        return progress
    start = start // interval * interval
    while start < stop:
        if _expired(deadline):
            progress.finished = False
            break
        nth = _nth_time(engine, start, stop, batch)
        end = stop if nth is None else max(nth // interval * interval, start + interval)
        query = (
            select(_P.c.icao, _P.c.time, _P.c.on_ground)
            .where(_P.c.time >= start, _P.c.time < end)
            .order_by(_P.c.icao, _P.c.time)
        )
        with engine.connect() as conn:
            rows = [(r[0], int(r[1]), r[2]) for r in conn.execute(query)]
        doomed = rows_to_drop(rows, interval)
        if doomed:
            _delete_keys(engine, doomed)
        progress.scanned += len(rows)
        progress.deleted += len(doomed)
        progress.batches += 1
        progress.until = start = end
    return progress


def delete_positions(
    engine: Engine,
    older_than: datetime,
    *,
    batch: int = DEFAULT_BATCH,
    deadline: float | None = None,
) -> Progress:
    """Delete positions older than ``older_than``, about ``batch`` rows per transaction."""
    stop = _epoch(older_than)
    progress = Progress()
    while True:
        if _expired(deadline):
            progress.finished = False
            return progress
        oldest = _oldest(engine)
        if oldest is None or oldest >= stop:
            return progress
        nth = _nth_time(engine, oldest, stop, batch)
        # Rows sharing the batch's last second go in this batch too: a few, never many.
        bound = stop if nth is None else max(nth, oldest + 1)
        with engine.begin() as conn:
            deleted = conn.execute(_P.delete().where(_P.c.time < bound)).rowcount
        progress.deleted += deleted
        progress.batches += 1


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
                self.engine, now - timedelta(seconds=cfg["delete_after"]),
                batch=batch, deadline=deadline,
            )
            report.deleted = gone.deleted
            report.caught_up = gone.finished
        interval = cfg["thin_interval"]
        if cfg["thin_after"] > 0 and interval >= 1 and report.caught_up:
            thinned = thin_positions(
                self.engine, now - timedelta(seconds=cfg["thin_after"]), interval,
                batch=batch, since=self.thinned_until, deadline=deadline,
            )
            self.thinned_until = thinned.until
            report.thinned, report.scanned = thinned.deleted, thinned.scanned
            report.caught_up = thinned.finished
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
