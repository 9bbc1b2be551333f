"""Small flat-Earth and angle helpers around airports and runway thresholds.

Distances near a field are a few km, where a local flat frame is exact enough; the
great-circle functions of :mod:`flightwatch.decoder.geodesy` serve the longer ones.
"""

from __future__ import annotations

import math

from flightwatch.db.airports import Airport, haversine_km
from flightwatch.db.runways import RunwayEnd
from flightwatch.decoder.geodesy import bearing_deg

KM_PER_DEG_LAT = 111.195
FT_PER_KM = 3280.84
KM_PER_NM = 1.852

COMPASS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


def angle_between(a: float, b: float) -> float:
    """The smaller angle between two headings, 0..180 degrees."""
    return abs((a - b + 180.0) % 360.0 - 180.0)


def along_cross(lat: float, lon: float, end: RunwayEnd) -> tuple[float, float]:
    """(km before the threshold on the extended centreline, km off it)."""
    east = (lon - end.lon) * KM_PER_DEG_LAT * math.cos(math.radians(end.lat))
    north = (lat - end.lat) * KM_PER_DEG_LAT
    h = math.radians(end.heading_deg)
    along = -(east * math.sin(h) + north * math.cos(h))
    cross = abs(east * math.cos(h) - north * math.sin(h))
    return along, cross


def height_ft(altitude_ft: float, airport: Airport, end: RunwayEnd | None = None) -> float:
    """Height above the threshold (where its elevation is known) or the field."""
    elevation = end.elevation_ft if end is not None and end.elevation_ft is not None else None
    if elevation is None:
        elevation = airport.elevation_ft or 0.0
    return altitude_ft - elevation


def distance_bearing(lat: float, lon: float, airport: Airport) -> tuple[float, float]:
    """(km, bearing in degrees) from the point to the airport."""
    return (haversine_km(lat, lon, airport.lat, airport.lon),
            bearing_deg(lat, lon, airport.lat, airport.lon))


def compass(bearing: float) -> str:
    """``NW`` for 315 degrees: a direction a reader takes in at a glance."""
    return COMPASS[round(bearing % 360.0 / 45.0) % 8]


def path_angle_deg(height_ft: float, distance_km: float) -> float:
    """The angle of a straight path losing ``height_ft`` over ``distance_km``."""
    return math.degrees(math.atan2(height_ft / FT_PER_KM, max(distance_km, 0.01)))


def path_km(height_ft: float, angle_deg: float) -> float:
    """How far a path at ``angle_deg`` goes while losing (or gaining) ``height_ft``."""
    return height_ft / FT_PER_KM / math.tan(math.radians(angle_deg))
