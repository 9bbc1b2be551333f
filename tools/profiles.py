"""Realistic arrival and departure trajectories, as :class:`tools.simulate.Flight` objects.

The rules of thumb a crew flies by, so that a descent looks to the code under test as a
real one does (sources: any airline's FCOM "descent planning" and ICAO PANS-OPS
Doc 8168 for the approach geometry):

* **Descent**: top of descent by the 3-NM-per-1,000-ft rule (an idle descent at ~290 kt
  is ~1,600 fpm); 250 kt below 10,000 ft (ICAO airspace classes C-G, the usual ATC
  restriction in Belarus and Russia too).
* **Approach**: an intermediate approach that joins the runway's extended centreline at
  ~11 NM and 3,000 ft above the field, decelerating to 180 kt; the 3 deg glide path
  (318 ft per NM) intercepted level at 3,000 ft, flown at 160 -> 140 kt; threshold
  crossed at ~50 ft; touchdown at the aiming point ~300 m past the threshold.
* **Circling / visual** (``final_offset_deg``): the last ``circling_nm`` flown on a
  course that many degrees off the runway, touching down on the runway's aiming point
  all the same (the roll-out then follows that course: a simulator simplification).
* **Departure**: take-off roll to ~155 kt, ~2,500 fpm initial climb on the runway
  heading, a turn towards the destination after ~4 NM, 250 kt and ~2,500 fpm to
  10,000 ft, then ~290 kt and ~2,000 fpm to cruise.

Distances along a path are nautical miles ("distance to go" to touchdown for an
arrival); altitudes are feet above sea level, speeds knots over the ground.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

from flightwatch.db.runways import RunwayEnd
from flightwatch.decoder.geodesy import bearing_deg, destination, distance_nm
from tools.airfields import Airfield
from tools.simulate import Flight, Waypoint

NM_PER_M = 1 / 1852.0
GLIDE_FT_PER_NM = 318.4  # tan(3 deg) * 6076 ft
DESCENT_FT_PER_NM = 1000 / 3  # the 3-NM-per-1,000-ft rule
TOUCHDOWN_PAST_THRESHOLD_NM = 300 * NM_PER_M
JOIN_NM = 11.0
JOIN_HEIGHT_FT = 3000.0
SPEED_LIMIT_FT = 10000.0
SAMPLE_NM = 5.0  # waypoint spacing, so piecewise-linear-in-time follows the profile


def _interpolate(points: Sequence[tuple[float, float]], x: float) -> float:
    """Piecewise-linear y(x) through ``points`` sorted by x, clamped at both ends."""
    xs = [p[0] for p in points]
    i = bisect_left(xs, x)
    if i == 0:
        return points[0][1]
    if i == len(points):
        return points[-1][1]
    (x0, y0), (x1, y1) = points[i - 1], points[i]
    return y0 if x1 == x0 else y0 + (y1 - y0) * (x - x0) / (x1 - x0)


@dataclass(frozen=True)
class Path:
    """A polyline of great-circle legs, measured in NM from its first vertex."""

    vertices: tuple[tuple[float, float], ...]

    @property
    def cumulative(self) -> list[float]:
        out = [0.0]
        for (a, b), (c, d) in pairwise(self.vertices):
            out.append(out[-1] + distance_nm(a, b, c, d))
        return out

    @property
    def length(self) -> float:
        return self.cumulative[-1]

    def at(self, s: float) -> tuple[float, float]:
        """The point ``s`` NM along the path (clamped to its ends)."""
        cumulative = self.cumulative
        s = min(max(s, 0.0), cumulative[-1])
        i = max(bisect_left(cumulative, s) - 1, 0)
        i = min(i, len(self.vertices) - 2)
        (lat0, lon0), (lat1, lon1) = self.vertices[i], self.vertices[i + 1]
        return destination(lat0, lon0, bearing_deg(lat0, lon0, lat1, lon1), s - cumulative[i])


def _waypoints(path: Path, altitude: Sequence[tuple[float, float]],
               speed: Sequence[tuple[float, float]], marks: Sequence[float],
               to_go: bool, stop_to_go: float = 0.0) -> list[Waypoint]:
    """Waypoints along ``path`` at its vertices, at ``marks`` and every SAMPLE_NM, with
    altitude and speed read from piecewise-linear profiles of the distance to go (when
    ``to_go``) or flown; with ``stop_to_go``, the path ends that far before its end."""
    length = path.length
    until = length - stop_to_go
    along = set(path.cumulative)
    along.update(length - m if to_go else m for m in marks if 0 <= m <= length)
    s = 0.0
    while s < length:
        along.add(s)
        s += SAMPLE_NM
    along = {s for s in along if s < until} | {until}
    points = []
    for s in sorted(along):
        x = length - s if to_go else s
        points.append((*path.at(s), _interpolate(altitude, x), _interpolate(speed, x)))
    return points


def touchdown_point(end: RunwayEnd) -> tuple[float, float]:
    """The aiming point: ~300 m past the threshold, on the runway heading."""
    return destination(end.lat, end.lon, end.heading_deg, TOUCHDOWN_PAST_THRESHOLD_NM)


@dataclass(frozen=True)
class ArrivalPlan:
    """How an arrival is flown: from where, how high and fast, to which runway end."""

    field: Airfield
    start: tuple[float, float]
    end: RunwayEnd
    cruise_ft: float = 35000.0
    cruise_kt: float = 450.0
    descent_kt: float = 290.0
    final_offset_deg: float = 0.0
    circling_nm: float = 2.0
    via: tuple[tuple[float, float], ...] = ()  # points flown over before the approach

    def path(self) -> Path:
        """Start -> (via) -> (base) -> joining point -> (circling point) -> touchdown."""
        touchdown = touchdown_point(self.end)
        behind = (self.end.heading_deg + 180) % 360
        join = destination(*touchdown, behind, JOIN_NM)
        vertices = [self.start, *self.via]
        inbound = bearing_deg(*join, *vertices[-1])
        off_axis = abs((inbound - behind + 180) % 360 - 180)
        if off_axis > 60:  # not a straight-in: a base leg abeam the joining point
            side = 90 if (inbound - behind) % 360 < 180 else -90
            vertices.append(destination(*join, (behind + side) % 360, 6.0))
        vertices.append(join)
        if self.final_offset_deg:
            course = (self.end.heading_deg + self.final_offset_deg) % 360
            vertices.append(destination(*touchdown, (course + 180) % 360, self.circling_nm))
        vertices.append(touchdown)
        return Path(tuple(vertices))

    def elevation_ft(self) -> float:
        return self.field.elevation_of(self.end)

    def altitude_profile(self) -> list[tuple[float, float]]:
        """(distance to go, altitude): glide path, level at the join height, 3:1 descent."""
        field = self.elevation_ft()
        join_ft = field + JOIN_HEIGHT_FT
        intercept = JOIN_HEIGHT_FT / GLIDE_FT_PER_NM
        top = JOIN_NM + (self.cruise_ft - join_ft) / DESCENT_FT_PER_NM
        return [(0.0, field), (intercept, join_ft), (JOIN_NM, join_ft), (top, self.cruise_ft)]

    def speed_profile(self) -> list[tuple[float, float]]:
        """(distance to go, ground speed): cruise, descent speed, 250 kt below 10,000 ft,
        slowing to 180 kt at the join and 140 kt at touchdown."""
        altitude = self.altitude_profile()
        top = altitude[-1][0]
        field = self.elevation_ft()
        below_limit = JOIN_NM + (SPEED_LIMIT_FT - field - JOIN_HEIGHT_FT) / DESCENT_FT_PER_NM
        points = [(0.0, 140.0), (4.0, 145.0), (altitude[1][0], 160.0), (JOIN_NM, 180.0),
                  (JOIN_NM + 10, 250.0), (below_limit, 250.0),
                  (below_limit + 3, self.descent_kt), (top - 5, self.descent_kt),
                  (top, self.cruise_kt)]
        ordered: list[tuple[float, float]] = []
        for s, v in points:  # a short arrival drops the marks it never reaches
            if not ordered or s > ordered[-1][0]:
                ordered.append((s, v))
        return ordered

    def waypoints(self, down_to_ft: float | None = None) -> list[Waypoint]:
        """The whole arrival to touchdown, or only down to ``down_to_ft`` above the
        field on the glide path (a go-around's lowest point)."""
        altitude, speed = self.altitude_profile(), self.speed_profile()
        marks = [s for s, _ in altitude] + [s for s, _ in speed] + [
            TOUCHDOWN_PAST_THRESHOLD_NM]
        stop = 0.0 if down_to_ft is None else down_to_ft / GLIDE_FT_PER_NM
        return _waypoints(self.path(), altitude, speed, marks, to_go=True, stop_to_go=stop)

    def flight(self, icao: str, callsign: str, start: datetime, *, squawk: str = "1000",
               category: int = 3, parked_s: float = 120.0) -> Flight:
        return Flight(icao, callsign, self.waypoints(), start, on_ground_at_end=True,
                      squawk=squawk, category=category, parked_s=parked_s)


CLIMB_TURN_NM = 4.0  # the turn towards the destination after the initial climb


@dataclass(frozen=True)
class DeparturePlan:
    """How a departure is flown: from which runway end, towards which bearing."""

    field: Airfield
    end: RunwayEnd
    to_bearing: float
    cruise_ft: float = 35000.0
    cruise_kt: float = 450.0
    cruise_nm: float = 40.0  # flown level after the top of climb, then the flight ends
    liftoff_kt: float = 155.0
    takeoff_accel_kt_s: float = 2.5

    def roll_nm(self) -> float:
        return self.liftoff_kt ** 2 / (2 * self.takeoff_accel_kt_s) / 3600

    def roll_s(self) -> float:
        return self.liftoff_kt / self.takeoff_accel_kt_s

    def altitude_profile(self) -> list[tuple[float, float]]:
        """(distance flown from lift-off, altitude): 2,500 fpm at ~175 kt to the turn,
        2,500 fpm at 250 kt to 10,000 ft, 2,000 fpm at 290 kt to cruise."""
        field = self.field.elevation_of(self.end)
        turn_ft = field + 2500 * 60 / 175 * CLIMB_TURN_NM
        to_limit = CLIMB_TURN_NM + (SPEED_LIMIT_FT - turn_ft) / (2500 * 60 / 250)
        to_top = to_limit + (self.cruise_ft - SPEED_LIMIT_FT) / (2000 * 60 / 290)
        return [(0.0, field), (CLIMB_TURN_NM, turn_ft), (to_limit, SPEED_LIMIT_FT),
                (to_top, self.cruise_ft), (to_top + self.cruise_nm, self.cruise_ft)]

    def speed_profile(self) -> list[tuple[float, float]]:
        altitude = self.altitude_profile()
        to_limit, to_top = altitude[2][0], altitude[3][0]
        return [(0.0, self.liftoff_kt), (CLIMB_TURN_NM, 200.0), (CLIMB_TURN_NM + 3, 250.0),
                (to_limit, 250.0), (to_limit + 3, 290.0), (to_top, 290.0),
                (to_top + 5, self.cruise_kt)]

    def path(self) -> Path:
        liftoff = destination(self.end.lat, self.end.lon, self.end.heading_deg, self.roll_nm())
        turn = destination(*liftoff, self.end.heading_deg, CLIMB_TURN_NM)
        length = self.altitude_profile()[-1][0]
        far = destination(self.field.lat, self.field.lon, self.to_bearing, length + 20)
        leg = distance_nm(*turn, *far)
        out = destination(*turn, bearing_deg(*turn, *far), max(length - CLIMB_TURN_NM, 1.0))
        return Path((liftoff, turn, out)) if leg > 0 else Path((liftoff, turn))

    def flight(self, icao: str, callsign: str, liftoff: float, *, squawk: str = "1000",
               category: int = 3, lineup_s: float = 30.0) -> Flight:
        """The departure whose wheels leave the runway at Unix time ``liftoff``."""
        from datetime import UTC

        altitude, speed = self.altitude_profile(), self.speed_profile()
        marks = [s for s, _ in altitude] + [s for s, _ in speed]
        waypoints = _waypoints(self.path(), altitude, speed, marks, to_go=False)
        begin = datetime.fromtimestamp(liftoff - lineup_s - self.roll_s(), UTC)
        return Flight(icao, callsign, waypoints, begin, squawk=squawk, category=category,
                      takes_off=True, lineup_s=lineup_s,
                      takeoff_accel_kt_s=self.takeoff_accel_kt_s)
