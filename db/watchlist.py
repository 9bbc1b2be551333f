"""The watchlist in the database: configured files synced in, imports and hand-made entries.

The rule engine reads one table, so every way of adding an airframe ends up here.
Each row records where it came from (``origin``), and that decides what may change it:

- ``manual``: added with ``flightwatch watchlist add``. Neither configured files nor
  imports overwrite it; only ``add`` and ``remove`` change it.
- ``import:<path>``: written by ``flightwatch watchlist import``. Configured files
  neither overwrite nor remove it; a later import updates it.
- ``<path>``: from a ``[watchlist] files`` entry, written by :func:`sync_files` (daemon
  start and reload). Sync updates it, and removes it once no configured file lists
  that address any more (including when its file was taken out of the configuration).

Writes are bulk upserts in one transaction: the whole plane-alert-db file (17,198
rows) goes in within a few seconds, even on a Raspberry Pi's SD card.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, delete, func, select

from flightwatch.db.models import WatchlistEntry as WatchlistRow
from flightwatch.db.store import dialect_insert
from flightwatch.db.watchlist_file import (
    RowProblem,
    WatchlistEntry,
    WatchlistError,
    merge_entries,
    read_watchlist,
)
from flightwatch.db.watchlist_queries import stored_entries
from flightwatch.decoder import normalise_icao

log = logging.getLogger(__name__)

_TABLE: Table = WatchlistRow.__table__  # type: ignore[assignment]

MANUAL = "manual"
IMPORT_PREFIX = "import:"

# WatchlistEntry field -> column of the watchlist table.
_COLUMNS = {
    "registration": "registration",
    "operator": "operator",
    "aircraft_type": "aircraft_type",
    "category": "category",
    "group": "group_name",
}


def _length(column: str) -> int | None:
    """The column's declared text length (PostgreSQL enforces it; SQLite does not)."""
    return getattr(_TABLE.c[column].type, "length", None)


_LIMITS = {column: _length(column) for column in _COLUMNS.values()}
_CHUNK = 1000

Progress = Callable[[int, int], None]
"""Called as ``progress(rows_written, rows_to_write)`` while a long write runs."""


@dataclass(slots=True)
class SyncReport:
    """What :func:`sync_files` changed. ``kept``: listed, but a hand-made or imported row wins."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    kept: int = 0
    removed: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    clipped: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ImportReport:
    """What :func:`import_file` changed. ``kept``: in the file, but a hand-made row wins."""

    file: str
    format: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    kept: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    clipped: list[str] = field(default_factory=list)

    @property
    def imported(self) -> int:
        """Rows of the file now in the database as the file says."""
        return self.added + self.updated + self.unchanged


@dataclass(slots=True)
class _Plan:
    """Rows to upsert and how they relate to what is stored."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    kept: int = 0
    clipped: list[str] = field(default_factory=list)


def is_file_owned(origin: str | None) -> bool:
    """Whether :func:`sync_files` may change or remove a row with this origin."""
    return origin is None or not (origin == MANUAL or origin.startswith(IMPORT_PREFIX))


def _origin_of(path: str | Path, prefix: str = "") -> str:
    origin = prefix + str(Path(path).resolve())
    limit = _length("origin")
    if limit is not None and len(origin) > limit:
        raise WatchlistError(
            f"{path}: the path is longer than {limit} characters and cannot be recorded as "
            f"the watchlist rows' origin; move the file to a shorter path"
        )
    return origin


def _values(entry: WatchlistEntry, clipped: list[str]) -> dict[str, str | None]:
    """Column values of ``entry``: empty text as NULL, text cut to the column's length."""
    values: dict[str, str | None] = {}
    for name, column in _COLUMNS.items():
        text = getattr(entry, name) or None
        limit = _LIMITS[column]
        if text is not None and limit is not None and len(text) > limit:
            clipped.append(f"{entry.icao}: {name} cut to {limit} characters ({text!r})")
            text = text[:limit]
        values[column] = text
    return values


def _stored(conn: Any) -> dict[str, dict[str, Any]]:
    result = conn.execute(select(_TABLE))
    names = list(result.keys())
    return {row[0]: dict(zip(names, row, strict=True)) for row in result}


def _plan(
    entries: Iterable[tuple[WatchlistEntry, str]],
    stored: dict[str, dict[str, Any]],
    may_replace: Callable[[str | None], bool],
    now: datetime,
    *,
    fill_from_stored: bool,
) -> _Plan:
    """Decide, for each (entry, origin), whether to add, update, keep or leave it."""
    plan = _Plan()
    for entry, origin in entries:
        values = _values(entry, plan.clipped)
        old = stored.get(entry.icao)
        if old is not None and not may_replace(old["origin"]):
            plan.kept += 1
            continue
        if old is not None and fill_from_stored:
            values = {k: v if v is not None else old[k] for k, v in values.items()}
        if old is not None and old["origin"] == origin and all(
            old[k] == v for k, v in values.items()
        ):
            plan.unchanged += 1
            continue
        if old is None:
            plan.added += 1
        else:
            plan.updated += 1
        plan.rows.append({"icao": entry.icao, **values, "origin": origin, "updated": now})
    return plan


def _upsert(engine: Engine, conn: Any, rows: Sequence[dict[str, Any]], protect: Any,
            progress: Progress | None) -> None:
    """Insert or overwrite ``rows``; a conflicting row matching ``protect`` stays as it is.

    ``protect`` repeats the ownership rule inside the statement, so a row that became
    hand-made since :func:`_stored` read the table is still not overwritten.
    """
    if not rows:
        return
    stmt = dialect_insert(engine, _TABLE)
    columns = [*_COLUMNS.values(), "origin", "updated"]
    upsert = stmt.on_conflict_do_update(
        index_elements=[_TABLE.c.icao],
        set_={name: stmt.excluded[name] for name in columns},
        where=~protect,
    )
    for start in range(0, len(rows), _CHUNK):
        conn.execute(upsert, rows[start:start + _CHUNK])
        if progress is not None:
            progress(min(start + _CHUNK, len(rows)), len(rows))


