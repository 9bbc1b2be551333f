"""The world's airports shipped with flightwatch, held compactly and read on demand.

``config/world_airports.tsv.gz`` (one airport a line, sorted by one-degree cell) and
``config/world_runways.tsv.gz`` (each airport's open runways, in the same order; an
airport's ``runways`` column says how many lines are its) are derived by
``tools/derive_airports.py``. About 28,000 airports and 26,000 runways as Python
objects would cost 10-20 MB of a Raspberry Pi's 100 MB budget, so
:class:`WorldAirports` keeps ``array`` columns (position, longest runway, fixed-wing
or not, where each cell begins) and the text compressed in blocks of 64 lines, about
2.6 MB in all, and builds an ``Airport`` or its ``RunwayEnd``\\ s only when one is
looked up (a small cache keeps the recent ones). ``array`` rather than numpy: ``airports list``
must stay light (see tests/cli/test_startup_imports.py).
"""

from __future__ import annotations

import zlib
from array import array
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path

from flightwatch.db.airports import (
    NOT_FIXED_WING,
    Airport,
    cell_of,
    cells_around,
    haversine_km,
    icao_code,
)
from flightwatch.db.runways import RunwayEnd

WORLD_AIRPORT_COLUMNS = (
    "ident", "iata", "name", "city", "country", "lat", "lon", "elevation_ft", "tz",
    "type", "longest_runway_ft", "runways",
)  # fmt: skip
WORLD_RUNWAY_COLUMNS = (
    "airport", "length_ft", "surface", "le_ident", "le_lat", "le_lon", "le_elevation_ft",
    "le_heading", "he_ident", "he_lat", "he_lon", "he_elevation_ft", "he_heading",
)  # fmt: skip
_GZIP = 16 + zlib.MAX_WBITS  # wbits for a gzip header and trailer
_CACHED = 512  # airports kept as objects: the candidates of a few recent lookups
_RECENT_BLOCKS = 16  # blocks of 64 lines kept decompressed (~6 KB each)
NO_LENGTH = -1  # in ``longest_runway_ft``: not known


class WorldAirportsError(Exception):
    """A bundled world file that is missing or malformed (a broken installation)."""


def _read(path: Path) -> bytes:
    """The decompressed file, into a buffer of the size the gzip trailer states (growing
    one by doubling peaked at three times the text)."""
    try:
        packed = path.read_bytes()
        text = zlib.decompress(packed, _GZIP, int.from_bytes(packed[-4:], "little") + 1)
    except (OSError, zlib.error) as exc:
        raise WorldAirportsError(f"{path}: cannot read: {exc}") from exc
    if not text.endswith(b"\n"):
        raise WorldAirportsError(f"{path}: truncated (the last line has no newline)")
    return text


def _line_starts(text: bytes) -> array:
    """The offset of each line after the header, and the end: line ``i`` is
    ``text[starts[i]:starts[i + 1] - 1]``."""
    starts = array("I")
    position = text.find(b"\n")  # the header's end
    while position >= 0:
        starts.append(position + 1)
        position = text.find(b"\n", position + 1)
    return starts


def _number(text: bytes) -> float | None:
    return float(text) if text else None


_NOT_FIXED_WING = {kind.encode() for kind in NOT_FIXED_WING}


