"""Inferred arrivals and departures: a track lost (or first heard) low near a field.

Surface messages are rarely heard beyond a few km, and a receiver near an airport
usually loses an aircraft a few hundred feet above it. Lost that low on a runway's
approach, or very low over the field whatever its heading (a circling or visual
approach is not aligned with any runway until the last seconds), it landed there.
The mirror: first heard climbing out low near a field, it has just left it.

Geometry is flat around each threshold: ``along`` is how far before the threshold
the aircraft is on the extended centreline (negative past it, over the runway),
``cross`` how far off it. The approach cone widens with ``approach_deg / 2`` from
0.5 km at the threshold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from flightwatch.alerts.detect.config import DetectionConfig
from flightwatch.alerts.detect.geometry import KM_PER_NM, along_cross, angle_between, height_ft
from flightwatch.db.airports import Airport, AirportIndex
from flightwatch.db.runways import RunwayEnd

_THRESHOLD_WIDTH_KM = 0.5  # half-width of the approach cone at the threshold
_OVER_RUNWAY_KM = 4.0  # how far past a threshold still counts as over its runway
_LATEST_TOUCHDOWN = timedelta(minutes=5)
LEVEL_FPM = 300.0  # a vertical rate below this (in size) is level


class Moving(Protocol):
    """A position with its motion (``decoder.tracker.Position``)."""

    time: datetime
    lat: float
    lon: float
    altitude_ft: float | None
    ground_speed_kt: float | None
    track_deg: float | None
    vertical_rate_fpm: float | None


@dataclass(frozen=True, slots=True)
class NearField:
    """An inferred touchdown or lift-off: where, when (estimated) and how it was placed."""

    airport: Airport
    time: datetime
    runway: str | None  # the runway end approached (or climbed out of), when known
    distance_km: float  # from the airport (approach: to the threshold)
    height_ft: float  # above the field


def climbing(position: Moving, threshold_fpm: float = LEVEL_FPM) -> bool:
    rate = position.vertical_rate_fpm
    return rate is not None and rate >= threshold_fpm


def not_climbing(position: Moving) -> bool:
    """Descending or level, as far as a known vertical rate says. Heard again so, airborne,
    after an arrival inferred at its loss, the aircraft had only dropped below coverage
    on the approach (or went around): the arrival is withdrawn."""
    rate = position.vertical_rate_fpm
    return rate is not None and rate < LEVEL_FPM


def _in_cone(lat: float, lon: float, end: RunwayEnd, cfg: DetectionConfig) -> float | None:
    """Km to go to the threshold when the point is on its approach (or over its runway)."""
    along, cross = along_cross(lat, lon, end)
    if not -_OVER_RUNWAY_KM <= along <= cfg.approach_km:
        return None
    width = _THRESHOLD_WIDTH_KM + max(along, 0.0) * math.tan(math.radians(cfg.approach_deg / 2))
    return max(along, 0.0) if cross <= width else None


def _search_km(cfg: DetectionConfig) -> float:
    return max(cfg.airport_radius_km, cfg.overhead_km,
               cfg.approach_km + _THRESHOLD_WIDTH_KM + 3.0)


def inferred_arrival(position: Moving, airports: AirportIndex,
                     cfg: DetectionConfig) -> NearField | None:
    """The airport a track lost at ``position`` landed at, if it was lost landing.

    In order: on a runway's approach below ``inferred_below_ft``; very low
    (``overhead_below_ft``) within ``overhead_km`` of the field whatever the heading;
    for a field without known runway ends, below ``inferred_below_ft`` within
    ``airport_radius_km``. Never climbing, never faster than ``approach_slower_kt``.
    """
    altitude, speed, track = position.altitude_ft, position.ground_speed_kt, position.track_deg
    if altitude is None or speed is None or speed >= cfg.approach_slower_kt:
        return None
    if climbing(position):
        return None
    for km, airport in airports.within(position.lat, position.lon, _search_km(cfg)):
        ends = airports.runway_ends(airport)
        if track is not None:
            for end in ends:
                if angle_between(track, end.heading_deg) > cfg.approach_deg:
                    continue
                height = height_ft(altitude, airport, end)
                if height >= cfg.inferred_below_ft:
                    continue
                to_go = _in_cone(position.lat, position.lon, end, cfg)
                if to_go is not None:
                    return NearField(airport, _touchdown(position.time, to_go, speed),
                                     end.ident, to_go, height)
        height = height_ft(altitude, airport)
        overhead = km <= cfg.overhead_km and height < cfg.overhead_below_ft
        unmapped = not ends and km <= cfg.airport_radius_km and height < cfg.inferred_below_ft
        if overhead or unmapped:
            return NearField(airport, _touchdown(position.time, km, speed), None, km, height)
    return None


def inferred_departure(position: Moving, airports: AirportIndex,
                       cfg: DetectionConfig) -> NearField | None:
    """The airport a track first heard at ``position``, climbing out low, has just left.

    Low means below ``landed_below_ft`` (a climb is steeper than an approach); near
    means within ``airport_radius_km`` of the airport, or on the climb-out of one of
    its runways: the approach side of the opposite end, flown the other way.
    """
    altitude, track = position.altitude_ft, position.track_deg
    if altitude is None or not climbing(position):
        return None
    for km, airport in airports.within(position.lat, position.lon, _search_km(cfg)):
        height = height_ft(altitude, airport)
        if height >= cfg.landed_below_ft:
            continue
        if km <= cfg.airport_radius_km:
            return NearField(airport, _lift_off(position, height), None, km, height)
        if track is None:
            continue
        for end in airports.runway_ends(airport):
            reciprocal = (end.heading_deg + 180.0) % 360.0
            if (angle_between(track, reciprocal) <= cfg.approach_deg
                    and _in_cone(position.lat, position.lon, end, cfg) is not None):
                return NearField(airport, _lift_off(position, height), end.ident, km, height)
    return None


def _touchdown(last_heard: datetime, km_to_go: float, speed_kt: float) -> datetime:
    """The last position's time plus the distance left at the last speed (at most 5 min)."""
    if speed_kt <= 0:
        return last_heard
    seconds = km_to_go / (speed_kt * KM_PER_NM) * 3600.0
    return last_heard + min(timedelta(seconds=round(seconds)), _LATEST_TOUCHDOWN)


def _lift_off(position: Moving, height: float) -> datetime:
    """First heard at ``height`` climbing: lifted off that many feet of climb earlier (a
    take-off roll and initial climb are too short to matter more)."""
    rate = position.vertical_rate_fpm or 0.0
    if rate <= 0 or height <= 0:
        return position.time
    return position.time - min(timedelta(seconds=round(height / rate * 60.0)), _LATEST_TOUCHDOWN)
