"""What a receiver hears: line of sight over a 4/3 Earth, a skyline mask, a range limit
and random frame loss.

Tests of arrival and departure inference need traffic as a real receiver hears it: a
rooftop 200 km away loses a descending aircraft far above the airport, one next to
the field hears it down to the runway. This model decides, for an aircraft's position,
whether a receiver can hear it at all (:meth:`Receiver.in_view`), and drops heard
frames at random (:attr:`Receiver.frame_loss`), seeded by the caller.

The physics, with the sources of each formula:

* **Radio horizon.** VHF/UHF waves bend slightly towards the ground in the standard
  atmosphere (refractivity falling ~40 N-units per km); the usual model keeps rays
  straight over an Earth of *effective* radius ``k R`` with ``k = 4/3``
  (ITU-R P.453 and P.834; Bean & Dutton, *Radio Meteorology*, 1966). The distance to
  the horizon of an antenna ``h`` metres above the terrain is
  ``d = sqrt(2 k R h + h^2) ~= 4.12 sqrt(h)`` km, and two points see each other over
  smooth terrain when ``d <= 4.12 (sqrt(h1) + sqrt(h2))`` km (ITU-R P.526 sec. 3;
  any radar handbook, e.g. Skolnik, *Introduction to Radar Systems*, sec. 8.5).
  Heights are taken above the receiver's ground (``ground_m``), i.e. the terrain is
  flat at that level.
* **Skyline mask.** Real terrain is not smooth: hills, forest edges and buildings form
  a skyline around the antenna, typically a few tenths of a degree above the
  horizontal for a rooftop on a plain (what a HeyWhatsThat panorama or a tar1090
  range outline shows). An aircraft farther than the skyline (``mask_beyond_km``) is
  heard only when its elevation angle seen from the antenna is at least
  ``mask_deg``; an aircraft nearer than the skyline stands in front of it and only the
  smooth-Earth horizon limits it. The elevation angle over the effective Earth is
  ``tan e = (cos t - (Re + h1) / (Re + h2)) / sin t`` with ``t = d / Re`` (the
  triangle Earth's centre - antenna - aircraft; ITU-R P.834 sec. 4 for the
  effective-radius form).
* **Sensitivity.** Beyond ``range_km`` a 1090 MHz squitter (~125-500 W at the
  transponder) falls below a hobby receiver's noise floor whatever the geometry; a
  good rooftop setup reaches 350-450 km (tar1090 outlines of well-sited feeders).
* **Frame loss.** Inside coverage a receiver still misses frames (garbling by other
  replies, weak signal at the edge): a fixed fraction, 20-30 % by default, dropped
  independently per frame.

Defaults (:data:`MASK_DEG`, :data:`SKYLINE_KM`, :data:`RANGE_KM`) are chosen so that a
30 m rooftop antenna at 200 m ground level hears an arrival into Minsk National (UMMS)
from Moscow (from the east-north-east) down to ~15,500 ft, ~75 km out, from Vilnius
(200 km from UMMS); down to ~2,000 ft, ~9 km out, from 60 km; and down to the runway
from 15 km - the three situations of the project's landing-inference issue
(``tests/tools/test_coverage_model.py`` checks them). Over flat terrain one skyline
angle cannot put both the far loss lower and the 60-km loss higher: a mask costs height
in proportion to distance, so 0.1 deg more raises the Vilnius loss by ~1,500 ft and the
60-km loss by ~400 ft. A receiver among hills gets its own ``mask_deg``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import atan2, cos, degrees, sin, sqrt
from typing import Protocol

from flightwatch.db.airports import haversine_km

K_FACTOR = 4.0 / 3.0
"""Effective-Earth factor of the standard atmosphere (ITU-R P.453)."""
EARTH_RADIUS_KM = 6371.0088
EFFECTIVE_RADIUS_KM = K_FACTOR * EARTH_RADIUS_KM
M_PER_FT = 0.3048

MASK_DEG = 0.08
"""The skyline's elevation seen from a rooftop on the plains of Belarus and Lithuania:
forest edges, low moraine hills and the neighbouring buildings reach just above the
horizontal. Hillier sites (behind the Minsk Upland, 300-345 m) see 0.2-0.3 deg."""
SKYLINE_KM = 20.0
"""How far away that skyline stands: nearer aircraft are in front of it."""
RANGE_KM = 400.0
"""A good hobby receiver's sensitivity limit for 1090 MHz squitters."""
FRAME_LOSS = 0.25
"""The share of frames a receiver misses inside its coverage."""
GROUND_M = 200.0
"""Terrain elevation assumed when none is given: the plains around Minsk and Vilnius."""


