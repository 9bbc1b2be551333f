"""``enter``, ``first_seen_inside``, ``exit`` and ``approaching``: a watched track and the fences.

- *Hysteresis.* A track along the border must not flap. A side change counts only
  once the new side has held for ``confirm_positions`` consecutive positions **and**
  either ``border_hold_s`` seconds or ``border_margin_km`` from the border. So a
  single position can never raise an enter/exit pair.
- *Approaching.* Outside every fence, the track is projected along its great circle
  (at most every 10 s) and the first fence it would cross within
  ``approach_within_s`` is announced with the time and place of the crossing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta

from flightwatch.alerts.geofence import Geofence
from flightwatch.alerts.rules import details
from flightwatch.alerts.rules.config import RuleConfig
from flightwatch.alerts.rules.raising import Raiser, state_fields
from flightwatch.alerts.rules.tracked import Tracked
from flightwatch.decoder.geodesy import destination
from flightwatch.decoder.tracker import AircraftState, Position

_APPROACH_EVERY = timedelta(seconds=10)  # re-project a watched track at most this often
_APPROACH_STEP_NM = 1.0  # fences are tested every nautical mile along the projection
_APPROACH_MAX_STEPS = 240
_APPROACH_MIN_SPEED_KT = 30.0  # slower than this, a projection says nothing


def first_crossing_s(
    fence: Geofence, lat: float, lon: float, track_deg: float, speed_kt: float, within_s: float
) -> tuple[float, float, float] | None:
    """(seconds, lat, lon) of the first point inside ``fence`` on the projected great circle.

    The path is walked in steps of about a nautical mile up to ``within_s`` ahead.
    """
    total_nm = speed_kt * within_s / 3600.0
    steps = max(1, min(_APPROACH_MAX_STEPS, math.ceil(total_nm / _APPROACH_STEP_NM)))
    for i in range(1, steps + 1):
        distance = total_nm * i / steps
        plat, plon = destination(lat, lon, track_deg, distance)
        if fence.contains(plat, plon):
            return distance / speed_kt * 3600.0, plat, plon
    return None


class FenceRule:
    """Entering, first seen inside, leaving: a latch per fence per aircraft."""

    def __init__(self, raise_: Raiser, config: RuleConfig) -> None:
        self.raise_ = raise_
        self.config = config

    def judge(self, fences: Sequence[Geofence], state: AircraftState, tracked: Tracked,
              position: Position) -> None:
        cfg = self.config
        lat, lon, time = position.lat, position.lon, position.time
        for fence, latch in zip(fences, tracked.fences, strict=True):
            inside = fence.contains(lat, lon)
            held = latch.propose(inside, time)
            if held is None or latch.count < cfg.confirm_positions:
                continue
            if held < cfg.border_hold_s and fence.distance_km(lat, lon) < cfg.border_margin_km:
                continue
            previous = latch.settle()
            if inside:
                kind = "first_seen_inside" if previous is None else "enter"
            elif previous:
                kind = "exit"
            else:
                continue
            self.raise_(kind, time, state.icao, tracked.match, fence=fence.name,
                        **state_fields(state, position))


class ApproachingRule:
    """A watched track outside every fence, projected ahead: the fence it will cross."""

    def __init__(self, raise_: Raiser, config: RuleConfig) -> None:
        self.raise_ = raise_
        self.within_s = config.approach_within_s
        self.on = config.approach_within_s > 0 and raise_.on("approaching")

    def judge(self, fences: Sequence[Geofence], state: AircraftState, tracked: Tracked,
              position: Position) -> None:
        if not self.on:
            return
        time = position.time
        if tracked.next_approach is not None and time < tracked.next_approach:
            return
        if not any(latch.value is False for latch in tracked.fences):
            return  # inside, or not judged yet
        tracked.next_approach = time + _APPROACH_EVERY
        speed, track = position.ground_speed_kt, position.track_deg
        if speed is None or track is None or speed < _APPROACH_MIN_SPEED_KT:
            return
        for fence, latch in zip(fences, tracked.fences, strict=True):
            if latch.value is not False:
                continue
            crossing = first_crossing_s(fence, position.lat, position.lon, track, speed,
                                        self.within_s)
            if crossing is None:
                continue
            seconds, lat, lon = crossing
            self.raise_(
                "approaching", time, state.icao, tracked.match, fence=fence.name,
                details=details.Approaching(round(seconds), _after(time, seconds),
                                            round(lat, 4), round(lon, 4)),
                **state_fields(state, position),
            )


def _after(time: datetime, seconds: float) -> datetime:
    return time + timedelta(seconds=seconds)
