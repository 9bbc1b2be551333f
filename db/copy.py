"""Copy a whole flightwatch database to another URL (SQLite -> PostgreSQL, or a new file).

Rows go over in batches, one transaction per batch, with ON CONFLICT DO NOTHING,
so an interrupted copy can simply be run again (with ``merge``). Surrogate ids
(``sources.id``, ``alerts.id``, ...) are never copied: the target assigns its own
and every reference to them is translated through the row's natural key (a
source's name, an alert's dedupe key). That keeps PostgreSQL's sequences right
and lets two receivers' histories be merged into one database.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Table,
    UniqueConstraint,
    func,
    select,
    text,
    type_coerce,
)
from sqlalchemy import column as column_clause
from sqlalchemy import table as table_clause
from sqlalchemy.engine import make_url
from tqdm import tqdm

from flightwatch.db.blocks import SOURCE, Block, Columns, concat, normalised
from flightwatch.db.engine import DatabaseError, connect
from flightwatch.db.models import Base
from flightwatch.db.position_reader import count as count_positions
from flightwatch.db.positions import lock_positions, merge_log, write_tracks
from flightwatch.db.reader import EngineReader
from flightwatch.db.store import dialect_insert
from flightwatch.db.types import INTEGER_ENCODED
from flightwatch.decoder.redaction import redact

log = logging.getLogger(__name__)

DEFAULT_BATCH_ROWS = 10_000
#: Copied position by position (source ids live inside their blocks), not row by row.
POSITION_TABLES = frozenset({"position_log", "position_chunks"})


class CopyError(DatabaseError):
    """The copy cannot start or did not arrive complete; the message says why."""


class TargetNotEmpty(CopyError):
    """The target already holds rows and merging was not asked for."""


@dataclass(frozen=True, slots=True)
class TableCopy:
    """What happened to one table: rows read from the source, rows in the target after."""

    name: str
    source_rows: int
    target_rows: int


@dataclass(slots=True)
class CopyReport:
    source: str
    target: str
    tables: list[TableCopy] = field(default_factory=list)

    def render(self) -> str:
        lines = [f"copied {self.source} -> {self.target}"]
        lines += [
            f"  {t.name:<12} {t.source_rows:>12,} rows read, {t.target_rows:>12,} in the target"
            for t in self.tables
        ]
        return "\n".join(lines)


def _surrogate(table: Table) -> Column[Any] | None:
    """The table's autoincrement integer id, if its primary key is one."""
    pk = list(table.primary_key.columns)
    if len(pk) != 1 or pk[0].foreign_keys or pk[0].autoincrement is False:
        return None
    return pk[0] if pk[0].type.python_type is int else None


def _natural_key(table: Table) -> list[Column[Any]]:
    """Columns that identify a row of a table with a surrogate id (its first unique key)."""
    for column in table.columns:
        if column.unique:
            return [column]
    for constraint in sorted(table.constraints, key=lambda c: str(c.name or "")):
        if isinstance(constraint, UniqueConstraint) and len(constraint.columns):
            return list(constraint.columns)
    raise CopyError(f"table {table.name} has a generated id but no unique key to match rows by")


