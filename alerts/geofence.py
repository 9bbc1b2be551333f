"""Geofences: polygons from GeoJSON, asked "is this position inside?" for every position.

A GeoJSON fence is read with shapely alone (other formats with geopandas and
pyogrio, imported only then), all its polygonal features merged into one
geometry, repaired with ``make_valid`` when invalid, and optionally grown (or
shrunk, with a negative value) by a buffer in kilometres. Buffering and distances
are done in an azimuthal equidistant projection centred on the fence, so
kilometres are kilometres, not degrees: on the spherical Earth of
decoder/geodesy.py, within 0.5 % of the ellipsoid, without pyproj's ~20 MB.

:meth:`Geofence.contains` is on the hot path: a bounding-box test rejects most of
the world in well under a microsecond, and points inside the box go to
``shapely.contains_xy`` on a prepared geometry.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from flightwatch.decoder.geodesy import EARTH_RADIUS_NM

log = logging.getLogger(__name__)

_EARTH_RADIUS_M = EARTH_RADIUS_NM * 1852.0

_POLYGONAL = ("Polygon", "MultiPolygon")


class GeofenceError(Exception):
    """A geofence that cannot be used: unreadable, empty or not made of polygons."""


def _polygonal_part(geometry: BaseGeometry) -> BaseGeometry:
    """The polygons of a geometry (``make_valid`` may return a collection)."""
    if geometry.geom_type in _POLYGONAL:
        return geometry
    parts = [g for g in getattr(geometry, "geoms", ()) if g.geom_type in _POLYGONAL]
    return shapely.union_all(parts) if parts else shapely.Polygon()


class Geofence:
    """A named polygonal area; coordinates are WGS84 (lon, lat) as in GeoJSON."""

    def __init__(
        self, name: str, geometry: BaseGeometry, buffer_km: float = 0.0, source: str = ""
    ) -> None:
        where = source or name
        if geometry.is_empty:
            raise GeofenceError(f"{where}: geofence {name!r} is empty")
        if geometry.geom_type not in _POLYGONAL and geometry.geom_type != "GeometryCollection":
            raise GeofenceError(
                f"{where}: geofence {name!r} is a {geometry.geom_type}, not a Polygon/MultiPolygon"
            )
        if not geometry.is_valid:
            reason = shapely.is_valid_reason(geometry)
            geometry = _polygonal_part(shapely.make_valid(geometry))
            log.warning("%s: geofence %r was invalid (%s); repaired", where, name, reason)
        geometry = _polygonal_part(geometry)
        if geometry.is_empty:
            raise GeofenceError(f"{where}: geofence {name!r} has no area")
        centre = geometry.centroid
        self._projection = _Equidistant(centre.y, centre.x)
        self._local = shapely.transform(geometry, self._projection.forward, interleaved=False)
        if buffer_km:
            self._local = self._local.buffer(buffer_km * 1000.0)
            if self._local.is_empty:
                raise GeofenceError(
                    f"{where}: geofence {name!r} vanishes with buffer_km={buffer_km}"
                )
            geometry = _polygonal_part(
                shapely.transform(self._local, self._projection.inverse, interleaved=False)
            )
        self.name = name
        self.buffer_km = buffer_km
        self.geometry: BaseGeometry = geometry
        self._boundary = self._local.boundary
        shapely.prepare(self.geometry)
        shapely.prepare(self._boundary)
        self._min_lon, self._min_lat, self._max_lon, self._max_lat = geometry.bounds

    @classmethod
    def from_file(
        cls, path: str | Path, name: str | None = None, buffer_km: float = 0.0
    ) -> Geofence:
        """Load any GeoJSON (FeatureCollection, Feature or bare geometry) of polygons."""
        path = Path(path)
        geoms = [g for g in _read_geometries(path) if g is not None and not g.is_empty]
        if not geoms:
            raise GeofenceError(f"{path}: no geometry in the file")
        kinds = sorted({g.geom_type for g in geoms} - set(_POLYGONAL))
        if kinds:
            raise GeofenceError(
                f"{path}: a geofence must be Polygon/MultiPolygon, found {', '.join(kinds)}"
            )
        repaired = []
        for g in geoms:
            if not g.is_valid:
                log.warning(
                    "%s: invalid polygon (%s); repaired with make_valid",
                    path,
                    shapely.is_valid_reason(g),
                )
                g = _polygonal_part(shapely.make_valid(g))
            repaired.append(g)
        merged = shapely.union_all(repaired)
        if merged.is_empty:
            raise GeofenceError(f"{path}: the polygons have no area, even after repair")
        return cls(name or path.stem, merged, buffer_km, source=str(path))

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(min_lon, min_lat, max_lon, max_lat), e.g. for an aggregator's bounding box."""
        return self._min_lon, self._min_lat, self._max_lon, self._max_lat

    def contains(self, lat: float, lon: float) -> bool:
        """Whether the position is inside the fence (points on the border are not)."""
        if not (self._min_lat <= lat <= self._max_lat and self._min_lon <= lon <= self._max_lon):
            return False
        return bool(shapely.contains_xy(self.geometry, lon, lat))

    def distance_km(self, lat: float, lon: float) -> float:
        """Distance to the fence's border in km, inside or outside (for hysteresis).

        Exact to well under 1 % within a few hundred km of the fence's centre.
        """
        x, y = self._projection.forward(lon, lat)
        return float(shapely.distance(self._boundary, shapely.Point(x, y))) / 1000.0

    def __repr__(self) -> str:
        return f"Geofence({self.name!r}, buffer_km={self.buffer_km})"


