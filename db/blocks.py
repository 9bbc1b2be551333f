"""Positions packed into compressed blocks: how the history is stored.

A stored position is about 6 bytes here instead of 52 as a table row: each aircraft's
positions are kept column by column, each column as the differences between
consecutive values in the narrowest integer type that holds them (a second's change of
latitude fits one or two bytes), and the whole block is deflated. The database then
writes a few bytes per position instead of rewriting a page per aircraft, which is
what an SD card wears out on (see :mod:`db.positions`).

A block holds one or more aircraft, each with positions in time order and at most one
per second. Values are the stored integers of :mod:`db.encoding` (1e-5 degrees, tenths
of a degree of track); ``None`` is allowed where a table column allowed NULL.

Layout (little-endian), after a version byte, deflated::

    u32 aircraft (n) | u32 positions (total) | u8 has-nulls * 9 | u8 typecode * 9
    i64 first value * 9 * n (column by column) | u32 address * n | u32 positions * n
    per column with nulls: u8 present * total
    per column: the differences within each aircraft, in its typecode

Decoding runs in C (``array``, ``itertools.accumulate``, ``zlib``), so reading a
block costs less than reading the same rows from a table; one aircraft of a block of
many decodes without the others.
"""

from __future__ import annotations

import struct
import sys
import zlib
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from itertools import accumulate, chain, compress, islice
from operator import lt, sub
from typing import Any

VERSION = 1
#: Column order of a block (and of :data:`Columns` tuples).
TIME, LAT, LON, ALTITUDE, SPEED, TRACK, RATE, GROUND, SOURCE = range(9)
COLUMNS = 9
#: Columns whose values may be None (the others never are: ``on_ground`` is stored as
#: 0/1/2 and the source id as 0 for none, see :func:`ground_code`).
NULLABLE = frozenset({ALTITUDE, SPEED, TRACK, RATE})

#: One aircraft's positions, column by column (lists of equal length).
Columns = tuple[list[Any], ...]

_LEVEL = 6
_WBITS = -15  # raw deflate: no header or checksum (SQLite checks its pages' structure)
_U32 = "I" if array("I").itemsize == 4 else "L"
_NARROW = (("b", 1 << 7), ("h", 1 << 15), ("i", 1 << 31), ("q", 1 << 63))
_BIG = sys.byteorder == "big"
GROUND_CODES = {False: 0, True: 1, None: 2}
GROUND_VALUES = (False, True, None)


class CorruptBlock(ValueError):
    """A stored block that cannot be decoded (truncated, or of an unknown version)."""


def _narrowest(values: Sequence[int]) -> str:
    if not values:
        return "b"
    low, high = min(values), max(values)
    for code, bound in _NARROW:
        if -bound <= low and high < bound:
            return code
    raise ValueError(f"value out of the 64-bit range: {low} .. {high}")


def _bytes_of(code: str, values: Sequence[int]) -> bytes:
    a = array(code, values)
    if _BIG:
        a.byteswap()
    return a.tobytes()


def encode(aircraft: Sequence[tuple[int, Columns]]) -> bytes:
    """A block of ``aircraft``: (24-bit address, columns) pairs, each aircraft's positions
    in time order. Empty aircraft are not allowed."""
    counts = [len(columns[TIME]) for _icao, columns in aircraft]
    if not all(counts):
        raise ValueError("every aircraft of a block needs at least one position")
    flags, codes, firsts, nulls, bodies = [], [], [], [], []
    for column in range(COLUMNS):
        has_nulls = column in NULLABLE and any(None in c[column] for _i, c in aircraft)
        deltas: list[int] = []
        for _icao, columns in aircraft:
            values = columns[column]
            if has_nulls:
                present = [v is not None for v in values]
                nulls.append(bytes(present))
                values = list(compress(values, present))
            firsts.append(values[0] if values else 0)
            deltas.extend(map(sub, values[1:], values[:-1]))
        code = _narrowest(deltas)
        flags.append(has_nulls)
        codes.append(ord(code))
        bodies.append(_bytes_of(code, deltas))
    header = struct.pack(_HEADER, len(aircraft), sum(counts), *flags, *codes)
    payload = b"".join((header, _bytes_of("q", firsts),
                        _bytes_of(_U32, [icao for icao, _c in aircraft]),
                        _bytes_of(_U32, counts), *nulls, *bodies))
    return bytes((VERSION,)) + zlib.compress(payload, _LEVEL, wbits=_WBITS)


