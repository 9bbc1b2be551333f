"""What a map draws around the tracks: towns, airports by zoom level, the receiver and its
coverage outline, and the credit each of them is owed.

The web pages (``/api/places``), ``flightwatch map`` and the alert pictures all choose
places here, so the three show the same towns and airfields at the same scale. Towns
come from ``config/places.csv`` (GeoNames, derived by ``tools/derive_places.py``);
airports from the configured airports files (the bundled OurAirports extract by default).
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flightwatch.db.airports import Airport, AirportIndex, haversine_km
from flightwatch.db.coverage import Outline
from flightwatch.settings import bundled

# Credits, shown only beside the layer they are owed for (the borders are drawn when
# there are no tiles; tiles bring their own credit).
PLACES_CREDIT = "Places: GeoNames (CC BY 4.0)"
AIRPORTS_CREDIT = "Airports: OurAirports"
BORDERS_CREDIT = "Borders: Natural Earth"

# The zoom (web-map levels: 0 is the world, 6 a country, 10 a city) from which a town of
# at least this many people is named. Chosen so a country view names about a dozen towns.
TOWN_ZOOMS: tuple[tuple[int, int], ...] = (
    (1_000_000, 4), (300_000, 6), (100_000, 7), (30_000, 8), (10_000, 9), (0, 10),
)
# The zoom from which an airport of each type is drawn; any other type (heliports,
# seaplane bases, balloon ports) from OTHER_AIRPORT_ZOOM.
AIRPORT_ZOOMS: Mapping[str, int] = {"large_airport": 5, "medium_airport": 7, "small_airport": 9}
OTHER_AIRPORT_ZOOM = 10


@dataclass(frozen=True, slots=True)
class Place:
    """A town: GeoNames' name (UTF-8, as the source spells it), country, position, and
    its time zone (an alert's local time where no fence names one)."""

    name: str
    country: str
    lat: float
    lon: float
    population: int
    timezone: str = ""
    min_zoom: int = 0  # from which zoom level the maps name it (``town_zoom``)


def town_zoom(population: int) -> int:
    """The zoom level from which a town of ``population`` is named."""
    return next(zoom for floor, zoom in TOWN_ZOOMS if population >= floor)


def airport_zoom(airport: Airport) -> int:
    """The zoom from which an airport is drawn: large ones on a country view."""
    return AIRPORT_ZOOMS.get(airport.type, OTHER_AIRPORT_ZOOM)


@functools.cache
def read_places(path: Path | None = None) -> tuple[Place, ...]:
    """The towns of ``path`` (default: the bundled ``places.csv``), largest first."""
    with (path or bundled("places.csv")).open(newline="", encoding="utf-8") as src:
        places = [Place(row["name"], row["country"], float(row["lat"]), float(row["lon"]),
                        int(row["population"]), row["timezone"],
                        town_zoom(int(row["population"])))
                  for row in csv.DictReader(src)]
    return tuple(sorted(places, key=lambda p: (-p.population, p.name)))


Bounds = tuple[float, float, float, float]  # south, west, north, east (degrees)


def _inside(lat: float, lon: float, bounds: Bounds) -> bool:
    south, west, north, east = bounds
    return south <= lat <= north and west <= lon <= east


def towns_within(places: Iterable[Place], bounds: Bounds, zoom: float) -> list[Place]:
    """The towns a map of ``bounds`` at ``zoom`` names, largest first."""
    return [p for p in places if p.min_zoom <= zoom and _inside(p.lat, p.lon, bounds)]


def airports_within(airports: Iterable[Airport] | AirportIndex, bounds: Bounds,
                    zoom: float) -> list[Airport]:
    """The airports a map of ``bounds`` at ``zoom`` draws (from an index, only those
    around the view are looked at: the world has 28,000)."""
    if isinstance(airports, AirportIndex):
        south, west, north, east = bounds
        centre = (south + north) / 2, (west + east) / 2
        reach = haversine_km(*centre, north, east) + 1.0
        airports = [a for _km, a in airports.within(*centre, reach)]
    return [a for a in airports if airport_zoom(a) <= zoom and _inside(a.lat, a.lon, bounds)]


def airport_coded(airports: Iterable[Airport] | AirportIndex, code: str) -> Airport | None:
    """The airport of an ICAO code (or ident), if known."""
    if isinstance(airports, AirportIndex):
        return airports.get(code)
    return next((a for a in airports if a.code == code), None)


def padded(bounds: Bounds, fraction: float = 0.25) -> Bounds:
    """``bounds`` grown by ``fraction`` of its size on each side (places just off the
    view are embedded too, for a little panning)."""
    south, west, north, east = bounds
    dlat, dlon = (north - south) * fraction, (east - west) * fraction
    return (max(south - dlat, -90.0), west - dlon, min(north + dlat, 90.0), east + dlon)


@dataclass(frozen=True, slots=True)
class Receiver:
    """Where the local receiver is (``[receiver] lat/lon``)."""

    name: str
    lat: float
    lon: float


def receiver_of(settings: Any) -> Receiver | None:
    """The configured receiver's position, or None when ``[receiver]`` gives none."""
    section = settings["receiver"]
    if section.get("lat") is None or section.get("lon") is None:
        return None
    return Receiver(section["name"], section["lat"], section["lon"])


def outline_json(outline: Outline) -> dict[str, Any]:
    return {"receiver": outline.receiver, "band": outline.band,
            "points": [[round(lat, 4), round(lon, 4)] for lat, lon in outline.points]}


def places_json(
    towns: Iterable[Place], airports: Iterable[Airport], receiver: Receiver | None,
    outlines: Iterable[Outline],
) -> dict[str, Any]:
    """The places layer as the pages and ``flightwatch map`` draw it (JSON-ready), with the
    credits owed for what it holds."""
    towns, airports, outlines = list(towns), list(airports), list(outlines)
    credits = ([PLACES_CREDIT] if towns else []) + ([AIRPORTS_CREDIT] if airports else [])
    return {
        "towns": [{"name": t.name, "lat": t.lat, "lon": t.lon, "zoom": t.min_zoom,
                   "population": t.population} for t in towns],
        "airports": [{"code": a.code, "name": a.name, "type": a.type, "lat": a.lat,
                      "lon": a.lon, "zoom": airport_zoom(a)} for a in airports],
        "receiver": None if receiver is None else
        {"name": receiver.name, "lat": receiver.lat, "lon": receiver.lon},
        "coverage": [outline_json(o) for o in outlines],
        "credits": credits,
    }
