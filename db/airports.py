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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from flightwatch.db.runways import RunwayEnd
from flightwatch.decoder.geodesy import central_angle

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
)
_CELL_DEG = 1.0


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
    longest_runway_ft: int | None = None
    runways: str = ""  # e.g. "13L/31R 12139ft CONC; 13R/31L 11946ft CON"

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


def _icao_code(*candidates: str) -> str:
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
        icao=_icao_code(row.get("icao") or ""),
        name=(row.get("name") or "").strip(),
        type=(row.get("type") or "").strip(),
        lat=lat,
        lon=lon,
        elevation_ft=_float(row.get("elevation_ft") or ""),
        iata=(row.get("iata") or "").strip(),
        municipality=(row.get("municipality") or "").strip(),
        longest_runway_ft=int(runway) if runway else None,
        runways=(row.get("runways") or "").strip(),
    )


def _from_ourairports(row: dict[str, str]) -> Airport:
    lat, lon = _float(row["latitude_deg"]), _float(row["longitude_deg"])
    if lat is None or lon is None:
        raise ValueError("no position")
    return Airport(
        ident=row["ident"].strip(),
        icao=_icao_code(row.get("icao_code") or "", row.get("gps_code") or ""),
        name=(row.get("name") or "").strip(),
        type=(row.get("type") or "").strip(),
        lat=lat,
        lon=lon,
        elevation_ft=_float(row.get("elevation_ft") or ""),
        iata=(row.get("iata_code") or "").strip(),
        municipality=(row.get("municipality") or "").strip(),
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
                )
            )


class AirportIndex:
    """Nearest-airport lookups over a one-degree grid, and each airport's runway ends."""

    def __init__(self, airports: Iterable[Airport], runways: Iterable[RunwayEnd] = ()) -> None:
        self._cells: dict[tuple[int, int], list[Airport]] = {}
        self._by_code: dict[str, Airport] = {}
        for a in airports:
            self._cells.setdefault(_cell(a.lat, a.lon), []).append(a)
            self._by_code.setdefault(a.code.upper(), a)
            self._by_code.setdefault(a.ident.upper(), a)
        self._runways: dict[str, list[RunwayEnd]] = {}
        for end in runways:
            self._runways.setdefault(end.airport.upper(), []).append(end)

    def __len__(self) -> int:
        return sum(len(v) for v in self._cells.values())

    def __iter__(self) -> Iterator[Airport]:
        for cell in self._cells.values():
            yield from cell

    def get(self, code: str) -> Airport | None:
        """By ICAO code or OurAirports ident, any case."""
        return self._by_code.get(code.upper())

    def runway_ends(self, airport: Airport) -> list[RunwayEnd]:
        """The airport's runway ends with known thresholds (none: judge by distance)."""
        return self._runways.get(airport.ident.upper(), [])

    def nearest(self, lat: float, lon: float, max_km: float) -> Airport | None:
        """The closest airport within ``max_km`` of the point, or None."""
        best: Airport | None = None
        best_km = max_km
        for airport in self._candidates(lat, lon, max_km):
            km = haversine_km(lat, lon, airport.lat, airport.lon)
            if km <= best_km:
                best, best_km = airport, km
        return best

    def within(self, lat: float, lon: float, max_km: float) -> list[tuple[float, Airport]]:
        """(km, airport) for every airport within ``max_km`` of the point, closest first."""
        found = []
        for airport in self._candidates(lat, lon, max_km):
            km = haversine_km(lat, lon, airport.lat, airport.lon)
            if km <= max_km:
                found.append((km, airport))
        return sorted(found, key=lambda pair: (pair[0], pair[1].ident))

    def _candidates(self, lat: float, lon: float, max_km: float) -> Iterator[Airport]:
        dlat = max_km / 111.0
        row_lo, row_hi = _cell_index(lat - dlat), _cell_index(lat + dlat)
        widest = min(89.0, max(abs(lat - dlat), abs(lat + dlat)))
        dlon = min(180.0, dlat / math.cos(math.radians(widest)))
        span = int(dlon // _CELL_DEG) + 1
        centre = _cell_index(lon)
        columns = range(-180, 180) if span >= 180 else range(centre - span, centre + span + 1)
        for row in range(row_lo, row_hi + 1):
            for column in columns:
                wrapped = (column + 180) % 360 - 180
                yield from self._cells.get((row, wrapped), ())


def _cell_index(degrees: float) -> int:
    return math.floor(degrees / _CELL_DEG)


def _cell(lat: float, lon: float) -> tuple[int, int]:
    return _cell_index(lat), (_cell_index(lon) + 180) % 360 - 180