def _count(engine: Engine, table: Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


class _IdMaps:
    """Source id -> target id for every table with a surrogate key, filled table by table."""

    def __init__(self) -> None:
        self._maps: dict[str, dict[int, int]] = {}

    def build(self, source: Engine, target: Engine, table: Table, id_col: Column[Any]) -> None:
        key = _natural_key(table)
        stmt = select(id_col, *key)
        with source.connect() as conn:
            by_key = {tuple(row[1:]): row[0] for row in conn.execute(stmt)}
        with target.connect() as conn:
            self._maps[table.name] = {
                by_key[tuple(row[1:])]: row[0]
                for row in conn.execute(stmt)
                if tuple(row[1:]) in by_key
            }

    def map_of(self, table: str) -> dict[int, int]:
        """Source id -> target id of one table (empty when it has no rows)."""
        return self._maps.get(table, {})

    def translators(self, table: Table) -> list[tuple[str, dict[int, int], str]]:
        """(column, id map, referred table) for each foreign key into a remapped table."""
        return [
            (fk.parent.name, self._maps[fk.column.table.name], fk.column.table.name)
            for fk in sorted(table.foreign_keys, key=lambda fk: fk.parent.name)
            if fk.column.table.name in self._maps
        ]


def _raw_type(col: Column[Any]) -> Any:
    """The type a value travels in: integer-encoded columns (whole seconds, addresses,
    scaled coordinates) stay integers, with no round trip through Python values."""
    return col.type.impl if isinstance(col.type, INTEGER_ENCODED) else col.type


def _rows(
    source: Engine, columns: list[Column[Any]], batch_rows: int
) -> Iterator[list[list[Any]]]:
    stmt = select(*(type_coerce(c, _raw_type(c)).label(c.name) for c in columns))
    with source.connect() as conn:
        result = conn.execution_options(yield_per=batch_rows).execute(stmt)
        for part in result.partitions():
            yield [list(row) for row in part]


def _copy_in(conn: Connection, table: Table, names: list[str], rows: list[list[Any]]) -> None:
    """PostgreSQL: COPY into a scratch table, then INSERT ... ON CONFLICT DO NOTHING.

    Several times faster than multi-row INSERTs for the positions table.
    """
    stage = f"_fw_copy_{table.name}"
    listed = ", ".join(f'"{n}"' for n in names)
    conn.exec_driver_sql(f'CREATE TEMP TABLE "{stage}" (LIKE "{table.name}") ON COMMIT DROP')
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f'COPY "{stage}" ({listed}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(row)
    conn.exec_driver_sql(
        f'INSERT INTO "{table.name}" ({listed}) SELECT {listed} FROM "{stage}" '
        "ON CONFLICT DO NOTHING"
    )


def _translate(
    rows: list[list[Any]], names: list[str],
    translators: list[tuple[str, dict[int, int], str]], table: str,
) -> None:
    for name, id_map, referred in translators:
        i = names.index(name)
        for row in rows:
            old = row[i]
            if old is None:
                continue
            new = id_map.get(old)
            if new is None:
                raise CopyError(
                    f"{table}.{name} = {old} refers to a row of {referred} that was not copied"
                )
            row[i] = new


def copy_database(
    source_url: str,
    target_url: str,
    *,
    merge: bool = False,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    progress: bool = False,
) -> CopyReport:
    """Copy every table of ``source_url`` into ``target_url``; both are upgraded first.

    Refuses a target that holds any rows unless ``merge``; with ``merge`` rows the
    target already has (same key) are kept as they are. Raises :class:`CopyError`
    when the target ends up with fewer rows than the source in any table. Stop
    the daemon writing to the source first: rows it adds during the copy upset the count.
    """
    if make_url(source_url) == make_url(target_url):
        raise CopyError("the source and the target are the same database")
    source = connect(source_url)
    target = connect(target_url)
    try:
        everything = list(Base.metadata.sorted_tables)
        tables = [t for t in everything if t.name not in POSITION_TABLES]
        if not merge:
            filled = [t.name for t in everything if _count(target, t)]
            if filled:
                raise TargetNotEmpty(
                    f"the target {redact(target_url)} already holds rows "
                    f"({', '.join(filled)}); copy into an empty database or use --merge"
                )
        merge_log(source)  # the source's recent positions into chunks: exact counts
        counts = {t.name: _count(source, t) for t in tables}
        counts["positions"] = count_positions(EngineReader(source))
        report = CopyReport(redact(source_url), redact(target_url))
        ids = _IdMaps()
        with tqdm(total=sum(counts.values()), unit=" rows", unit_scale=True,
                  disable=not progress, desc="copy") as bar:
            for table in tables:
                _copy_table(source, target, table, ids, batch_rows, bar)
                done = TableCopy(table.name, counts[table.name], _count(target, table))
                report.tables.append(done)
                log.debug("copied %s: %d rows", table.name, done.source_rows)
            _copy_positions(source, target, ids, batch_rows, bar)
            report.tables.append(TableCopy("positions", counts["positions"],
                                           count_positions(EngineReader(target))))
        _verify(report, exact=not merge)
        return report
    finally:
        source.dispose()
        target.dispose()


def _copy_table(
    source: Engine, target: Engine, table: Table, ids: _IdMaps, batch_rows: int, bar: tqdm[Any]
) -> None:
    id_col = _surrogate(table)
    translators = ids.translators(table)
    columns = [c for c in table.columns if c is not id_col]
    names = [c.name for c in columns]
    raw = table_clause(table.name, *(column_clause(c.name, _raw_type(c)) for c in columns))
    insert = dialect_insert(target, raw)  # type: ignore[arg-type]
    if id_col is not None:
        insert = insert.on_conflict_do_nothing(
            index_elements=[c.name for c in _natural_key(table)]
        )
    else:
        insert = insert.on_conflict_do_nothing()
    bulk = id_col is None and target.dialect.name == "postgresql"
    for rows in _rows(source, columns, batch_rows):
        _translate(rows, names, translators, table.name)
        with target.begin() as conn:
            if bulk:
                _copy_in(conn, table, names, rows)
            else:
                conn.execute(insert, [dict(zip(names, row, strict=True)) for row in rows])
        bar.update(len(rows))
    if id_col is not None and any(
        fk.column.table is table for other in Base.metadata.tables.values()
        for fk in other.foreign_keys
    ):
        ids.build(source, target, table, id_col)


def _copy_positions(source: Engine, target: Engine, ids: _IdMaps, batch_rows: int,
                    bar: tqdm[Any]) -> None:
    """Positions chunk by chunk, their source ids translated, merged into the target's
    chunks as a merge of the log would (a position the target has wins its second)."""
    table = Base.metadata.tables["sources"]  # positions refer to it inside their blocks
    ids.build(source, target, table, table.c.id)
    sources = ids.map_of("sources")
    pending: dict[tuple[int, int, int], list[Columns]] = {}
    size = 0

    def write() -> None:
        with target.begin() as conn:
            lock_positions(conn)
            for span, level in sorted({(s, t) for s, t, _i in pending}):
                write_tracks(conn, [(icao, normalised(concat(parts)))
                                    for (s, t, icao), parts in sorted(pending.items())
                                    if (s, t) == (span, level)], span=span, thinned=level)
        bar.update(size)
        pending.clear()

    with source.connect() as conn:
        rows = conn.execution_options(yield_per=200).execute(text(
            "SELECT span, icao, thinned, data FROM position_chunks ORDER BY id"))
        for span, icao, level, data in rows:
            columns = Block(data).columns(icao)
            if columns is None:
                continue
            names = columns[SOURCE]
            for i, old in enumerate(names):
                if old:
                    new = sources.get(old)
                    if new is None:
                        raise CopyError(f"positions of {icao:06X} refer to source {old}, "
                                        "which was not copied")
                    names[i] = new
            pending.setdefault((span, level, icao), []).append(columns)
            size += len(columns[SOURCE])
            if size >= batch_rows:
                write()
                size = 0
    if pending:
        write()


def _verify(report: CopyReport, *, exact: bool) -> None:
    short = [
        t for t in report.tables
        if (t.target_rows != t.source_rows if exact else t.target_rows < t.source_rows)
    ]
    if short:
        detail = ", ".join(f"{t.name}: {t.source_rows} read, {t.target_rows} stored"
                           for t in short)
        raise CopyError(f"row counts differ after the copy ({detail})")

