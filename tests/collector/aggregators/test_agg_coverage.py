"""covering_circles: every point of the fence lies in some circle, measured on the ellipsoid."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import Point, Polygon, box

import flightwatch.config
from flightwatch.collector.aggregators.coverage import covering_circles

GEOD = Geod(ellps="WGS84")
NM = 1852.0


@pytest.fixture(scope="module")
def belarus():
    """The Belarus border the product ships (Natural Earth 1:10m, full resolution)."""
    gpd = pytest.importorskip("geopandas")
    path = Path(flightwatch.config.__file__).parent / "geofences" / "belarus.geojson"
    return gpd.read_file(path).to_crs(4326).geometry.union_all()


def dense_sample(geometry, step_deg: float = 0.04) -> tuple[np.ndarray, np.ndarray]:
    """Every boundary vertex plus a grid of interior points (lon, lat arrays)."""
    minx, miny, maxx, maxy = geometry.bounds
    gx, gy = np.meshgrid(np.arange(minx, maxx, step_deg), np.arange(miny, maxy, step_deg))
    gx, gy = gx.ravel(), gy.ravel()
    inside = shapely.contains_xy(geometry, gx, gy)
    boundary = shapely.get_coordinates(geometry.boundary)
    return (np.concatenate([gx[inside], boundary[:, 0]]),
            np.concatenate([gy[inside], boundary[:, 1]]))


def uncovered(circles, lons: np.ndarray, lats: np.ndarray) -> int:
    covered = np.zeros(lons.shape, dtype=bool)
    for lat, lon, radius_nm in circles:
        _, _, dist = GEOD.inv(np.full(lons.shape, lon), np.full(lats.shape, lat), lons, lats)
        covered |= dist <= radius_nm * NM
    return int((~covered).sum())


@pytest.mark.parametrize(("max_radius", "most_circles"), [(250, 1), (100, 8), (60, 20)])
def test_belarus_is_covered_with_few_circles(belarus, max_radius, most_circles):
    circles = covering_circles(belarus, max_radius_nm=max_radius)
    lons, lats = dense_sample(belarus)
    assert len(lons) > 5000
    assert uncovered(circles, lons, lats) == 0
    assert 1 <= len(circles) <= most_circles
    assert all(r <= max_radius for _, _, r in circles)


def test_a_box_slightly_too_big_for_one_circle_takes_two():
    fence = box(23.17, 51.24, 32.72, 56.16)  # Belarus' bounding box: ~640 by 550 km
    circles = covering_circles(fence, max_radius_nm=220)
    assert len(circles) == 2
    lons, lats = dense_sample(fence, 0.05)
    assert uncovered(circles, lons, lats) == 0


def test_margin_widens_the_covered_area(belarus):
    margin = 25
    circles = covering_circles(belarus, max_radius_nm=100, margin_nm=margin)
    boundary = shapely.get_coordinates(belarus.boundary)[::5]
    for azimuth in range(0, 360, 45):
        lons, lats, _ = GEOD.fwd(boundary[:, 0], boundary[:, 1],
                                 np.full(len(boundary), float(azimuth)),
                                 np.full(len(boundary), margin * NM * 0.98))
        assert uncovered(circles, np.asarray(lons), np.asarray(lats)) == 0


def test_small_fence_gets_one_circle_just_big_enough():
    # a ~33 km-radius disc around Minsk (0.3° in lon/lat is an ellipse, ~20 km by ~33 km)
    fence = Point(27.5, 53.9).buffer(0.3)
    [(lat, lon, radius)] = covering_circles(fence)
    assert (lat, lon) == pytest.approx((53.9, 27.5), abs=0.01)
    assert 17 <= radius <= 19  # 0.3° of latitude = 18.0 NM, rounded up
    lons, lats = dense_sample(fence, 0.01)
    assert uncovered([(lat, lon, radius)], lons, lats) == 0


def test_empty_geometry_needs_no_circles():
    assert covering_circles(Polygon()) == []
