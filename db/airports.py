"""Airports, for saying where a watched aircraft landed ("landed at UMMS").

Reads flightwatch's ``config/airports.csv`` and OurAirports' ``airports.csv`` (the
format ``flightwatch airports import`` takes), told apart by the header. Closed
airports are left out of an OurAirports import. :class:`AirportIndex` finds the
nearest airport through a one-degree grid, so a lookup touches a handful of
airports however many are loaded.
"""

from __future__ import annotations

import csv
import logging
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from flightwatch.db.runways import RunwayEnd, read_runways
from flightwatch.decoder.geodesy import central_angle

if TYPE_CHECKING:
    from flightwatch.db.world_airports import WorldAirports

log = logging.getLogger(__name__)

EARTH_RADIUS_KM = 6371.0088

AIRPORT_COLUMNS = (
    "ident",
    "icao",
    "iata",
    "name",
    "type",
    "lat",
    "lon",
    "elevation_ft",
    "municipality",
    "longest_runway_ft",
    "runways",
    "country",
    "tz",
)
_CELL_DEG = 1.0
#: Field types no fixed-wing landplane lands at (OurAirports' words).
NOT_FIXED_WING = frozenset({"heliport", "seaplane_base", "balloonport"})


class AirportsError(Exception):
    """An airports file that cannot be used at all (unreadable, unknown header)."""


@dataclass(frozen=True, slots=True)
class Airport:
    """One airport. ``icao`` is ``""`` for fields without an ICAO-style code."""

    ident: str  # OurAirports ident: the ICAO code where there is one, else e.g. BY-0014
    icao: str
    name: str
    type: str  # large_airport | medium_airport | small_airport | heliport | ...
    lat: float
    lon: float
    elevation_ft: float | None = None
    iata: str = ""
    municipality: str = ""
    longest_runway_ft: int | None = None  # the longest a landplane can use, where known
    runways: str = ""  # e.g. "13L/31R 12139ft CONC; 13R/31L 11946ft CON"
    country: str = ""  # ISO 3166-1 alpha-2
    tz: str = ""  # IANA time zone, e.g. Europe/Minsk

    @property
    def fixed_wing(self) -> bool:
        """Whether a landplane can land here: helipad-only and water-only fields (and
        balloonports) are kept, for helicopters, but are no fixed-wing landing."""
        return self.type not in NOT_FIXED_WING

    @property
    def code(self) -> str:
        """The code people use: ICAO when there is one, else the OurAirports ident."""
        return self.icao or self.ident


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    return EARTH_RADIUS_KM * central_angle(lat1, lon1, lat2, lon2)


def _float(text: str) -> float | None:
    text = text.strip()
    return float(text) if text else None


def icao_code(*candidates: str) -> str:
    """The first candidate that looks like an ICAO location indicator (4 letters)."""
    for text in candidates:
        code = text.strip().upper()
        if len(code) == 4 and code.isalpha():
            return code
    return ""


def _from_flightwatch(row: dict[str, str]) -> Airport:
    runway = (row.get("longest_runway_ft") or "").strip()
    lat, lon = _float(row["lat"]), _float(row["lon"])
    if lat is None or lon is None:
        raise ValueError("no position")
    return Airport(
        ident=row["ident"].strip(),
        icao=icao_code(row.get("icao") or ""),
        name=(row.get("name") or "").strip(),
        type=(row.get("type") or "").strip(),
        lat=lat,
        lon=lon,
        elevation_ft=_float(row.get("elevation_ft") or ""),
        iata=(row.get("iata") or "").strip(),
        municipality=(row.get("municipality") or "").strip(),
        longest_runway_ft=int(runway) if runway else None,
        runways=(row.get("runways") or "").strip(),
        country=(row.get("country") or "").strip().upper(),
        tz=(row.get("tz") or "").strip(),
    )