def _manual_clause() -> Any:
    return func.coalesce(_TABLE.c.origin, "") == MANUAL


def _user_owned_clause() -> Any:
    origin = func.coalesce(_TABLE.c.origin, "")
    return (origin == MANUAL) | origin.startswith(IMPORT_PREFIX)


def sync_files(
    engine: Engine, paths: Iterable[str | Path], *, now: datetime | None = None
) -> SyncReport:
    """Make the file-owned rows equal to the configured files (first file wins on duplicates).

    Raises :class:`WatchlistError` when a file cannot be used at all; then nothing changes.
    """
    now = now or datetime.now(UTC)
    report = SyncReport()
    loaded = []
    origin_of: dict[str, str] = {}
    for path in paths:
        result = read_watchlist(path)
        report.problems.extend(result.problems)
        origin = _origin_of(path)
        loaded.append((origin, result.entries, [0] * len(result.entries)))
        for entry in result.entries:
            origin_of.setdefault(entry.icao, origin)
    merged, duplicates = merge_entries(loaded)
    if duplicates:
        log.info("%d watchlist addresses are in more than one file; the first file wins",
                 len(duplicates))
    with engine.begin() as conn:
        stored = _stored(conn)
        plan = _plan(((e, origin_of[e.icao]) for e in merged), stored, is_file_owned, now,
                     fill_from_stored=False)
        _upsert(engine, conn, plan.rows, _user_owned_clause(), None)
        gone = [icao for icao, row in stored.items()
                if is_file_owned(row["origin"]) and icao not in origin_of]
        for start in range(0, len(gone), _CHUNK):
            conn.execute(delete(_TABLE).where(
                _TABLE.c.icao.in_(gone[start:start + _CHUNK]), ~_user_owned_clause()
            ))
    report.added, report.updated, report.unchanged = plan.added, plan.updated, plan.unchanged
    report.kept, report.removed, report.clipped = plan.kept, len(gone), plan.clipped
    log.info(
        "watchlist files synced: %d added, %d updated, %d unchanged, %d removed, "
        "%d left to hand-made or imported entries", report.added, report.updated,
        report.unchanged, report.removed, report.kept,
    )
    return report


def import_file(
    engine: Engine, path: str | Path, *, progress: Progress | None = None,
    now: datetime | None = None,
) -> ImportReport:
    """Import one watchlist file (either format): bad rows reported and skipped, the rest kept.

    Imported rows replace file-owned and earlier imported ones; a field the file leaves
    empty keeps its stored value. Hand-made rows are left alone (counted as ``kept``).
    Raises :class:`WatchlistError` when the file cannot be read or has no header.
    """
    now = now or datetime.now(UTC)
    result = read_watchlist(path)
    origin = _origin_of(path, IMPORT_PREFIX)
    with engine.begin() as conn:
        stored = _stored(conn)
        plan = _plan(((e, origin) for e in result.entries), stored,
                     lambda o: o != MANUAL, now, fill_from_stored=True)
        _upsert(engine, conn, plan.rows, _manual_clause(), progress)
    return ImportReport(
        str(path), result.format, plan.added, plan.updated, plan.unchanged, plan.kept,
        result.problems, plan.clipped,
    )


def add(
    engine: Engine,
    icao: str,
    registration: str | None = None,
    operator: str | None = None,
    aircraft_type: str | None = None,
    category: str | None = None,
    group: str | None = None,
    *,
    now: datetime | None = None,
) -> bool:
    """Add or update a hand-made entry; True if the address was new to the watchlist.

    Fields not given keep the stored values, so ``add 15002B --group RU_MOD`` on a row
    from a file only changes its group (and makes it hand-made: files no longer touch it).
    """
    address = normalise_icao(icao)
    if address is None:
        raise ValueError(f"{icao!r} is not a 24-bit ICAO address (6 hex digits)")
    given = WatchlistEntry(address, registration or "", operator or "", aircraft_type or "",
                           category or "", group or "")
    values = _values(given, [])
    with engine.begin() as conn:
        old = conn.execute(select(_TABLE).where(_TABLE.c.icao == address)).mappings().first()
        if old is not None:
            values = {k: v if v is not None else old[k] for k, v in values.items()}
        row = {"icao": address, **values, "origin": MANUAL, "updated": now or datetime.now(UTC)}
        stmt = dialect_insert(engine, _TABLE)
        conn.execute(stmt.on_conflict_do_update(
            index_elements=[_TABLE.c.icao],
            set_={name: stmt.excluded[name] for name in row if name != "icao"},
        ), row)
    return old is None


def remove(engine: Engine, icao: str) -> bool:
    """Delete the entry for ``icao``; False when there was none.

    A row from a configured file comes back at the next sync unless the file drops it.
    """
    address = normalise_icao(icao)
    if address is None:
        return False
    with engine.begin() as conn:
        return bool(conn.execute(delete(_TABLE).where(_TABLE.c.icao == address)).rowcount)


def entries(engine: Engine) -> list[WatchlistEntry]:
    """Every entry as the matcher takes it: ``Watchlist(entries(engine), prefixes, blocks)``."""
    return [
        WatchlistEntry(
            s.icao, s.registration or "", s.operator or "", s.aircraft_type or "",
            s.category or "", s.group or "",
        )
        for s in stored_entries(engine)
    ]
