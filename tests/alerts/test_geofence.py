"""Geofences: the shipped Belarus border against real places and points computed off it."""

from __future__ import annotations

import functools
import json
import logging
import math
import re
from pathlib import Path

import pytest
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from flightwatch.alerts.geofence import Geofence, GeofenceError

ROOT = Path(__file__).resolve().parents[2]
BELARUS = ROOT / "config" / "geofences" / "belarus.geojson"
FIR = ROOT / "config" / "geofences" / "minsk_fir.geojson"
DATA = Path(__file__).resolve().parent / "data"
NEIGHBOURS = ROOT / ".." / "shared" / "data" / "geo" / "belarus_neighbours_ne10m.geojson"
M_PER_DEG = 111_195.0  # mean Earth radius 6371 km


@pytest.fixture(scope="module")
def belarus() -> Geofence:
    return Geofence.from_file(BELARUS)


TOWNS = {  # (lat, lon, inside Belarus?)
    "Brest": (52.0976, 23.7341, True),
    "Terespol, PL": (52.0753, 23.6162, False),
    "Grodno": (53.6694, 23.8131, True),
    "Druskininkai, LT": (54.0167, 23.9667, False),
    "Minsk": (53.9045, 27.5615, True),
    "Vilnius, LT": (54.6872, 25.2797, False),
    "Smolensk, RU": (54.7826, 32.0453, False),
    "Berlin (outside the box)": (52.52, 13.405, False),
}


@pytest.mark.parametrize("town", TOWNS)
def test_known_towns(belarus: Geofence, town: str) -> None:
    lat, lon, inside = TOWNS[town]
    assert belarus.contains(lat, lon) is inside


def _border_points(near_lat: float, near_lon: float, offset_m: float) -> tuple[Point, Point]:
    """Points ``offset_m`` either side of the border vertex nearest to a place.

    Worked out from the raw GeoJSON coordinates, not through Geofence: the vertex
    where the border runs straightest within 5 km of the place, offset along the
    normal of its neighbours; the ring's orientation (shoelace sign) says which
    side is inside.
    """
    ring = json.loads(BELARUS.read_text())["features"][0]["geometry"]["coordinates"][0][:-1]
    area2 = sum(
        x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True)
    )
    inside_is_left = area2 > 0  # counter-clockwise ring: the interior is on the left
    kx = math.cos(math.radians(near_lat))

    def metres(a: list[float], b: list[float]) -> tuple[float, float]:
        return ((b[0] - a[0]) * kx * M_PER_DEG, (b[1] - a[1]) * M_PER_DEG)

    best = None
    for i, vertex in enumerate(ring):
        dx, dy = metres([near_lon, near_lat], vertex)
        if math.hypot(dx, dy) > 5000:
            continue
        before, after = metres(ring[i - 1], vertex), metres(vertex, ring[(i + 1) % len(ring)])
        turn = abs(math.atan2(*before[::-1]) - math.atan2(*after[::-1]))
        turn = min(turn, 2 * math.pi - turn)
        if min(math.hypot(*before), math.hypot(*after)) > offset_m and (
            best is None or turn < best[0]
        ):
            best = (turn, i)
    assert best is not None, "no usable border vertex near the place"
    i = best[1]
    tx, ty = metres(ring[i - 1], ring[(i + 1) % len(ring)])
    norm = math.hypot(tx, ty)
    left = (-ty / norm, tx / norm)
    sign = 1 if inside_is_left else -1
    lon, lat = ring[i]

    def at(s: float) -> Point:
        return Point(
            lon + s * left[0] * offset_m / (kx * M_PER_DEG),
            lat + s * left[1] * offset_m / M_PER_DEG,
        )

    return at(sign), at(-sign)


@functools.cache
def _neighbours() -> dict[str, BaseGeometry]:
    countries = json.loads(NEIGHBOURS.read_text())["features"]
    return {f["properties"]["iso_a2"]: shape(f["geometry"]) for f in countries}


PLACES = {  # where the border is probed, and the neighbour beyond it
    "Bug river near Brest": (52.05, 23.65, "PL"),
    "Polish border near Grodno": (53.58, 23.61, "PL"),
    "Lithuanian border near Grodno": (53.93, 24.0, "LT"),
    "Lithuanian border east of Vilnius": (54.54, 25.71, "LT"),
}