def _from_ourairports(row: dict[str, str]) -> Airport:
    lat, lon = _float(row["latitude_deg"]), _float(row["longitude_deg"])
    if lat is None or lon is None:
        raise ValueError("no position")
    return Airport(
        ident=row["ident"].strip(),
        icao=icao_code(row.get("icao_code") or "", row.get("gps_code") or ""),
        name=(row.get("name") or "").strip(),
        type=(row.get("type") or "").strip(),
        lat=lat,
        lon=lon,
        elevation_ft=_float(row.get("elevation_ft") or ""),
        iata=(row.get("iata_code") or "").strip(),
        municipality=(row.get("municipality") or "").strip(),
        country=(row.get("iso_country") or "").strip().upper(),
    )


def read_airports(path: str | Path, include_closed: bool = False) -> list[Airport]:
    """Airports from either format. Bad rows are logged with their line and skipped."""
    try:
        with Path(path).open(encoding="utf-8-sig", newline="") as src:
            reader = csv.DictReader(src)
            header = reader.fieldnames or []
            if {"ident", "latitude_deg", "longitude_deg"} <= set(header):
                convert = _from_ourairports
            elif {"ident", "lat", "lon"} <= set(header):
                convert = _from_flightwatch
            else:
                raise AirportsError(
                    f"{path}: not an airports file (expected flightwatch's "
                    f"'{','.join(AIRPORT_COLUMNS)}' or OurAirports' airports.csv header)"
                )
            airports = []
            for row in reader:
                if not include_closed and (row.get("type") or "").strip() == "closed":
                    continue
                try:
                    airport = convert(row)
                    if not (-90 <= airport.lat <= 90 and -180 <= airport.lon <= 180):
                        raise ValueError("position out of range")
                except (ValueError, TypeError, AttributeError) as exc:
                    log.warning("%s:%d: airport row skipped: %s", path, reader.line_num, exc)
                    continue
                airports.append(airport)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise AirportsError(f"{path}: cannot read airports: {exc}") from exc
    return airports


def write_airports(path: str | Path, airports: Iterable[Airport]) -> None:
    """Write airports in flightwatch's format, sorted by code."""
    with Path(path).open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(AIRPORT_COLUMNS)
        for a in sorted(airports, key=lambda a: (a.icao == "", a.code)):
            writer.writerow(
                (
                    a.ident,
                    a.icao,
                    a.iata,
                    a.name,
                    a.type,
                    a.lat,
                    a.lon,
                    "" if a.elevation_ft is None else f"{a.elevation_ft:g}",
                    a.municipality,
                    "" if a.longest_runway_ft is None else a.longest_runway_ft,
                    a.runways,
                    a.country,
                    a.tz,
                )
            )


