"""Where a descent was going, and where a climb came from: airports ranked by fit.

A receiver 100 km and more from an airport loses an arriving aircraft thousands of
feet up. Its last minutes still say a lot: the height it has to lose, how steeply
it is losing it, and where it points. An airline descent loses height on a path of
about 3 degrees (pilots plan "3 NM per 1,000 ft"); any path between ``glide_min_deg``
and ``glide_max_deg`` is plausible, and the turns of an arrival (joining the final,
a downwind leg) lengthen the direct distance. So for each airport in reach:

- the **path needed**: the direct distance, lengthened by the turn towards the field
  (nothing when the track points at it, twice the distance flying away from it), and
  up to ``detour_km`` longer: an aircraft too high for the distance left is vectored
  round, or flies a circuit, until it is not;
- the **path flown**: the height to lose at the aircraft's own descent angle
  (vertical rate over ground speed, from the last minutes), held within the
  plausible angles; below 4,000 ft above the field it may also fly level for up to
  20 km (an intermediate approach, a downwind leg or a circuit holds its height
  until it turns in), so the path flown is a range there;
- the **misfit**: how far apart the two ranges are (``|ln(needed/flown)|`` between
  their nearest ends, 0 where they overlap: 0.1 is 10 %),
  plus a penalty for pointing away from an airport that is still far, plus a prior
  for the field itself: a short or unknown runway is where few aircraft that a
  receiver tracks from far away are going (0.3 under 4,000 ft or unknown, 0.1 under
  8,000 ft), so a strip beside the track does not outrank the airport ahead.

Candidates whose misfit is within ``accept`` are ranked; two whose misfits differ
by less than ``alike`` fit alike and are reported together, never guessed. The
touchdown is estimated from the path at the average of the current speed and an
approach speed, with an uncertainty that grows with the time to go.

A departure is the mirror: first heard climbing, the height gained over the climb
angle gives the path flown since the runway; an airport the climb can have started
from is one that path reaches, with the aircraft pointing away from it.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from flightwatch.alerts.detect.config import DetectionConfig
from flightwatch.alerts.detect.geometry import (
    KM_PER_NM,
    angle_between,
    distance_bearing,
    height_ft,
    path_km,
)
from flightwatch.alerts.detect.near_field import LEVEL_FPM, Moving
from flightwatch.db.airports import Airport, AirportIndex

APPROACH_KT = 140.0  # final approach speed of an airliner
LIFT_OFF_KT = 160.0  # initial climb speed
_SAMPLE_EVERY_S = 15.0
_SAMPLES = 13  # three minutes
_RATE_SPAN_S = 60.0  # a vertical rate is averaged over at least this long
ACCEPT = 0.8  # misfit beyond which an airport is not a candidate
_POSSIBLE = 1.2  # ... not even one a turnaround could confirm
_NEAR_KM = 15.0  # closer than this, an arrival may point anywhere (downwind, base)
_HEADING_RAMP_KM = 30.0
_MIN_UNCERTAINTY_S = 120.0
_CLIMB_MAX_DEG = 10.0
_LOW_KM = 25.0  # a slow, low aircraft this near a field is arriving even when level
_LOW_FT = 4000.0
_LOW_KT = 250.0
_CLIMBED_AWAY_FT = 500.0
_LEVEL_KM = 20.0  # level flight an arrival may add below _LOW_FT
_SHORT_RUNWAY_FT = 4000.0
_LONG_RUNWAY_FT = 8000.0

Sample = tuple[float, float, float, float]  # epoch seconds, lat, lon, altitude_ft


class RecentTrack:
    """The last three minutes of one aircraft, a sample every 15 s: enough to average its
    vertical rate over a minute or more (a single velocity message is noisy) at a few
    hundred bytes an aircraft."""

    __slots__ = ("_samples",)

    def __init__(self) -> None:
        self._samples: deque[Sample] = deque(maxlen=_SAMPLES)

    def add(self, position: Moving) -> None:
        if position.altitude_ft is None:
            return
        t = position.time.timestamp()
        samples = self._samples
        if samples and t - samples[-1][0] < _SAMPLE_EVERY_S:
            return
        samples.append((t, position.lat, position.lon, position.altitude_ft))

    def clear(self) -> None:
        self._samples.clear()

    def climbed_ft(self, position: Moving) -> float:
        """How far ``position`` is above the lowest point of the last three minutes: an
        aircraft well above it is climbing away (a go-around, a departure levelling off),
        whatever its rate just now."""
        if position.altitude_ft is None or not self._samples:
            return 0.0
        return position.altitude_ft - min(sample[3] for sample in self._samples)

    def vertical_rate_fpm(self, position: Moving) -> float | None:
        """Averaged over up to three minutes before ``position`` (at least one), else the
        position's own reported rate."""
        if position.altitude_ft is not None and self._samples:
            t = position.time.timestamp()
            first = self._samples[0]
            span = t - first[0]
            if span >= _RATE_SPAN_S:
                return (position.altitude_ft - first[3]) / span * 60.0
        return position.vertical_rate_fpm


