"""Airports and runway thresholds for story builders, read by the product's own readers.

The stories fly to real runways: thresholds come from the shipped ``config/runways.csv``
and ``config/airports.csv`` (Belarus) through :func:`flightwatch.db.runways.read_runways`
and :func:`flightwatch.db.airports.read_airports`, plus the few airports outside
Belarus the stories need (Vilnius EYVI, Vnukovo UUWW), kept as test data in
``tests/data/geo/`` (OurAirports runways, public domain; airport rows from the
``airportsdata`` package, MIT).

OurAirports has no thresholds for some runways (Machulishchy UMLI's 15/33): such a
runway is laid along the heading its designator names (15 -> 150 deg), centred on the
airport's reference point, with the length the airport row gives. That is a stand-in,
good enough for an approach "towards UMLI"; it is not the real geometry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from flightwatch.db.airports import Airport, read_airports
from flightwatch.db.runways import RunwayEnd, read_runways
from flightwatch.decoder.geodesy import destination
from flightwatch.settings import bundled

TEST_GEO = Path(__file__).resolve().parents[1] / "tests" / "data" / "geo"
EXTRA_AIRPORTS = TEST_GEO / "airports_outside_belarus.csv"
EXTRA_RUNWAYS = TEST_GEO / "runways_outside_belarus_ourairports.csv"
_FT_PER_NM = 6076.12
_RUNWAY_TEXT = re.compile(r"(\d{2})[LRC]?/(\d{2})[LRC]?\s+(\d+)ft")


@dataclass(frozen=True, slots=True)
class Airfield:
    """An airport with the runway ends an approach can fly to."""

    code: str
    name: str
    lat: float
    lon: float
    elevation_ft: float
    ends: tuple[RunwayEnd, ...]

    def end(self, ident: str) -> RunwayEnd:
        """The runway end named ``ident`` (e.g. ``31L``); KeyError naming the known ones."""
        for end in self.ends:
            if end.ident == ident:
                return end
        known = ", ".join(e.ident for e in self.ends)
        raise KeyError(f"{self.code} has no runway end {ident!r} (known: {known})")

    def end_facing(self, from_bearing: float) -> RunwayEnd:
        """The end whose approach comes from nearest ``from_bearing`` (degrees true, seen
        from the airport): an arrival from the east lands on the end whose final lies to
        the east. Ties go to the longer-listed first end."""

        def misalignment(end: RunwayEnd) -> float:
            approach_side = (end.heading_deg + 180) % 360
            return abs((from_bearing - approach_side + 180) % 360 - 180)

        return min(self.ends, key=misalignment)

    def elevation_of(self, end: RunwayEnd) -> float:
        """The threshold's elevation (ft), the field's where OurAirports gives none."""
        return self.elevation_ft if end.elevation_ft is None else end.elevation_ft


@cache
def _airports() -> dict[str, Airport]:
    found: dict[str, Airport] = {}
    for path in (bundled("airports.csv"), EXTRA_AIRPORTS):
        for airport in read_airports(path):
            found.setdefault(airport.code.upper(), airport)
    return found


@cache
def _runway_ends() -> dict[str, list[RunwayEnd]]:
    found: dict[str, list[RunwayEnd]] = {}
    for path in (bundled("runways.csv"), EXTRA_RUNWAYS):
        for end in read_runways(path):
            found.setdefault(end.airport.upper(), []).append(end)
    return found


def _nominal_ends(airport: Airport) -> list[RunwayEnd]:
    """Runway ends laid along their designators' headings through the reference point,
    for airports whose thresholds OurAirports does not give."""
    ends: list[RunwayEnd] = []
    for first, second, length in _RUNWAY_TEXT.findall(airport.runways):
        half_nm = int(length) / _FT_PER_NM / 2
        heading = int(first) * 10.0 % 360
        start = destination(airport.lat, airport.lon, (heading + 180) % 360, half_nm)
        stop = destination(airport.lat, airport.lon, heading, half_nm)
        ends.append(RunwayEnd(airport.ident, first, *start, heading, airport.elevation_ft))
        ends.append(RunwayEnd(airport.ident, second, *stop, (heading + 180) % 360,
                              airport.elevation_ft))
    return ends


@cache
def airfield(code: str) -> Airfield:
    """The airport ``code`` (ICAO) with its runway ends; KeyError when unknown."""
    airport = _airports().get(code.upper())
    if airport is None:
        raise KeyError(f"no airport {code!r} in the shipped or test airports")
    ends = _runway_ends().get(airport.ident.upper()) or _nominal_ends(airport)
    if not ends:
        raise KeyError(f"{code}: no runway known")
    elevation = airport.elevation_ft
    if elevation is None:
        elevation = min(e.elevation_ft for e in ends if e.elevation_ft is not None)
    return Airfield(airport.code, airport.name, airport.lat, airport.lon, elevation, tuple(ends))