class Block:
    """A stored block, inflated once: its aircraft, and any aircraft's positions."""

    __slots__ = ("_at", "_codes", "_counts", "_firsts", "_flags", "_index", "_n", "_raw",
                 "_starts", "_total", "addresses")

    def __init__(self, blob: bytes) -> None:
        if not blob or blob[0] != VERSION:
            raise CorruptBlock(f"unknown block version {bytes(blob[:1])!r}")
        try:
            raw = zlib.decompress(memoryview(blob)[1:], wbits=_WBITS)
        except zlib.error as exc:
            raise CorruptBlock(f"block does not inflate: {exc}") from exc
        if len(raw) < _HEADER_SIZE:
            raise CorruptBlock("block truncated")
        n, total, *rest = struct.unpack_from(_HEADER, raw)
        self._raw, self._n, self._total = raw, n, total
        self._flags, self._codes = rest[:COLUMNS], [chr(code) for code in rest[COLUMNS:]]
        at = _HEADER_SIZE
        self._firsts = _array(raw, "q", at, COLUMNS * n).tolist()
        at += 8 * COLUMNS * n
        self.addresses: list[int] = _array(raw, _U32, at, n).tolist()
        self._counts = _array(raw, _U32, at + 4 * n, n).tolist()
        self._at = at + 8 * n
        self._starts = [0, *accumulate(self._counts)]
        self._index: dict[int, int] | None = None

    def columns(self, icao: int) -> Columns | None:
        """One aircraft's positions; None when the block does not hold it."""
        if self._index is None:
            self._index = {a: k for k, a in enumerate(self.addresses)}
        k = self._index.get(icao)
        return None if k is None else self._decode([k])[0]

    def all(self) -> list[tuple[int, Columns]]:
        """Every aircraft, in the order they were encoded."""
        return list(zip(self.addresses, self._decode(range(self._n)), strict=True))

    def _decode(self, wanted: Sequence[int]) -> list[Columns]:
        raw, n, starts, counts = self._raw, self._n, self._starts, self._counts
        at = self._at
        masks: dict[int, bytes] = {}
        for column in range(COLUMNS):
            if self._flags[column]:
                masks[column] = raw[at:at + self._total]
                at += self._total
        out: list[list[list[Any]]] = [[] for _ in wanted]
        for column in range(COLUMNS):
            mask = masks.get(column)
            lengths = counts if mask is None else [
                mask[starts[k]:starts[k + 1]].count(1) for k in range(n)]
            code = self._codes[column]
            size = array(code).itemsize
            offsets = [0, *accumulate(max(length - 1, 0) for length in lengths)]
            for slot, k in enumerate(wanted):
                length = lengths[k]
                values: list[Any] = []
                if length:
                    deltas = _array(raw, code, at + offsets[k] * size, length - 1)
                    values = list(accumulate(deltas, initial=self._firsts[column * n + k]))
                if mask is not None:
                    values = _with_nulls(values, mask[starts[k]:starts[k + 1]])
                out[slot].append(values)
            at += offsets[-1] * size
        if at != len(raw):
            raise CorruptBlock("the block's length does not match its header")
        return [tuple(columns) for columns in out]


def decode(blob: bytes) -> list[tuple[int, Columns]]:
    """Every aircraft of a block, in the order they were encoded."""
    return Block(blob).all()


_HEADER = f"<II{COLUMNS}B{COLUMNS}B"
_HEADER_SIZE = struct.calcsize(_HEADER)


def _array(raw: bytes, code: str, at: int, count: int) -> array[Any]:
    a = array(code)
    end = at + count * a.itemsize
    if end > len(raw) or count < 0:
        raise CorruptBlock("block truncated")
    a.frombytes(raw[at:end])
    if _BIG:
        a.byteswap()
    return a


def _with_nulls(values: list[Any], present: bytes) -> list[Any]:
    it = iter(values)
    return [next(it) if flag else None for flag in present]


def ground_code(on_ground: bool | None) -> int:
    return GROUND_CODES[on_ground]


def iter_positions(columns: Columns) -> Iterator[tuple[Any, ...]]:
    """An aircraft's positions as rows (time, lat, lon, ..., ground code, source id)."""
    return zip(*columns, strict=True)


def rows_to_columns(rows: Sequence[Sequence[Any]]) -> Columns:
    """Rows of the nine columns back into columns."""
    if not rows:
        return empty()
    return tuple(list(column) for column in zip(*rows, strict=True))


def empty() -> Columns:
    return tuple([] for _ in range(COLUMNS))


def concat(parts: Sequence[Columns]) -> Columns:
    """Several stretches of one aircraft's positions, one after another."""
    if len(parts) == 1:
        return parts[0]
    return tuple(list(chain.from_iterable(part[c] for part in parts)) for c in range(COLUMNS))


def ordered(columns: Columns) -> bool:
    """Whether the times strictly increase (in order, none twice)."""
    times = columns[TIME]
    return all(map(lt, times, islice(times, 1, None)))


def normalised(columns: Columns) -> Columns:
    """In time order with one position per second: of two with the same second the
    earlier in ``columns`` stays (what was stored first wins, as a table's unique key
    made it before)."""
    if ordered(columns):
        return columns
    times = columns[TIME]
    order = sorted(range(len(times)), key=times.__getitem__)  # stable: first stays first
    keep = [i for n, i in enumerate(order) if n == 0 or times[i] != times[order[n - 1]]]
    return tuple([column[i] for i in keep] for column in columns)


def sliced(columns: Columns, start: int, stop: int) -> Columns:
    return tuple(column[start:stop] for column in columns)


def window(columns: Columns, since: int | None, until: int | None) -> Columns:
    """The positions with ``since <= time <= until`` (time-ordered columns)."""
    times = columns[TIME]
    start = 0 if since is None else bisect_left(times, since)
    stop = len(times) if until is None else bisect_right(times, until)
    if start == 0 and stop == len(times):
        return columns
    return sliced(columns, start, stop)


def selected(columns: Columns, keep: Sequence[bool]) -> Columns:
    return tuple(list(compress(column, keep)) for column in columns)


def by_period(columns: Columns, span: int) -> list[tuple[int, Columns]]:
    """Time-ordered positions cut at multiples of ``span`` seconds: (period, part) pairs."""
    times = columns[TIME]
    out = []
    start = 0
    while start < len(times):
        period = times[start] // span
        stop = bisect_left(times, (period + 1) * span, start)
        out.append((period, sliced(columns, start, stop)))
        start = stop
    return out
