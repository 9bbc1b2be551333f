"""On the ground, as heard: surface messages, or low and slow near an airport."""

from __future__ import annotations

from typing import Protocol

from flightwatch.alerts.detect.config import DetectionConfig
from flightwatch.db.airports import Airport, AirportIndex


class Placed(Protocol):
    """What judging "on the ground" reads of a position (``decoder.tracker.Position``)."""

    lat: float
    lon: float
    altitude_ft: float | None
    ground_speed_kt: float | None
    on_ground: bool | None


def on_the_ground(
    position: Placed, airports: AirportIndex, cfg: DetectionConfig
) -> tuple[bool, Airport | None]:
    """On the ground (surface messages), or low and slow near an airport; and which airport.

    Low and slow counts even when ``on_ground`` says airborne: many transponders never
    switch to surface messages, and aggregators without a ground flag send altitudes.
    """
    speed = position.ground_speed_kt
    if position.on_ground is not True and (speed is None or speed >= cfg.landed_slower_kt):
        return False, None
    airport = airports.nearest(position.lat, position.lon, cfg.airport_radius_km)
    if position.on_ground:
        return True, airport
    if airport is None or position.altitude_ft is None:
        return False, None
    height_ft = position.altitude_ft - (airport.elevation_ft or 0.0)
    return height_ft < cfg.landed_below_ft, airport