@dataclass(frozen=True, slots=True)
class Candidate:
    """One airport an arrival (or a departure) fits, and how well."""

    airport: Airport
    misfit: float
    distance_km: float
    bearing_deg: float  # from the aircraft to the airport
    height_ft: float  # above the field
    path_km: float  # the estimated path between the aircraft and the runway
    time: datetime  # estimated touchdown (lift-off)
    uncertainty_s: int


@dataclass(frozen=True, slots=True)
class Fit:
    """The ranked candidates of one descent (or climb) and the figures behind them."""

    candidates: tuple[Candidate, ...]  # best first, misfit <= the possible bound
    rate_fpm: float  # the vertical rate used (averaged)
    angle_deg: float  # the path angle it implies

    @property
    def accepted(self) -> tuple[Candidate, ...]:
        return tuple(c for c in self.candidates if c.misfit <= ACCEPT)

    def best(self, alike: float) -> tuple[Candidate, ...]:
        """The best accepted candidate, with every one that fits alike; () if none."""
        accepted = self.accepted
        if not accepted:
            return ()
        return tuple(c for c in accepted if c.misfit - accepted[0].misfit < alike)

    def codes(self) -> tuple[str, ...]:
        return tuple(c.airport.code for c in self.candidates)

    def get(self, code: str) -> Candidate | None:
        return next((c for c in self.candidates if c.airport.code == code), None)


# The shortest runway an aircraft of an ADS-B emitter category lands on (a typical figure
# of its class at sea level): large jets and business jets need 4,500 ft, heavies 6,000.
_RUNWAY_NEEDED_FT = {"A3": 4500.0, "A4": 4500.0, "A5": 6000.0, "A6": 4500.0}


def runway_needed_ft(category: str | None) -> float:
    """The landing candidates' shortest runway for an aircraft of ``category`` (0: any)."""
    return _RUNWAY_NEEDED_FT.get(category or "", 0.0)


def suitable(airport: Airport, min_runway_ft: float) -> bool:
    """Whether a fixed-wing aircraft needing ``min_runway_ft`` can land there."""
    if not airport.fixed_wing or airport.type in {"heliport", "seaplane_base", "balloonport",
                                                  "closed"}:
        return False
    length = airport.longest_runway_ft
    return length is None or length >= min_runway_ft


def arrival_fit(position: Moving, track: RecentTrack, airports: AirportIndex,
                cfg: DetectionConfig, min_runway_ft: float = 0.0) -> Fit | None:
    """Where a track lost at ``position`` was descending to; None when it was not arriving
    (climbing, too high, unknown speed or heading, or no airport in reach)."""
    rate = track.vertical_rate_fpm(position)
    speed, heading = position.ground_speed_kt, position.track_deg
    altitude = position.altitude_ft
    if altitude is None or rate is None or speed is None or heading is None or speed <= 30:
        return None
    if rate > -cfg.descending_fpm and not _low_and_near(position, airports):
        return None
    if track.climbed_ft(position) > _CLIMBED_AWAY_FT:
        return None
    angle = _angle(-rate, speed, cfg.glide_min_deg, cfg.glide_max_deg)
    found = []
    for km, airport in airports.within(position.lat, position.lon, cfg.search_km):
        if not suitable(airport, min_runway_ft):
            continue
        height = max(height_ft(altitude, airport), 0.0)
        if height > cfg.probable_below_ft or height_ft(altitude, airport) < -500.0:
            continue
        _, bearing = distance_bearing(position.lat, position.lon, airport)
        off = angle_between(heading, bearing)
        needed = km * (1.0 + off / 180.0) + 2.0
        flown = path_km(height, angle) if height > 0 else needed
        if needed - km > cfg.detour_km and km > _NEAR_KM:
            continue  # it would have to turn back from too far
        level = _LEVEL_KM if height < _LOW_FT else 0.0
        misfit = (_apart((needed, needed + cfg.detour_km), (flown, flown + level))
                  + _heading_penalty(off, km) + _runway_prior(airport))
        if misfit > _POSSIBLE:
            continue
        path = min(max(flown, needed), needed + cfg.detour_km)
        seconds = path / ((speed + APPROACH_KT) / 2.0 * KM_PER_NM) * 3600.0
        found.append(Candidate(airport, round(misfit, 3), km, bearing, height, path,
                               position.time + timedelta(seconds=round(seconds)),
                               _uncertainty(seconds)))
    if not found:
        return None
    found.sort(key=lambda c: (c.misfit, c.distance_km, c.airport.ident))
    return Fit(tuple(found), rate, angle)