def radio_horizon_km(height_m: float) -> float:
    """Distance to the radio horizon of a point ``height_m`` above smooth terrain,
    over the 4/3 Earth: ``sqrt(2 k R h + h^2)`` (about ``4.12 sqrt(h)`` km)."""
    h_km = max(height_m, 0.0) / 1000.0
    return sqrt(2 * EFFECTIVE_RADIUS_KM * h_km + h_km * h_km)


def line_of_sight_km(height1_m: float, height2_m: float) -> float:
    """The farthest two points at these heights above smooth terrain see each other."""
    return radio_horizon_km(height1_m) + radio_horizon_km(height2_m)


def elevation_deg(distance_km: float, antenna_m: float, target_m: float) -> float:
    """Elevation angle of a target ``distance_km`` away (along the ground) seen from an
    antenna, both heights in metres above the same level, over the 4/3 Earth."""
    theta = distance_km / EFFECTIVE_RADIUS_KM
    r1 = EFFECTIVE_RADIUS_KM + antenna_m / 1000.0
    r2 = EFFECTIVE_RADIUS_KM + target_m / 1000.0
    return degrees(atan2(cos(theta) - r1 / r2, sin(theta)))


class Coverage(Protocol):
    """Whatever decides which positions are heard: a receiver or an aggregator."""

    @property
    def name(self) -> str: ...

    @property
    def frame_loss(self) -> float: ...

    def in_view(self, lat: float, lon: float, altitude_ft: float) -> bool: ...


@dataclass(frozen=True, slots=True)
class Receiver:
    """One antenna: where, how high, its skyline and sensitivity, its frame loss."""

    lat: float
    lon: float
    antenna_m: float = 10.0  # above the ground
    ground_m: float = GROUND_M  # the ground's elevation above sea level
    mask_deg: float = MASK_DEG
    skyline_km: float = SKYLINE_KM
    range_km: float = RANGE_KM
    frame_loss: float = FRAME_LOSS
    name: str = "receiver"

    def __post_init__(self) -> None:
        if not (-90 <= self.lat <= 90 and -180 <= self.lon <= 180):
            raise ValueError(f"receiver position out of range: {self.lat}, {self.lon}")
        if self.antenna_m < 0 or self.range_km <= 0:
            raise ValueError("antenna_m must be >= 0 and range_km > 0")
        if not 0 <= self.frame_loss < 1:
            raise ValueError(f"frame_loss must be in [0, 1), got {self.frame_loss}")

    @classmethod
    def rooftop(cls, lat: float, lon: float, antenna_m: float = 30.0, *,
                ground_m: float = GROUND_M, name: str = "rooftop",
                frame_loss: float = FRAME_LOSS) -> Receiver:
        """A feeder's rooftop antenna with the default skyline and sensitivity."""
        return cls(lat, lon, antenna_m=antenna_m, ground_m=ground_m, name=name,
                   frame_loss=frame_loss)

    def height_above_ground_m(self, altitude_ft: float) -> float:
        """An aircraft's height above the (flat) terrain around this receiver."""
        return altitude_ft * M_PER_FT - self.ground_m

    def in_view(self, lat: float, lon: float, altitude_ft: float) -> bool:
        """Within range, above the radio horizon and, beyond the skyline, above the mask."""
        distance = haversine_km(self.lat, self.lon, lat, lon)
        if distance > self.range_km:
            return False
        height = self.height_above_ground_m(altitude_ft)
        if distance > line_of_sight_km(self.antenna_m, height):
            return False
        if distance <= self.skyline_km:
            return True
        return elevation_deg(distance, self.antenna_m, height) >= self.mask_deg


@dataclass(frozen=True, slots=True)
class Aggregator:
    """Several feeders' coverage in one: an aggregator (ADS-B Exchange and the like)
    hears what any of its feeders hears. A frame is lost only when every feeder in view
    loses it, so its loss is the product of theirs unless given."""

    feeders: Sequence[Receiver]
    name: str = "aggregator"
    loss: float | None = None

    def __post_init__(self) -> None:
        if not self.feeders:
            raise ValueError("an aggregator needs at least one feeder")

    @property
    def frame_loss(self) -> float:
        if self.loss is not None:
            return self.loss
        product = 1.0
        for feeder in self.feeders:
            product *= feeder.frame_loss
        return product

    def in_view(self, lat: float, lon: float, altitude_ft: float) -> bool:
        return any(f.in_view(lat, lon, altitude_ft) for f in self.feeders)


@dataclass(frozen=True, slots=True)
class Everywhere:
    """Hears everything, loses nothing: the truth, for comparisons."""

    name: str = "everywhere"
    frame_loss: float = 0.0

    def in_view(self, lat: float, lon: float, altitude_ft: float) -> bool:
        return True