class AirportIndex:
    """Nearest-airport lookups and each airport's runway ends.

    Two layers: ``airports`` (objects: a user's files, imports, the Belarus
    refinements; a one-degree grid of lists) over an optional ``world``, the bundled
    set held compactly (:class:`~flightwatch.db.world_airports.WorldAirports`), whose
    rows become objects only when found. An airport of the first layer hides the
    world's airport with the same ICAO code or ident, and takes what it leaves empty
    (country, time zone, elevation, ...) and its runway ends when it has none of its own.
    """

    def __init__(
        self,
        airports: Iterable[Airport] = (),
        runways: Iterable[RunwayEnd] = (),
        *,
        world: WorldAirports | None = None,
    ) -> None:
        self._world = world
        self._hidden: dict[int, Airport] = {}  # world row -> the airport that replaces it
        self._cells: dict[tuple[int, int], list[Airport]] = {}
        self._by_code: dict[str, Airport] = {}
        for given in airports:
            a = self._over_world(given)
            self._cells.setdefault(cell_of(a.lat, a.lon), []).append(a)
            self._by_code.setdefault(a.code.upper(), a)
            self._by_code.setdefault(a.ident.upper(), a)
        self._own = sum(len(cell) for cell in self._cells.values())
        self._runways: dict[str, list[RunwayEnd]] = {}
        for end in runways:
            self._runways.setdefault(end.airport.upper(), []).append(end)
        self._ceilings: dict[tuple[int, int], float] = {}

    def _world_row(self, airport: Airport) -> int | None:
        if self._world is None:
            return None
        for code in dict.fromkeys((airport.icao.upper(), airport.ident.upper())):
            row = self._world.row(code) if code else None
            if row is not None:
                return row
        return None

    def _over_world(self, airport: Airport) -> Airport:
        """The airport, hiding the world's one of the same code; what its own row leaves
        empty (country, zone, elevation, IATA code, city, runways) is the world's."""
        row = self._world_row(airport)
        if row is None or self._world is None:
            return airport
        if row in self._hidden:
            return airport  # a second row for the same field: the first one hides it
        airport = _filled(airport, self._world.airport(row))
        self._hidden[row] = airport
        return airport

    def __len__(self) -> int:
        world = 0 if self._world is None else len(self._world) - len(self._hidden)
        return self._own + world

    def __iter__(self) -> Iterator[Airport]:
        for cell in self._cells.values():
            yield from cell
        if self._world is not None:
            for row in range(len(self._world)):
                if row not in self._hidden:
                    yield self._world.airport(row)

    def by_code(self) -> Iterator[Airport]:
        """Every airport, sorted by code; the world's become objects one at a time."""
        keyed: list[tuple[str, int, Airport | None]] = [
            (a.code, -1, a) for cell in self._cells.values() for a in cell]
        if self._world is not None:
            keyed += [(self._world.ident(row), row, None) for row in range(len(self._world))
                      if row not in self._hidden]
        keyed.sort(key=lambda key: (key[0], key[1]))
        for _code, row, airport in keyed:
            yield airport if airport is not None else self._world.airport(row)  # type: ignore[union-attr]

    def get(self, code: str) -> Airport | None:
        """By ICAO code or ident (OurAirports', or airportsdata's for fields without an
        ICAO code), any case."""
        wanted = code.strip().upper()
        found = self._by_code.get(wanted)
        if found is not None or self._world is None:
            return found
        row = self._world.row(wanted)
        if row is None:
            return None
        return self._hidden.get(row) or self._world.airport(row)

    def runway_ends(self, airport: Airport) -> list[RunwayEnd]:
        """The airport's runway ends with known thresholds (none: judge by distance)."""
        own = self._runways.get(airport.ident.upper())
        if own is not None or self._world is None:
            return own or []
        row = self._world_row(airport)
        return [] if row is None else self._world.runway_ends(row, airport.ident)

    def nearest(
        self,
        lat: float,
        lon: float,
        max_km: float,
        *,
        min_runway_ft: float | None = None,
        where: Callable[[Airport], bool] | None = None,
    ) -> Airport | None:
        """The closest airport within ``max_km`` of the point (that passes the filters of
        :meth:`within`), or None."""
        for _km, airport in self.within(lat, lon, max_km, min_runway_ft=min_runway_ft,
                                        where=where):
            return airport
        return None

    def within(
        self,
        lat: float,
        lon: float,
        max_km: float,
        *,
        min_runway_ft: float | None = None,
        where: Callable[[Airport], bool] | None = None,
    ) -> list[tuple[float, Airport]]:
        """(km, airport) for every airport within ``max_km`` of the point, closest first.

        ``min_runway_ft``: only fields a landplane needing that runway can use: fixed-wing
        fields whose longest runway is at least that long or not known (judged on the
        world's columns, before any object is made). ``where``: any other test.
        """
        found = []
        for airport in self._candidates(lat, lon, max_km):
            km = haversine_km(lat, lon, airport.lat, airport.lon)
            if km <= max_km and _long_enough(airport, min_runway_ft):
                found.append((km, airport))
        if self._world is not None:
            world = self._world
            for km, row in world.within(lat, lon, max_km):
                if row not in self._hidden and world.long_enough(row, min_runway_ft):
                    found.append((km, world.airport(row)))
        found.sort(key=lambda pair: (pair[0], pair[1].ident))
        return found if where is None else [(km, a) for km, a in found if where(a)]

    def ceiling_ft(self, lat: float, lon: float) -> float:
        """The highest field elevation (reference point or runway threshold) in the
        point's one-degree cell and the cells around it, 0 when none: below it plus a
        margin an aircraft there may be landing."""
        cell = cell_of(lat, lon)
        ceiling = self._ceilings.get(cell)
        if ceiling is None:
            centre = cell[0] + 0.5, cell[1] + 0.5
            heights = [0.0]
            for airport in self._candidates(*centre, _CEILING_KM):
                heights.append(airport.elevation_ft or 0.0)
                heights.extend(end.elevation_ft or 0.0 for end in self.runway_ends(airport))
            if self._world is not None:
                heights.extend(self._world.highest_ft(row)
                               for _km, row in self._world.within(*centre, _CEILING_KM)
                               if row not in self._hidden)
            ceiling = self._ceilings[cell] = max(heights)
        return ceiling

    def _candidates(self, lat: float, lon: float, max_km: float) -> Iterator[Airport]:
        for cell in cells_around(lat, lon, max_km):
            yield from self._cells.get(cell, ())


