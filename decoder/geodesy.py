"""Great-circle geometry on a spherical Earth, in nautical miles and degrees.

The tracker (plausible speeds), the rules (where a track points) and the simulator
in tools/ all measure the same way.
"""

from __future__ import annotations

from math import asin, atan2, cos, degrees, radians, sin, sqrt

EARTH_RADIUS_NM = 3440.065


def central_angle(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Angle at the Earth's centre between two points, radians (haversine)."""
    p1, p2 = radians(lat1), radians(lat2)
    h = sin((p2 - p1) / 2) ** 2 + cos(p1) * cos(p2) * sin(radians(lon2 - lon1) / 2) ** 2
    return 2 * asin(min(1.0, sqrt(h)))


def distance_nm(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in nautical miles."""
    return EARTH_RADIUS_NM * central_angle(lat1, lon1, lat2, lon2)


def bearing_deg(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Initial great-circle bearing from point 1 to point 2, degrees true 0..360."""
    p1, p2 = radians(lat1), radians(lat2)
    dl = radians(lon2 - lon1)
    y = sin(dl) * cos(p2)
    x = cos(p1) * sin(p2) - sin(p1) * cos(p2) * cos(dl)
    return degrees(atan2(y, x)) % 360


def destination(lat: float, lon: float, bearing: float, distance: float) -> tuple[float, float]:
    """The point ``distance`` NM from (lat, lon) along the initial ``bearing`` (degrees)."""
    p, b = radians(lat), radians(bearing)
    lat2, lon2, _ = advance(sin(p), cos(p), radians(lon), sin(b), cos(b), distance)
    return lat2, lon2


def advance(
    sin_lat0: float, cos_lat0: float, lon0: float, sin_b: float, cos_b: float, distance: float
) -> tuple[float, float, float]:
    """Latitude, longitude and track (degrees) after ``distance`` NM on a great circle.

    The start point and initial bearing come as sines and cosines so a leg can
    compute them once.
    """
    d = distance / EARTH_RADIUS_NM
    sin_d, cos_d = sin(d), cos(d)
    sin_lat = sin_lat0 * cos_d + cos_lat0 * sin_d * cos_b
    lon = lon0 + atan2(sin_b * sin_d * cos_lat0, cos_d - sin_lat0 * sin_lat)
    track = atan2(sin_b * cos_lat0, cos_lat0 * cos_b * cos_d - sin_lat0 * sin_d)
    return degrees(asin(sin_lat)), (degrees(lon) + 180) % 360 - 180, degrees(track) % 360
