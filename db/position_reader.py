"""Reading stored positions: the chunks and the log of :mod:`db.positions`, as one history.

Every reader of positions comes here (history, maps, exports, the web page, digest,
status): it sees what is committed, whether the writer has merged it into chunks yet or
not. One aircraft's history is one key lookup per hour (full-rate chunks) or day
(thinned chunks) plus the log's blocks that hold it; many aircraft at once scan the
periods instead. Stdlib only (SQL text on a :class:`db.reader.Reader`), so the query
commands stay free of SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from flightwatch.db.blocks import (
    LAT,
    LON,
    TIME,
    Block,
    Columns,
    concat,
    normalised,
    ordered,
    selected,
    window,
)
from flightwatch.db.reader import Reader

HOUR = 3600
DAY = 86400
SPANS = (DAY, HOUR)  # oldest data first: thinned days, then full-rate hours
#: A commit's positions go to the log in ``parts`` blocks (a power of two up to this),
#: aircraft by ``icao % parts``: blocks of about ``PART_BYTES`` fill the file's pages (a
#: 2 KB block took a 4 KB page of its own), and a query for one aircraft inflates its
#: part, not the whole commit. The merge works through :data:`MAX_PARTS` partitions.
MAX_PARTS = 16
PART_BYTES = 8192
BYTES_PER_POSITION = 6  # about what a position packs to in a block


def parts_for(positions: int) -> int:
    """How many log blocks a commit of ``positions`` is cut into."""
    parts = 1
    while parts < MAX_PARTS and positions * BYTES_PER_POSITION > parts * PART_BYTES:
        parts *= 2
    return parts
#: IN lists are cut to this many values (SQLite's limit on terms, and shorter plans).
IN_LIMIT = 500
#: Up to this many aircraft are read by key lookups, one per aircraft and period; more
#: scan the periods' chunks once (a lookup costs about what scanning 15 chunks does).
SEEK_AIRCRAFT = 64
#: A query for every aircraft over at most this many hours reads them in one scan.
SCAN_HOURS = 6

BBox = tuple[int, int, int, int]  # min_lon, min_lat, max_lon, max_lat as stored integers


def in_list(values: Iterable[int]) -> str:
    """Integers as the inside of an SQL IN list (ints only: nothing to escape)."""
    return ", ".join(str(int(v)) for v in values) or "NULL"


def cut(values: Sequence[Any], size: int = IN_LIMIT) -> list[Sequence[Any]]:
    return [values[i:i + size] for i in range(0, len(values), size)]


@dataclass(frozen=True, slots=True)
class _Query:
    since: int | None
    until: int | None
    bbox: BBox | None

    def chunk_filter(self) -> str:
        """SQL conditions on a chunk row (time window and bounding box overlap)."""
        terms = []
        if self.since is not None:
            terms.append(f" AND last_time >= {int(self.since)}")
        if self.until is not None:
            terms.append(f" AND first_time <= {int(self.until)}")
        if self.bbox is not None:
            min_lon, min_lat, max_lon, max_lat = map(int, self.bbox)
            terms.append(f" AND max_lat >= {min_lat} AND min_lat <= {max_lat}"
                         f" AND max_lon >= {min_lon} AND min_lon <= {max_lon}")
        return "".join(terms)

    def exact(self, columns: Columns) -> Columns:
        """Just the positions inside the window and the box."""
        columns = window(columns, self.since, self.until)
        if self.bbox is not None and columns[TIME]:
            min_lon, min_lat, max_lon, max_lat = self.bbox
            columns = selected(columns, [
                min_lat <= lat <= max_lat and min_lon <= lon <= max_lon
                for lat, lon in zip(columns[LAT], columns[LON], strict=True)])
        return columns


def tracks(
    reader: Reader,
    *,
    icaos: Iterable[int] | None = None,
    since: int | None = None,
    until: int | None = None,
    bbox: BBox | None = None,
) -> Iterator[tuple[int, Columns]]:
    """Each aircraft's stored positions (``since <= time <= until``, Unix seconds; inside
    ``bbox``), by address, in time order, one position per second."""
    query = _Query(since, until, bbox)
    periods = {span: _periods(reader, span, since, until) for span in SPANS}
    log = _Log(reader, query, None if icaos is None else sorted(set(icaos)))
    if icaos is not None:
        wanted = sorted(set(icaos))
        if len(wanted) <= SEEK_AIRCRAFT:
            for icao in wanted:
                yield from _combined(icao, _seek(reader, query, periods, icao), log, query)
            return
        scanned = _scan(reader, query, periods, wanted)
    elif len(periods[HOUR]) + 24 * len(periods[DAY]) <= SCAN_HOURS:
        scanned = _scan(reader, query, periods, None)
    else:
        every = sorted(_addresses(reader, query, periods) | log.addresses())
        for icao in every:
            yield from _combined(icao, _seek(reader, query, periods, icao), log, query)
        return
    for icao in sorted(set(scanned) | log.addresses()):
        yield from _combined(icao, scanned.get(icao, []), log, query)


def _combined(icao: int, chunks: list[Columns], log: _Log, query: _Query
              ) -> Iterator[tuple[int, Columns]]:
    """One aircraft's chunks (already in time order) and log blocks as one track."""
    parts = [query.exact(c) for c in (*chunks, *log.columns(icao))]
    parts = [p for p in parts if p[TIME]]
    if not parts:
        return
    joined = concat(parts)
    yield icao, joined if ordered(joined) else normalised(joined)