class _Equidistant:
    """Azimuthal equidistant projection centred on (lat0, lon0), metres, spherical Earth:
    distances from the centre and near it are true."""

    def __init__(self, lat0: float, lon0: float) -> None:
        self.lon0 = np.radians(lon0)
        self.sin0, self.cos0 = np.sin(np.radians(lat0)), np.cos(np.radians(lat0))

    def forward(self, lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], ...]:
        """(x, y) in metres of WGS84 longitudes and latitudes."""
        phi, dlon = np.radians(lat), np.radians(lon) - self.lon0
        sin_phi, cos_phi, cos_dlon = np.sin(phi), np.cos(phi), np.cos(dlon)
        c = np.arccos(np.clip(self.sin0 * sin_phi + self.cos0 * cos_phi * cos_dlon, -1, 1))
        sin_c = np.sin(c)
        k = _EARTH_RADIUS_M * np.divide(c, sin_c, out=np.ones_like(c), where=sin_c > 1e-12)
        return (k * cos_phi * np.sin(dlon),
                k * (self.cos0 * sin_phi - self.sin0 * cos_phi * cos_dlon))

    def inverse(self, x: ArrayLike, y: ArrayLike) -> tuple[NDArray[np.float64], ...]:
        """(longitude, latitude) in degrees of projected metres."""
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        rho = np.hypot(x, y)
        c = rho / _EARTH_RADIUS_M
        sin_c, cos_c = np.sin(c), np.cos(c)
        along = np.divide(y * sin_c, rho, out=np.zeros_like(rho), where=rho > 0)
        lat = np.arcsin(np.clip(cos_c * self.sin0 + along * self.cos0, -1, 1))
        lon = self.lon0 + np.arctan2(x * sin_c, rho * self.cos0 * cos_c - y * self.sin0 * sin_c)
        return (np.degrees(lon) + 180) % 360 - 180, np.degrees(lat)


def _read_geometries(path: Path) -> list[BaseGeometry | None]:
    """The file's geometries in WGS84 (lon, lat).

    GeoJSON is parsed with shapely alone: geopandas and pandas would add ~60 MB and a
    second of start-up to a daemon on a Raspberry Pi for one small file, and GDAL
    (pyogrio) ~30 MB more. Other formats (a Shapefile, a GeoPackage) go through them.
    """
    if path.suffix.lower() not in (".geojson", ".json"):
        return _read_with_gdal(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise GeofenceError(f"{path}: cannot read GeoJSON: {exc}") from exc
    if not isinstance(document, dict):
        raise GeofenceError(f"{path}: not a GeoJSON object")
    kind = document.get("type")
    if kind == "FeatureCollection":
        features = document.get("features") or []
    elif kind == "Feature":
        features = [document]
    else:  # a bare geometry
        features = [{"type": "Feature", "geometry": document}]
    if not isinstance(features, list) or not all(isinstance(f, dict) for f in features):
        raise GeofenceError(f"{path}: features must be a list of GeoJSON Feature objects")
    # RFC 7946: GeoJSON coordinates are WGS84 longitude, latitude.
    return [_geometry(f.get("geometry"), path) for f in features]


def _geometry(document: Any, path: Path) -> BaseGeometry | None:
    if document is None:
        return None
    try:
        return shape(document)
    except Exception as exc:  # shapely raises several types for malformed geometries
        raise GeofenceError(f"{path}: not valid GeoJSON geometry: {exc}") from exc


def _read_with_gdal(path: Path) -> list[BaseGeometry | None]:
    import geopandas as gpd

    try:
        frame = gpd.read_file(path, engine="pyogrio")
    except Exception as exc:  # pyogrio/GDAL raise several types for unreadable files
        raise GeofenceError(f"{path}: cannot read: {exc}") from exc
    if frame.crs is not None and not frame.crs.equals("EPSG:4326"):
        frame = frame.to_crs("EPSG:4326")
    return list(frame.geometry)
