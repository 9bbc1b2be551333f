"""Circles (centre, radius in NM) that cover a geofence, for point-radius area queries.

The ADS-B Exchange v2 family answers "aircraft within R NM of a point" with R ≤ 250,
so a country needs a few circles. The polygon is projected to an azimuthal
equidistant plane centred on it (metres, distances true to well under 1 % over a
country), covered by a hexagonal lattice of circles, and only circles that touch the
polygon are kept; the lattice offset, or the rectangular grid, that needs the fewest
circles wins.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

NM = 1852.0
# Circles are laid out 1 % smaller than the radius they are queried with: slack for
# the projection's distortion, so the true (great-circle) circles still cover.
_SLACK = 0.99
_OFFSET_STEPS = 6  # lattice offsets tried per axis


def covering_circles(geometry: BaseGeometry, max_radius_nm: float = 250.0,
                     margin_nm: float = 0.0) -> list[tuple[float, float, float]]:
    """``[(lat, lon, radius_nm), ...]`` whose discs together cover ``geometry``.

    ``geometry`` is in lon/lat (WGS84), e.g. the union of the geofences;
    ``margin_nm`` widens it first (to see aircraft before they cross the border).
    A geometry that fits in one circle gets one circle just big enough.
    """
    if geometry.is_empty:
        return []
    if max_radius_nm <= 0:
        raise ValueError("max_radius_nm must be positive")
    centre = geometry.centroid
    to_plane = Transformer.from_crs(
        "EPSG:4326",
        f"+proj=aeqd +lat_0={centre.y} +lon_0={centre.x} +datum=WGS84 +units=m",
        always_xy=True,
    )
    to_lonlat = Transformer.from_crs(to_plane.target_crs, "EPSG:4326", always_xy=True)
    shape = shapely.transform(geometry, to_plane.transform, interleaved=False)
    if margin_nm > 0:
        shape = shape.buffer(margin_nm * NM)

    radius = max_radius_nm * NM * _SLACK
    if shapely.minimum_bounding_radius(shape) <= radius:
        circle = shapely.minimum_bounding_circle(shape)
        needed_nm = shapely.minimum_bounding_radius(shape) / (NM * _SLACK)
        centres = [(circle.centroid.x, circle.centroid.y)]
        radius_nm = min(max_radius_nm, math.ceil(needed_nm))
    else:
        centres = min(_fewest_lattice_centres(shape, radius), _fewest_grid_centres(shape, radius),
                      key=len)
        radius_nm = max_radius_nm

    result = []
    for x, y in centres:
        lon, lat = to_lonlat.transform(x, y)
        result.append((round(lat, 4), round(lon, 4), radius_nm))
    return result


def _fewest_lattice_centres(shape: BaseGeometry, radius: float) -> list[tuple[float, float]]:
    """Centres of a hexagonal covering lattice touching ``shape``, best of a few offsets.

    Rows ``1.5 r`` apart, centres ``√3 r`` apart within a row, every other row shifted
    by half: the discs of radius r then cover the whole plane.
    """
    dx = math.sqrt(3) * radius
    dy = 1.5 * radius
    shapely.prepare(shape)
    minx, miny, maxx, maxy = shape.bounds
    best: list[tuple[float, float]] | None = None
    for i in range(_OFFSET_STEPS):
        for j in range(_OFFSET_STEPS):
            ox = dx * i / _OFFSET_STEPS
            oy = dy * j / _OFFSET_STEPS
            xs, ys = _lattice(minx - dx + ox, miny - dy + oy, maxx + dx, maxy + dy, dx, dy)
            keep = shapely.distance(shape, shapely.points(xs, ys)) <= radius
            if best is None or keep.sum() < len(best):
                best = list(zip(xs[keep].tolist(), ys[keep].tolist(), strict=True))
    assert best is not None
    return best


def _fewest_grid_centres(shape: BaseGeometry, radius: float) -> list[tuple[float, float]]:
    """Centres of the n-by-m grid over the bounds whose cells fit in a circle, fewest kept.

    Beats the lattice on compact, box-like shapes (a rectangle a little too big for one
    circle takes two here, three on the lattice).
    """
    minx, miny, maxx, maxy = shape.bounds
    width, height = maxx - minx, maxy - miny
    best: list[tuple[float, float]] | None = None
    for columns in range(1, 200):
        half_w = width / (2 * columns)
        if half_w >= radius:
            continue
        rows = max(1, math.ceil(height / (2 * math.sqrt(radius**2 - half_w**2))))
        xs = minx + (np.arange(columns) + 0.5) * width / columns
        ys = miny + (np.arange(rows) + 0.5) * height / rows
        cx, cy = (a.ravel() for a in np.meshgrid(xs, ys))
        cells = shapely.box(cx - half_w, cy - height / (2 * rows), cx + half_w,
                            cy + height / (2 * rows))
        keep = shapely.intersects(shape, cells)
        if best is None or keep.sum() < len(best):
            best = list(zip(cx[keep].tolist(), cy[keep].tolist(), strict=True))
        if columns * rows > 4 * len(best) + 16:
            break  # finer grids only get worse
    assert best is not None
    return best


def _lattice(x0: float, y0: float, x1: float, y1: float, dx: float,
             dy: float) -> tuple[np.ndarray, np.ndarray]:
    xs: list[float] = []
    ys: list[float] = []
    for row, y in enumerate(np.arange(y0, y1 + dy, dy)):
        shift = dx / 2 if row % 2 else 0.0
        for x in np.arange(x0 - shift, x1 + dx, dx):
            xs.append(float(x))
            ys.append(float(y))
    return np.array(xs), np.array(ys)