def _periods(reader: Reader, span: int, since: int | None, until: int | None) -> list[int]:
    """Periods of ``span`` the query may need: those between the stored first and last."""
    row = next(iter(reader.rows(
        "SELECT min(period), max(period) FROM position_chunks WHERE span = :span",
        {"span": span})), (None, None))
    low, high = row[0], row[1]
    if low is None or high is None:
        return []
    if since is not None:  # a chunk's period starts at or before its first position
        low = max(low, since // span)
    if until is not None:
        high = min(high, until // span)
    return list(range(int(low), int(high) + 1))


def _seek(reader: Reader, query: _Query, periods: dict[int, list[int]], icao: int
          ) -> list[Columns]:
    """One aircraft's chunks by key lookups, thinned days first, each in time order."""
    out: list[Columns] = []
    for span in SPANS:
        for some in cut(periods[span]):
            rows = reader.rows(
                f"SELECT data FROM position_chunks WHERE span = {span} AND period IN "
                f"({in_list(some)}) AND icao = {int(icao)}{query.chunk_filter()} "
                "ORDER BY period, first_time")
            out.extend(c for (data,) in rows if (c := Block(data).columns(icao)) is not None)
    return out


def _scan(reader: Reader, query: _Query, periods: dict[int, list[int]],
          icaos: Sequence[int] | None) -> dict[int, list[Columns]]:
    """Chunks of the periods (of ``icaos``), by aircraft, each aircraft's in time order."""
    aircraft = "" if icaos is None else f" AND icao IN ({in_list(icaos)})"
    found: dict[int, list[tuple[int, int, bytes]]] = {}
    for span in SPANS:
        if not periods[span]:
            continue
        rows = reader.rows(
            f"SELECT icao, first_time, data FROM position_chunks WHERE span = {span} "
            f"AND period BETWEEN {periods[span][0]} AND {periods[span][-1]}"
            f"{aircraft}{query.chunk_filter()}")
        for icao, first, data in rows:
            found.setdefault(icao, []).append((span == HOUR, first, data))
    out: dict[int, list[Columns]] = {}
    for icao, chunks in found.items():
        chunks.sort(key=lambda c: (c[0], c[1]))
        out[icao] = [c for _h, _f, data in chunks
                     if (c := Block(data).columns(icao)) is not None]
    return out


def _addresses(reader: Reader, query: _Query, periods: dict[int, list[int]]) -> set[int]:
    found: set[int] = set()
    for span in SPANS:
        if periods[span]:
            found.update(row[0] for row in reader.rows(
                f"SELECT DISTINCT icao FROM position_chunks WHERE span = {span} AND period "
                f"BETWEEN {periods[span][0]} AND {periods[span][-1]}{query.chunk_filter()}"))
    return found


class _Log:
    """The log's blocks a query needs (those of the parts its aircraft are in), each
    inflated once."""

    def __init__(self, reader: Reader, query: _Query, icaos: Sequence[int] | None) -> None:
        terms = []
        if query.since is not None:
            terms.append(f" AND last_time >= {int(query.since)}")
        if query.until is not None:
            terms.append(f" AND first_time <= {int(query.until)}")
        rows = reader.rows(f"SELECT id, parts, part FROM position_log WHERE 1 = 1"
                           f"{''.join(terms)} ORDER BY id")
        few = icaos if icaos is not None and len(icaos) <= SEEK_AIRCRAFT else None
        ids = [row_id for row_id, parts, part in rows
               if few is None or any(icao % parts == part for icao in few)]
        self.blocks = [Block(data) for some in cut(ids) for (data,) in reader.rows(
            f"SELECT data FROM position_log WHERE id IN ({in_list(some)}) ORDER BY id")]
        self.wanted = None if icaos is None else set(icaos)

    def addresses(self) -> set[int]:
        found = {icao for block in self.blocks for icao in block.addresses}
        return found if self.wanted is None else found & self.wanted

    def columns(self, icao: int) -> list[Columns]:
        return [c for block in self.blocks if (c := block.columns(icao)) is not None]


# --- summaries ------------------------------------------------------------------------


def count(reader: Reader, since: int | None = None, until: int | None = None) -> int:
    """Positions stored with ``since <= time <= until`` (all without bounds).

    Whole chunks count by their row; only those cut by a bound are decoded. A position
    committed twice and not yet merged (a capture replayed again) counts twice.
    """
    terms = []
    if since is not None:
        terms.append(f" AND last_time >= {int(since)}")
    if until is not None:
        terms.append(f" AND first_time <= {int(until)}")
    where = "".join(terms)
    total = 0
    for table in ("position_chunks", "position_log"):
        inside = ""
        if since is not None:
            inside += f" AND first_time >= {int(since)}"
        if until is not None:
            inside += f" AND last_time <= {int(until)}"
        total += int(reader.scalar(
            f"SELECT coalesce(sum(positions), 0) FROM {table} WHERE 1 = 1{where}{inside}") or 0)
        if not inside:
            continue
        cut_rows = reader.rows(
            f"SELECT data FROM {table} WHERE 1 = 1{where} AND NOT (1 = 1{inside})")
        for (data,) in cut_rows:
            for _icao, columns in Block(data).all():
                total += len(window(columns, since, until)[TIME])
    return total


def latest_time(reader: Reader) -> int | None:
    """The newest stored position's time (Unix seconds), None when there is none."""
    newest = [reader.scalar(f"SELECT max(last_time) FROM {table}")
              for table in ("position_chunks", "position_log")]
    known = [int(t) for t in newest if t is not None]
    return max(known) if known else None