def _filled(own: Airport, world: Airport) -> Airport:
    """``own`` with what it leaves empty taken from the world's row of the same field."""
    return replace(
        own, country=own.country or world.country, tz=own.tz or world.tz,
        iata=own.iata or world.iata, municipality=own.municipality or world.municipality,
        elevation_ft=world.elevation_ft if own.elevation_ft is None else own.elevation_ft,
        longest_runway_ft=(world.longest_runway_ft if own.longest_runway_ft is None
                           else own.longest_runway_ft),
        runways=own.runways or world.runways)


# The cells around a cell's centre within this reach: at least its eight neighbours.
_CEILING_KM = 2.5 * 111.0


def _long_enough(airport: Airport, min_runway_ft: float | None) -> bool:
    if min_runway_ft is None:
        return True
    longest = airport.longest_runway_ft
    return airport.fixed_wing and (longest is None or longest >= min_runway_ft)


def cells_around(lat: float, lon: float, max_km: float) -> Iterator[tuple[int, int]]:
    """(row, column) of every one-degree cell that may hold a point within ``max_km``,
    wrapping across the antimeridian and taking every column near a pole."""
    dlat = max_km / 111.0
    row_lo, row_hi = _cell_index(lat - dlat), _cell_index(lat + dlat)
    widest = min(89.0, max(abs(lat - dlat), abs(lat + dlat)))
    dlon = dlat / math.cos(math.radians(widest))
    if dlon >= 180.0:
        columns = range(-180, 180)
    else:
        columns = range(_cell_index(lon - dlon), _cell_index(lon + dlon) + 1)
    for row in range(row_lo, row_hi + 1):
        for column in columns:
            yield row, (column + 180) % 360 - 180


def _cell_index(degrees: float) -> int:
    return math.floor(degrees / _CELL_DEG)


def cell_of(lat: float, lon: float) -> tuple[int, int]:
    return _cell_index(lat), (_cell_index(lon) + 180) % 360 - 180


def load_airport_index(
    paths: Iterable[str | Path] = (),
    runway_paths: Iterable[str | Path] = (),
    *,
    world: tuple[Path, Path] | None = None,
    imported: Iterable[Airport] = (),
) -> AirportIndex:
    """The one airport index of a process: ``world`` (the bundled world files, loaded
    once per process), the airports of the ``paths`` files (the bundled Belarus
    refinements first, then a user's own) and ``imported`` ones (the database's
    ``airports import`` rows), each later source winning for the same ICAO code or
    ident; the runway ends of the ``runway_paths`` files over the world's."""
    rows = [*(a for path in paths for a in read_airports(path)), *imported]
    winner: dict[str, int] = {}
    for position, airport in enumerate(rows):
        for key in _keys(airport):
            winner[key] = position
    kept = [a for position, a in enumerate(rows)
            if all(winner[key] == position for key in _keys(a))]
    ends = [end for path in runway_paths for end in read_runways(path)]
    return AirportIndex(kept, ends,
                        world=None if world is None else world_airports(*world))


def _keys(airport: Airport) -> set[str]:
    return {airport.code.upper(), airport.ident.upper()}


@cache
def world_airports(airports: Path, runways: Path) -> WorldAirports:
    """The bundled world set, read once per process whoever asks."""
    from flightwatch.db.world_airports import WorldAirports

    return WorldAirports(airports, runways)
