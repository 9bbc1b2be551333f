"""Landings and takeoffs a receiver does not hear: judged from the last or first position.

Surface messages are rarely heard beyond a few km and coverage usually ends a few
hundred feet above a field, so most landings are never *observed*. A track whose
last position is low above an airport, descending or level, at approach speed and
on a runway's approach (or, where the runway ends are unknown, close to the
airport) has landed there once it falls silent: an *inferred* arrival. The
mirror: a track first heard climbing out low over an airport departed from it.

Geometry is flat around each threshold (the distances are a few km): ``along`` is
how far before the threshold the aircraft is on the extended centreline (negative
past it, over the runway), ``cross`` how far off the centreline. The cone widens
with ``approach_deg / 2`` from 0.5 km at the threshold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from flightwatch.db.airports import Airport, AirportIndex, GroundThresholds, PositionLike
from flightwatch.db.runways import RunwayEnd

OBSERVED = "observed"  # surface messages, or low and slow at the field
INFERRED = "inferred"  # signal lost on the approach, or first heard climbing out

CLIMBING_FPM = 300.0  # a vertical rate below this is level or descending
_KM_PER_DEG_LAT = 111.195
_THRESHOLD_WIDTH_KM = 0.5  # half-width of the approach cone at the threshold
_OVER_RUNWAY_KM = 4.0  # how far past a threshold still counts as over its runway
_LATEST_ESTIMATE = timedelta(minutes=5)


class InferenceThresholds(GroundThresholds, Protocol):
    """What inference reads: ``FlightRules``, or the alert rules' ``RuleConfig``."""

    @property
    def inferred_below_ft(self) -> float: ...

    @property
    def approach_km(self) -> float: ...

    @property
    def approach_deg(self) -> float: ...

    @property
    def approach_slower_kt(self) -> float: ...


class MovingPosition(PositionLike, Protocol):
    """A position with its time and motion (``decoder.tracker.Position``)."""

    time: datetime
    track_deg: float | None
    vertical_rate_fpm: float | None


@dataclass(frozen=True, slots=True)
class Arrival:
    """Where an aircraft that fell silent landed, and when (estimated)."""

    airport: Airport
    time: datetime
    runway: str | None  # the runway end approached, when the ends are known


def _angle(a: float, b: float) -> float:
    return abs((a - b + 180.0) % 360.0 - 180.0)


def _along_cross(lat: float, lon: float, end: RunwayEnd) -> tuple[float, float]:
    """(km before the threshold on the centreline, km off it)."""
    east = (lon - end.lon) * _KM_PER_DEG_LAT * math.cos(math.radians(end.lat))
    north = (lat - end.lat) * _KM_PER_DEG_LAT
    h = math.radians(end.heading_deg)
    along = -(east * math.sin(h) + north * math.cos(h))
    cross = abs(east * math.cos(h) - north * math.sin(h))
    return along, cross


def _in_cone(lat: float, lon: float, end: RunwayEnd, rules: InferenceThresholds) -> float | None:
    """Km to go to the threshold when the point is on its approach (or over its runway)."""
    along, cross = _along_cross(lat, lon, end)
    if not -_OVER_RUNWAY_KM <= along <= rules.approach_km:
        return None
    width = _THRESHOLD_WIDTH_KM + max(along, 0.0) * math.tan(math.radians(rules.approach_deg / 2))
    return max(along, 0.0) if cross <= width else None


def _height_ft(altitude_ft: float, airport: Airport, end: RunwayEnd | None = None) -> float:
    elevation = end.elevation_ft if end is not None and end.elevation_ft is not None else None
    if elevation is None:
        elevation = airport.elevation_ft or 0.0
    return altitude_ft - elevation


def _search_km(rules: InferenceThresholds) -> float:
    return max(rules.airport_radius_km, rules.approach_km + _THRESHOLD_WIDTH_KM + 3.0)


def inferred_arrival(
    position: MovingPosition, airports: AirportIndex, rules: InferenceThresholds
) -> Arrival | None:
    """The airport a track that fell silent at ``position`` landed at, if it was landing."""
    altitude, speed = position.altitude_ft, position.ground_speed_kt
    rate, track = position.vertical_rate_fpm, position.track_deg
    if altitude is None or speed is None or speed >= rules.approach_slower_kt:
        return None
    if rate is not None and rate >= CLIMBING_FPM:
        return None
    for km, airport in airports.within(position.lat, position.lon, _search_km(rules)):
        ends = airports.runway_ends(airport)
        if not ends:
            if km <= rules.airport_radius_km and (
                _height_ft(altitude, airport) < rules.inferred_below_ft
            ):
                return Arrival(airport, _estimate(position.time, km, speed), None)
            continue
        if track is None:
            continue
        for end in ends:
            if _angle(track, end.heading_deg) > rules.approach_deg:
                continue
            if _height_ft(altitude, airport, end) >= rules.inferred_below_ft:
                continue
            to_go = _in_cone(position.lat, position.lon, end, rules)
            if to_go is not None:
                return Arrival(airport, _estimate(position.time, to_go, speed), end.ident)
    return None


def not_climbing(position: MovingPosition) -> bool:
    """Descending or level, as far as a known vertical rate says. Heard again so, airborne,
    after a landing inferred at its loss, the aircraft had only dropped below coverage
    on the approach (the flights undo the arrival, the alert rules retract the alert);
    heard again climbing, it had landed and took off again."""
    rate = position.vertical_rate_fpm
    return rate is not None and rate < CLIMBING_FPM


def inferred_departure(
    position: MovingPosition, airports: AirportIndex, rules: InferenceThresholds
) -> Airport | None:
    """The airport a track first heard at ``position``, climbing out low, has just left.

    Low means below ``landed_below_ft`` (a climb is steeper than an approach); near
    means within ``airport_radius_km`` of the airport, or on the climb-out of one of
    its runways: the approach side of the opposite end, flown the other way.
    """
    altitude, rate, track = position.altitude_ft, position.vertical_rate_fpm, position.track_deg
    if altitude is None or rate is None or rate < CLIMBING_FPM:
        return None
    for km, airport in airports.within(position.lat, position.lon, _search_km(rules)):
        if _height_ft(altitude, airport) >= rules.landed_below_ft:
            continue
        if km <= rules.airport_radius_km:
            return airport
        if track is None:
            continue
        for end in airports.runway_ends(airport):
            reciprocal = (end.heading_deg + 180.0) % 360.0
            if (_angle(track, reciprocal) <= rules.approach_deg
                    and _in_cone(position.lat, position.lon, end, rules) is not None):
                return airport
    return None


def _estimate(last_heard: datetime, km_to_go: float, speed_kt: float) -> datetime:
    """Touchdown: the last position's time plus the distance left at the last speed."""
    if speed_kt <= 0:
        return last_heard
    seconds = km_to_go / (speed_kt * 1.852) * 3600.0
    return last_heard + min(timedelta(seconds=round(seconds)), _LATEST_ESTIMATE)