class WorldAirports:
    """The bundled airports and runway ends, searchable without an object per airport.

    The airports file is sorted by one-degree cell (south to north, then west to east
    from the antimeridian), then ident, so the grid is a list of where each cell's rows
    begin, built in the one pass that reads the columns.
    """

    def __init__(self, airports: Path, runways: Path) -> None:
        runway_text = _read(runways)  # compressed in blocks before the airports are read:
        runway_starts = _line_starts(runway_text)  # a lower peak while loading
        runway_count = len(runway_starts) - 1
        self._runway_lines = Blocks(runway_text, runway_starts)
        del runway_text, runway_starts
        text = _read(airports)
        starts = array("I")
        idents = bytearray(b"\t")  # row(): one search of "\tUMMS\t", no index
        self.lat = array("d")
        self.lon = array("d")
        self.longest_runway_ft = array("i")  # NO_LENGTH: not known
        self.fixed_wing = array("b")
        self._first_runway = array("I", [0])
        self._cell_keys = array("i")
        self._cell_begins = array("I")
        start = text.index(b"\n") + 1
        end = text.find(b"\n", start)
        while end >= 0:
            fields = text[start:end].split(b"\t")
            try:
                lat, lon = float(fields[5]), float(fields[6])
                longest, runways_here = int(fields[10] or NO_LENGTH), int(fields[11])
            except (IndexError, ValueError):
                raise WorldAirportsError(f"{airports}: bad line {text[start:end]!r}") from None
            key = _cell_key(*cell_of(lat, lon))
            if not self._cell_keys or self._cell_keys[-1] != key:
                if self._cell_keys and key < self._cell_keys[-1]:
                    raise WorldAirportsError(f"{airports}: not sorted by cell at {fields[0]!r}")
                self._cell_keys.append(key)
                self._cell_begins.append(len(self.lat))
            starts.append(start)
            idents += fields[0] + b"\t"
            self.lat.append(lat)
            self.lon.append(lon)
            self.longest_runway_ft.append(longest)
            self.fixed_wing.append(fields[9] not in _NOT_FIXED_WING)
            self._first_runway.append(self._first_runway[-1] + runways_here)
            start, end = end + 1, text.find(b"\n", end + 1)
        starts.append(start)
        self._cell_begins.append(len(self.lat))
        if self._first_runway[-1] != runway_count:
            raise WorldAirportsError(
                f"{runways}: {runway_count} runways, {airports} counts {self._first_runway[-1]}")
        self._idents = bytes(idents)
        self._lines = Blocks(text, starts)
        self._cache: OrderedDict[int, Airport] = OrderedDict()
        self._rows: OrderedDict[str, int | None] = OrderedDict()

    def __len__(self) -> int:
        return len(self.lat)

    def _fields(self, row: int) -> list[bytes]:
        return self._lines.line(row).split(b"\t")

    def ident(self, row: int) -> str:
        return self._lines.line(row).split(b"\t", 1)[0].decode()

    def row(self, code: str) -> int | None:
        """The row of an ident (upper case): the ICAO code where there is one, else
        airportsdata's own (e.g. 00AK). A search of the text (a millisecond), so the
        recent answers are kept."""
        if code in self._rows:
            self._rows.move_to_end(code)
            return self._rows[code]
        found = None
        if code and "\t" not in code:
            at = self._idents.find(b"\t" + code.encode() + b"\t")
            if at >= 0:
                found = self._idents.count(b"\t", 0, at)
        self._rows[code] = found
        if len(self._rows) > _CACHED:
            self._rows.popitem(last=False)
        return found

    def airport(self, row: int) -> Airport:
        """The row as an ``Airport`` (the recent ones are cached)."""
        cached = self._cache.get(row)
        if cached is not None:
            self._cache.move_to_end(row)
            return cached
        f = [field.decode() for field in self._fields(row)]
        airport = Airport(
            ident=f[0], icao=icao_code(f[0]), iata=f[1], name=f[2], municipality=f[3],
            country=f[4], lat=float(f[5]), lon=float(f[6]),
            elevation_ft=float(f[7]) if f[7] else None, tz=f[8], type=f[9],
            longest_runway_ft=int(f[10]) if f[10] else None,
            runways=self._runway_summary(row),
        )
        self._cache[row] = airport
        if len(self._cache) > _CACHED:
            self._cache.popitem(last=False)
        return airport

    def _runway_rows(self, row: int) -> Iterator[list[bytes]]:
        for line in range(self._first_runway[row], self._first_runway[row + 1]):
            yield self._runway_lines.line(line).split(b"\t")

    def _runway_summary(self, row: int) -> str:
        """``13L/31R 12139ft CONC; ...``, as in flightwatch's airports CSV."""
        return "; ".join(f"{r[3].decode()}/{r[8].decode()} {r[1].decode() or '?'}ft "
                         f"{r[2].decode()}" for r in self._runway_rows(row))

    def runway_ends(self, row: int, airport_ident: str) -> list[RunwayEnd]:
        """Both ends of each runway whose thresholds are known (``airport_ident`` names
        the airport in the ends, as a user's runways file would)."""
        ends = []
        for r in self._runway_rows(row):
            if not (r[4] and r[5] and r[9] and r[10]):
                continue
            for base in (3, 8):
                ends.append(RunwayEnd(airport_ident, r[base].decode(), float(r[base + 1]),
                                      float(r[base + 2]), float(r[base + 4]),
                                      _number(r[base + 3])))
        return ends

    def within(self, lat: float, lon: float, max_km: float) -> Iterator[tuple[float, int]]:
        """(km, row) of the airports within ``max_km`` of the point, unordered."""
        lats, lons, keys, begins = self.lat, self.lon, self._cell_keys, self._cell_begins
        south, north = lat - max_km / 110.5, lat + max_km / 110.5  # a degree is >= 110.5 km
        for cell in cells_around(lat, lon, max_km):
            key = _cell_key(*cell)
            index = bisect_left(keys, key)
            if index == len(keys) or keys[index] != key:
                continue
            for row in range(begins[index], begins[index + 1]):
                if not south <= lats[row] <= north:
                    continue  # cheaper than the great circle, and most of a cell's rows
                km = haversine_km(lat, lon, lats[row], lons[row])
                if km <= max_km:
                    yield km, row

    def highest_ft(self, row: int) -> float:
        """The field's highest known point, reference or runway threshold (0: none known),
        without making its objects."""
        heights = [_number(self._fields(row)[7]) or 0.0]
        for r in self._runway_rows(row):
            heights += [_number(r[6]) or 0.0, _number(r[11]) or 0.0]
        return max(heights)

    def long_enough(self, row: int, min_runway_ft: float | None) -> bool:
        """Whether a landplane needing ``min_runway_ft`` may land: a fixed-wing field
        whose longest runway is that long or not known (None: any field)."""
        if min_runway_ft is None:
            return True
        longest = self.longest_runway_ft[row]
        return bool(self.fixed_wing[row]) and (longest == NO_LENGTH or longest >= min_runway_ft)


class Blocks:
    """A text's lines kept zlib-compressed, ``per_block`` lines to a block, and a few
    blocks decompressed at a time: the 3.9 MB of the two world files take 1.7 MB. A
    lookup costs one block's decompression (tens of microseconds) unless it is recent."""

    def __init__(self, text: bytes, starts: array, per_block: int = 64) -> None:
        self._per_block = per_block
        count = len(starts) - 1
        self._blocks = [
            zlib.compress(text[starts[first]:starts[min(first + per_block, count)] - 1], 1)
            for first in range(0, count, per_block)]
        self._recent: OrderedDict[int, list[bytes]] = OrderedDict()

    def line(self, index: int) -> bytes:
        """Line ``index`` without its newline."""
        block, offset = divmod(index, self._per_block)
        lines = self._recent.get(block)
        if lines is None:
            lines = self._recent[block] = zlib.decompress(self._blocks[block]).split(b"\n")
            if len(self._recent) > _RECENT_BLOCKS:
                self._recent.popitem(last=False)
        else:
            self._recent.move_to_end(block)
        return lines[offset]


def _cell_key(row: int, column: int) -> int:
    return row * 360 + column