def departure_fit(position: Moving, track: RecentTrack, airports: AirportIndex,
                  cfg: DetectionConfig, min_runway_ft: float = 0.0) -> Fit | None:
    """Where a track first heard at ``position``, climbing, can have taken off from."""
    rate = track.vertical_rate_fpm(position)
    speed, heading = position.ground_speed_kt, position.track_deg
    altitude = position.altitude_ft
    if (altitude is None or rate is None or speed is None or heading is None
            or rate < cfg.climbing_fpm or speed <= 30):
        return None
    angle = _angle(rate, speed, cfg.glide_min_deg, _CLIMB_MAX_DEG)
    found = []
    for km, airport in airports.within(position.lat, position.lon, cfg.search_km):
        if not suitable(airport, min_runway_ft):
            continue
        height = height_ft(altitude, airport)
        if height <= 0 or height > cfg.probable_below_ft:
            continue
        _, towards = distance_bearing(position.lat, position.lon, airport)
        off = angle_between(heading, (towards + 180.0) % 360.0)  # pointing away from it
        needed = km * (1.0 + off / 180.0) + 2.0
        flown = path_km(height, angle)
        misfit = (_apart((needed, needed), (flown, flown)) + _heading_penalty(off, km)
                  + _runway_prior(airport))
        if misfit > _POSSIBLE:
            continue
        seconds = needed / ((speed + LIFT_OFF_KT) / 2.0 * KM_PER_NM) * 3600.0
        found.append(Candidate(airport, round(misfit, 3), km, towards, height, needed,
                               position.time - timedelta(seconds=round(seconds)),
                               _uncertainty(seconds)))
    if not found:
        return None
    found.sort(key=lambda c: (c.misfit, c.distance_km, c.airport.ident))
    return Fit(tuple(found), rate, angle)


def _low_and_near(position: Moving, airports: AirportIndex) -> bool:
    """Low, slow and near a field, not climbing: arriving even when level (an intermediate
    approach holds its altitude until it joins the final)."""
    altitude, speed, rate = position.altitude_ft, position.ground_speed_kt, \
        position.vertical_rate_fpm
    if altitude is None or speed is None or speed > _LOW_KT or (rate or 0.0) >= LEVEL_FPM:
        return False
    return any(height_ft(altitude, airport) < _LOW_FT
               for _, airport in airports.within(position.lat, position.lon, _LOW_KM))


def _angle(rate_fpm: float, speed_kt: float, low: float, high: float) -> float:
    """The path angle of a vertical rate at a ground speed, held within [low, high]."""
    if rate_fpm <= 0:
        return 3.0 if low <= 3.0 <= high else low
    raw = math.degrees(math.atan2(rate_fpm, speed_kt * 6076.12 / 60.0))
    return min(max(raw, low), high)


def _heading_penalty(off_deg: float, km: float) -> float:
    """Pointing more than 45 degrees off an airport that is still far counts against it;
    within ``_NEAR_KM`` an arrival may point anywhere (a downwind leg, a base turn)."""
    ramp = min(max((km - _NEAR_KM) / _HEADING_RAMP_KM, 0.0), 1.0)
    return max(0.0, off_deg - 45.0) / 90.0 * ramp


def _apart(needed: tuple[float, float], flown: tuple[float, float]) -> float:
    """How far apart (as a log ratio of their nearest ends) two ranges of path lengths
    are; 0 where they overlap."""
    if needed[1] < flown[0]:
        return math.log(max(flown[0], 0.1) / max(needed[1], 0.1))
    if needed[0] > flown[1]:
        return math.log(needed[0] / max(flown[1], 0.1))
    return 0.0


def _runway_prior(airport: Airport) -> float:
    """What the field itself adds to a misfit: nothing for a long runway."""
    length = airport.longest_runway_ft
    if length is None or length < _SHORT_RUNWAY_FT:
        return 0.3
    return 0.1 if length < _LONG_RUNWAY_FT else 0.0


def _uncertainty(seconds_to_go: float) -> int:
    """Plus or minus: a quarter of the time to go, and two minutes at least."""
    return round(max(_MIN_UNCERTAINTY_S, seconds_to_go * 0.25 + 60.0))