@pytest.mark.parametrize("place", PLACES)
def test_points_300_m_either_side_of_the_border(belarus: Geofence, place: str) -> None:
    lat, lon, neighbour = PLACES[place]
    inside, outside = _border_points(lat, lon, 300.0)
    assert belarus.contains(inside.y, inside.x)
    assert not belarus.contains(outside.y, outside.x)
    assert belarus.distance_km(inside.y, inside.x) == pytest.approx(0.3, abs=0.05)
    assert belarus.distance_km(outside.y, outside.x) == pytest.approx(0.3, abs=0.05)
    if NEIGHBOURS.exists():  # an independent check that "outside" is the neighbour's land
        there = _neighbours()[neighbour]
        assert there.contains(outside)
        assert not there.contains(inside)


def test_bounds_cover_belarus(belarus: Geofence) -> None:
    min_lon, min_lat, max_lon, max_lat = belarus.bounds
    assert (min_lon, min_lat, max_lon, max_lat) == pytest.approx(
        (23.17, 51.24, 32.72, 56.16), abs=0.01
    )


def test_buffer_is_in_kilometres(belarus: Geofence) -> None:
    lat, lon, _ = TOWNS["Terespol, PL"]
    outside_by = belarus.distance_km(lat, lon)
    assert 1.0 < outside_by < 2.5
    assert not Geofence(belarus.name, belarus.geometry, buffer_km=outside_by - 0.5).contains(
        lat, lon
    )
    grown = Geofence.from_file(BELARUS, buffer_km=outside_by + 0.5)
    assert grown.contains(lat, lon)
    assert grown.distance_km(lat, lon) == pytest.approx(0.5, abs=0.05)
    # ~10 km of latitude at the northern tip, where degrees would give 10 km * cos(56°) east-west
    assert Geofence.from_file(BELARUS, buffer_km=10).bounds[3] == pytest.approx(
        belarus.bounds[3] + 10 / 111.2, abs=0.003
    )
    shrunk = Geofence.from_file(BELARUS, buffer_km=-10)
    minsk, brest = TOWNS["Minsk"], TOWNS["Brest"]
    assert shrunk.contains(minsk[0], minsk[1])
    assert not shrunk.contains(brest[0], brest[1])  # Brest is ~7 km from the border


def test_shipped_fences_load_and_are_valid(belarus: Geofence) -> None:
    fir = Geofence.from_file(FIR)
    for fence in (belarus, fir):
        assert fence.geometry.is_valid
        assert fence.geometry.geom_type in ("Polygon", "MultiPolygon")
    assert fir.name == "minsk_fir"
    assert fir.contains(53.9045, 27.5615)
    raw = json.loads(BELARUS.read_text())["features"][0]["geometry"]["coordinates"][0]
    assert len(belarus.geometry.exterior.coords) == len(raw) > 1000  # full resolution


def test_bow_tie_is_repaired_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="flightwatch.alerts.geofence"):
        fence = Geofence.from_file(DATA / "bowtie.geojson")
    assert "bowtie.geojson" in caplog.text and "repaired" in caplog.text
    assert fence.geometry.is_valid
    assert fence.contains(1.0, 0.3)  # left triangle (lat, lon)
    assert fence.contains(1.0, 1.7)  # right triangle
    assert not fence.contains(0.3, 1.0)  # between the lobes


def test_bare_geometry_loads() -> None:
    fence = Geofence.from_file(DATA / "bare_square.geojson", name="square")
    assert fence.name == "square"
    assert fence.contains(50.5, 10.5) and not fence.contains(50.5, 11.5)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("point.geojson", "Point"),
        ("flat_polygon.geojson", "no area"),
        ("truncated.geojson", "cannot read"),
        ("missing.geojson", "cannot read"),
    ],
)
def test_unusable_files_are_refused_naming_the_file(name: str, message: str) -> None:
    with pytest.raises(GeofenceError, match=re.escape(name) + ".*" + message):
        Geofence.from_file(DATA / name)


def test_empty_geometry_is_refused() -> None:
    with pytest.raises(GeofenceError, match="empty"):
        Geofence("nothing", Point(0, 0).buffer(1).difference(Point(0, 0).buffer(2)))
