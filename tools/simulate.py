"""Synthetic air traffic: flights along great-circle legs, turned into Mode-S frames.

Tests, the benchmark and the demo capture need traffic whose truth we know (a
watched aircraft crossing a border and landing, a thousand aircraft at once).
Frames come from :mod:`tools.encoder`, so real decoders accept them.

A flight is a list of waypoints ``(lat, lon, altitude_ft, ground_speed_kt)``;
between two waypoints the aircraft follows the great circle, its altitude and
speed change linearly in time. A flight that ends on the ground touches down at
its last waypoint, rolls out on the final track slowing to taxi speed, taxis a
little, stops and stays parked a while, sending surface positions throughout.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain, dropwhile, islice, pairwise, takewhile
from math import cos, radians, sin
from random import Random
from typing import NamedTuple

from flightwatch.decoder.geodesy import (
    advance,
    bearing_deg,
    destination,
    distance_nm,
)
from tools.encoder import (
    airborne_position,
    airborne_velocity,
    df4_altitude,
    df5_identity,
    identification,
    surface_position,
)

Waypoint = tuple[float, float, float, float]  # lat, lon, altitude_ft, ground_speed_kt
TimedFrame = tuple[float, str]  # unix seconds (UTC), upper-case hex


# --- flight model -------------------------------------------------------------------


class State(NamedTuple):
    """Where an aircraft is and how it moves at one instant."""

    lat: float
    lon: float
    altitude_ft: float
    ground_speed_kt: float
    track_deg: float
    vertical_rate_fpm: float
    on_ground: bool


class _Leg:
    """A stretch along one great circle with speed and altitude linear in time."""

    __slots__ = (
        "alt0",
        "cos_b",
        "cos_lat0",
        "duration",
        "end",
        "lon0",
        "on_ground",
        "rate_fpm",
        "sin_b",
        "sin_lat0",
        "t0",
        "v0",
        "v1",
    )

    def __init__(
        self,
        t0: float,
        lat0: float,
        lon0: float,
        bearing: float,
        duration: float,
        v0: float,
        v1: float,
        alt0: float,
        alt1: float,
        on_ground: bool,
    ) -> None:
        self.t0 = t0
        self.lon0 = radians(lon0)
        b = radians(bearing)
        self.sin_b, self.cos_b = sin(b), cos(b)
        self.sin_lat0, self.cos_lat0 = sin(radians(lat0)), cos(radians(lat0))
        self.duration = duration
        self.end = t0 + duration
        self.v0, self.v1 = v0, v1
        self.alt0 = alt0
        self.rate_fpm = (alt1 - alt0) / duration * 60 if duration > 0 else 0.0
        self.on_ground = on_ground

    def state(self, t: float) -> State:
        tau = min(max(t - self.t0, 0.0), self.duration)
        frac = tau / self.duration if self.duration > 0 else 0.0
        speed = self.v0 + (self.v1 - self.v0) * frac
        travelled_nm = (self.v0 + speed) / 2 * tau / 3600
        lat, lon, track = advance(
            self.sin_lat0, self.cos_lat0, self.lon0, self.sin_b, self.cos_b, travelled_nm
        )
        altitude = self.alt0 + self.rate_fpm * tau / 60
        return State(lat, lon, altitude, speed, track, self.rate_fpm, self.on_ground)


class Flight:
    """One aircraft's trajectory in time, airborne legs then (optionally) a landing.

    ``waypoints`` are ``(lat, lon, altitude_ft, ground_speed_kt)``; the flight is
    at the first one at ``start``. With ``on_ground_at_end`` the last waypoint
    is the touchdown point and its altitude the field elevation; the aircraft
    then decelerates at ``rollout_decel_kt_s`` to ``taxi_speed_kt``, taxis for
    ``taxi_s`` seconds, stops and stays parked for ``parked_s`` seconds.

    With ``takes_off`` the first waypoint is the lift-off point and its altitude the
    field elevation: the flight starts on the runway at ``start``, lined up and still
    for ``lineup_s`` seconds, then accelerates at ``takeoff_accel_kt_s`` along the
    first leg's course to the first waypoint's speed, lifting off at
    :attr:`liftoff_time`.
    """

    def __init__(
        self,
        icao: str,
        callsign: str,
        waypoints: Sequence[Waypoint],
        start: datetime,
        on_ground_at_end: bool = False,
        *,
        squawk: str = "1000",
        category: int = 3,
        rollout_decel_kt_s: float = 2.5,
        taxi_speed_kt: float = 15.0,
        taxi_s: float = 45.0,
        parked_s: float = 120.0,
        takes_off: bool = False,
        lineup_s: float = 30.0,
        takeoff_accel_kt_s: float = 2.5,
    ) -> None:
        if len(waypoints) < 2:
            raise ValueError("a flight needs at least two waypoints")
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self.icao = icao.upper()
        self.callsign = callsign
        self.squawk = squawk
        self.category = category
        self.start_time = start.timestamp()
        self.touchdown_time: float | None = None
        self.stop_time: float | None = None
        self.liftoff_time: float | None = None
        legs: list[_Leg] = []
        t = self.start_time
        if takes_off:
            legs.extend(self._takeoff_legs(t, waypoints, lineup_s, takeoff_accel_kt_s))
            t = self.liftoff_time = legs[-1].end
        for (lat0, lon0, alt0, v0), (lat1, lon1, alt1, v1) in pairwise(waypoints):
            if v0 + v1 <= 0:
                raise ValueError("an airborne leg needs a positive speed")
            duration = 2 * distance_nm(lat0, lon0, lat1, lon1) / (v0 + v1) * 3600
            bearing = bearing_deg(lat0, lon0, lat1, lon1)
            legs.append(_Leg(t, lat0, lon0, bearing, duration, v0, v1, alt0, alt1, False))
            t += duration
        if on_ground_at_end:
            self.touchdown_time = t
            legs.extend(
                self._ground_legs(
                    legs[-1], rollout_decel_kt_s, taxi_speed_kt, taxi_s, parked_s, waypoints[-1]
                )
            )
        self._legs = legs
        self._starts = [leg.t0 for leg in legs]
        self.end_time = legs[-1].end
        if on_ground_at_end:
            self.stop_time = self.end_time - parked_s

    @staticmethod
    def _ground_legs(
        final: _Leg,
        decel: float,
        taxi_kt: float,
        taxi_s: float,
        parked_s: float,
        touchdown: Waypoint,
    ) -> list[_Leg]:
        """Roll-out, taxi, stop and park along the final track from the touchdown point."""
        arrival = final.state(final.end)
        lat, lon, elevation, speed = touchdown
        track = arrival.track_deg
        phases = [
            (max(speed - taxi_kt, 0.0) / decel, speed, taxi_kt),
            (taxi_s, taxi_kt, taxi_kt),
            (taxi_kt / 2.0, taxi_kt, 0.0),  # stop at 2 kt/s
            (parked_s, 0.0, 0.0),
        ]
        legs = []
        t = final.end
        for duration, v0, v1 in phases:
            if duration <= 0:
                continue
            leg = _Leg(t, lat, lon, track, duration, v0, v1, elevation, elevation, True)
            legs.append(leg)
            end = leg.state(leg.end)
            lat, lon, t = end.lat, end.lon, leg.end
        return legs

    @staticmethod
    def _takeoff_legs(
        t: float, waypoints: Sequence[Waypoint], lineup_s: float, accel: float
    ) -> list[_Leg]:
        """Lined up, then the take-off roll ending at the first waypoint (lift-off)."""
        (lat, lon, elevation, speed), (lat1, lon1, _, _) = waypoints[0], waypoints[1]
        if speed <= 0 or accel <= 0:
            raise ValueError("a take-off needs a positive lift-off speed and acceleration")
        course = bearing_deg(lat, lon, lat1, lon1)
        roll_s = speed / accel
        roll_nm = speed / 2 * roll_s / 3600
        start_lat, start_lon = destination(lat, lon, (course + 180) % 360, roll_nm)
        on_runway = bearing_deg(start_lat, start_lon, lat, lon)
        legs = []
        if lineup_s > 0:
            legs.append(_Leg(t, start_lat, start_lon, on_runway, lineup_s, 0.0, 0.0,
                             elevation, elevation, True))
            t += lineup_s
        legs.append(_Leg(t, start_lat, start_lon, on_runway, roll_s, 0.0, speed,
                         elevation, elevation, True))
        return legs

    def state_at(self, t: float) -> State:
        """The aircraft's state at Unix time ``t`` (clamped to the flight's span)."""
        index = max(bisect_right(self._starts, t) - 1, 0)
        return self._legs[index].state(t)


# --- frame schedule -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rates:
    """Mean seconds between messages of each kind (DO-260B nominal rates by default).

    Each interval is drawn uniformly within +-``spread`` of its mean, as real
    transponders randomise theirs. ``surveillance_s`` alternates DF4 altitude
    and DF5 identity replies while airborne (radar interrogations); None: none.
    """

    position_s: float = 0.5
    velocity_s: float = 0.5
    identification_s: float = 5.0
    stationary_s: float = 5.0  # surface position interval once stopped
    surveillance_s: float | None = None
    spread: float = 0.2

    def per_second(self) -> float:
        """Airborne messages per second per aircraft."""
        total = 1 / self.position_s + 1 / self.velocity_s + 1 / self.identification_s
        return total + (1 / self.surveillance_s if self.surveillance_s else 0.0)


_POSITION, _VELOCITY, _IDENT, _SURVEILLANCE = range(4)


def flight_frames(flight: Flight, rates: Rates, rng: Random) -> Iterator[TimedFrame]:
    """One flight's frames in time order; positions alternate even and odd.

    Times are kept in whole microseconds (what the capture formats hold), so a
    frame's time survives a round trip through a file unchanged.
    """
    intervals = [rates.position_s, rates.velocity_s, rates.identification_s]
    if rates.surveillance_s:
        intervals.append(rates.surveillance_s)
    means_us = [round(interval * 1e6) for interval in intervals]
    stationary_us = round(rates.stationary_s * 1e6)
    low, width = 1 - rates.spread, 2 * rates.spread
    start_us = round(flight.start_time * 1e6)
    end_us = flight.end_time * 1e6
    due = [start_us + int(rng.random() * mean) for mean in means_us]
    icao = flight.icao
    ident = identification(icao, flight.callsign, flight.category)
    legs = flight._legs
    leg_index, leg = 0, legs[0]
    random = rng.random
    odd = random() < 0.5
    reply_df5 = False
    while True:
        t_us = min(due)
        if t_us > end_us:
            return
        kind = due.index(t_us)
        mean = means_us[kind]
        t = t_us / 1e6
        frame: str | None = None
        if kind == _IDENT:
            frame = ident
        else:
            while t > leg.end and leg_index + 1 < len(legs):
                leg_index += 1
                leg = legs[leg_index]
            state = leg.state(t)
            if kind == _POSITION:
                if state.on_ground:
                    frame = surface_position(
                        icao, state.lat, state.lon, state.ground_speed_kt, state.track_deg, odd
                    )
                    if state.ground_speed_kt == 0:
                        mean = stationary_us
                else:
                    frame = airborne_position(icao, state.lat, state.lon, state.altitude_ft, odd)
                odd = not odd
            elif state.on_ground:
                pass  # no airborne velocity or radar replies on the ground
            elif kind == _VELOCITY:
                frame = airborne_velocity(
                    icao, state.ground_speed_kt, state.track_deg, state.vertical_rate_fpm
                )
            else:
                frame = (
                    df5_identity(icao, flight.squawk)
                    if reply_df5
                    else df4_altitude(icao, state.altitude_ft)
                )
                reply_df5 = not reply_df5
        due[kind] = t_us + int(mean * (low + width * random()))
        if frame is not None:
            yield t, frame


_BURST = 64


def _in_bursts(timed: Iterator[TimedFrame]) -> Iterator[TimedFrame]:
    """The same frames, computed ``_BURST`` at a time.

    Interleaving a thousand flights frame by frame keeps evicting each one's
    state from the CPU caches; bursts keep it warm (about 15% faster) while
    holding at most ``_BURST`` frames per flight.
    """
    return chain.from_iterable(iter(lambda: list(islice(timed, _BURST)), []))


def frames(
    flights: Iterable[Flight], rates: Rates | None = None, seed: int = 0
) -> Iterator[TimedFrame]:
    """All flights' frames merged in time order; deterministic for a given ``seed``.

    Lazily merged with a heap over per-flight generators, so a thousand
    simultaneous aircraft hold a few tens of thousands of frames at most.
    Each flight draws from its own seeded generator: adding a flight does not
    change the others' frames.
    """
    chosen = rates or Rates()
    return heapq.merge(
        *(
            _in_bursts(flight_frames(f, chosen, Random(f"{seed}:{f.icao}:{f.start_time}")))
            for f in flights
        )
    )


# --- benchmark traffic --------------------------------------------------------------

BELARUS_BOX = (51.2, 56.2, 23.2, 32.8)  # lat_min, lat_max, lon_min, lon_max
_STATE_BLOCKS = ((0x100000, 0x1FFFFF), (0x510000, 0x5107FF))  # Russia, Belarus
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def random_address(rng: Random, taken: set[str]) -> str:
    """A random 24-bit address outside the Russian and Belarusian blocks, not yet taken."""
    while True:
        value = rng.randrange(0x010000, 0xFFFFFF)
        icao = f"{value:06X}"
        if icao not in taken and not any(lo <= value <= hi for lo, hi in _STATE_BLOCKS):
            taken.add(icao)
            return icao


def synthetic_flights(
    n_aircraft: int = 1000,
    n_frames: int = 500_000,
    seed: int = 0,
    area: tuple[float, float, float, float] = BELARUS_BOX,
    start: datetime | None = None,
    rates: Rates | None = None,
) -> list[Flight]:
    """The flights behind :func:`synthetic_traffic` with the same arguments (whose
    addresses a benchmark needs before the frames)."""
    chosen = rates or Rates(surveillance_s=5.0)
    rng = Random(seed)
    begin = start or datetime(2020, 8, 19, 12, 0, tzinfo=UTC)
    duration_s = n_frames / (n_aircraft * chosen.per_second()) * 1.5 + 60
    taken: set[str] = set()
    return [random_flight(rng, taken, area, begin, duration_s) for _ in range(n_aircraft)]


def random_flight(rng: Random, taken: set[str], area: tuple[float, float, float, float],
                  start: datetime, duration_s: float) -> Flight:
    """One flight over ``area`` from ``start`` for ``duration_s``: a random place, speed
    and height, straight and level or climbing or descending, with an address not in
    ``taken`` (added to it), a callsign and a squawk. The draws keep their order, so a
    seed gives the same traffic as before."""
    lat_min, lat_max, lon_min, lon_max = area
    lat, lon = rng.uniform(lat_min, lat_max), rng.uniform(lon_min, lon_max)
    speed = rng.uniform(250, 480)
    altitude = rng.uniform(3000, 40000)
    climb = rng.choice((0.0, 0.0, 1500.0, -1500.0)) * duration_s / 60
    end_altitude = min(max(altitude + climb, 1000.0), 45000.0)
    end_lat, end_lon = destination(lat, lon, rng.uniform(0, 360), speed * duration_s / 3600)
    callsign = "".join(rng.choice(_LETTERS) for _ in range(3)) + str(rng.randrange(1, 9999))
    return Flight(random_address(rng, taken), callsign,
                  [(lat, lon, altitude, speed), (end_lat, end_lon, end_altitude, speed)],
                  start, squawk=f"{rng.randrange(0o10000):04o}")


def synthetic_traffic(
    n_aircraft: int = 1000,
    n_frames: int = 500_000,
    seed: int = 0,
    area: tuple[float, float, float, float] = BELARUS_BOX,
    start: datetime | None = None,
    rates: Rates | None = None,
) -> Iterator[TimedFrame]:
    """``n_frames`` frames from ``n_aircraft`` airborne aircraft flying at once over ``area``.

    Every aircraft is in the air from the first second to the last frame, on a
    straight great-circle course with its own speed, level and climb or descent,
    so the stream keeps ``n_aircraft`` distinct addresses active throughout.
    ``area`` is ``(lat_min, lat_max, lon_min, lon_max)``; addresses avoid the
    Russian and Belarusian blocks so the stream sets off no watchlist by itself.
    Default rates add a DF4/DF5 reply every 5 s per aircraft.
    """
    chosen = rates or Rates(surveillance_s=5.0)
    flights = synthetic_flights(n_aircraft, n_frames, seed, area, start, chosen)
    return islice(frames(flights, chosen, seed), n_frames)


def turnover_flights(
    n_concurrent: int,
    seconds: float,
    seed: int = 0,
    area: tuple[float, float, float, float] = BELARUS_BOX,
    start: datetime | None = None,
    flight_s: float = 3600.0,
) -> list[Flight]:
    """Flights over ``area`` keeping about ``n_concurrent`` in the air at any time of
    ``[start, start + seconds]``, each for about ``flight_s``: aircraft come and go as over
    a real receiver (about ``n_concurrent * seconds / flight_s`` new flights), each with
    its own address and callsign, straight and level or climbing or descending."""
    rng = Random(seed)
    begin = start or datetime(2020, 8, 19, 12, 0, tzinfo=UTC)
    taken: set[str] = set()
    flights = []
    for _ in range(round(n_concurrent * (seconds + flight_s) / flight_s)):
        offset = rng.uniform(-flight_s, seconds)
        duration = rng.uniform(0.7, 1.3) * flight_s
        flights.append(random_flight(
            rng, taken, area, datetime.fromtimestamp(begin.timestamp() + offset, UTC), duration))
    return flights


def turnover_traffic(
    n_concurrent: int,
    seconds: float,
    seed: int = 0,
    start: datetime | None = None,
    rates: Rates | None = None,
) -> Iterator[TimedFrame]:
    """``seconds`` of frames from :func:`turnover_flights` (with a DF4/DF5 reply every 5 s,
    as :func:`synthetic_traffic`), from ``start`` on."""
    chosen = rates or Rates(surveillance_s=5.0)
    begin = (start or datetime(2020, 8, 19, 12, 0, tzinfo=UTC)).timestamp()
    flights = turnover_flights(n_concurrent, seconds, seed,
                               start=datetime.fromtimestamp(begin, UTC))
    within = dropwhile(lambda f: f[0] < begin, frames(flights, chosen, seed))
    return takewhile(lambda f: f[0] < begin + seconds, within)
