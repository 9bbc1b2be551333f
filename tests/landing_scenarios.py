"""Encoder-built arrivals and departures at Minsk National (UMMS), each by its own
watched aircraft, for the replay and the daemon tests of observed and inferred landings.

Geometry from the shipped config/runways.csv (OurAirports): runway 13R/31L, landing
on 31L flies 319 deg true towards its threshold; a departure on 31L climbs out past
the 13R threshold, on the same heading. The truth (touchdown, last heard, first
heard) comes from the simulator, not from the code under test.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tools.simulate import Flight, Rates, TimedFrame, Waypoint, destination, frames

T31L = (53.87016677856445, 28.048967361450195)  # threshold of 31L, 669 ft
T13R = (53.89476013183594, 28.012470245361328)  # threshold of 13R, 639 ft
UMMS = (53.888071, 28.039964)  # reference point, 670 ft
FIELD_FT = 669.0
HEADING = 319.0  # landing on (and departing from) 31L
RATES = Rates(position_s=1.0, velocity_s=1.0, identification_s=10.0, stationary_s=2.0)
START = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)

OBSERVED = "157710"  # RA-96016
INFERRED = "14F114"  # RA-61716: heard down to ~300 ft, silent 40 min, heard climbing out
TOUCH_AND_GO = "14F118"
GO_AROUND = "14FA3A"
OVERFLIGHT = "14FC05"
CRUISE = "14FC08"
DEPARTURE = "14FC0A"
REHEARD = "14FC0C"  # lost at ~300 ft on final, heard again 90 s later still descending
QUICK_TURNAROUND = "14FC0E"  # lost on final, heard climbing out 10 min later
LATE = "14FC10"  # lost on final, heard again descending after the flights gap (30 min)
REHEARD_LANDS = "14FC12"  # lost on final, heard again 90 s later, then heard landing


def final(nm: float) -> tuple[float, float]:
    """A point ``nm`` before the 31L threshold on its extended centreline."""
    return destination(*T31L, (HEADING + 180) % 360, nm)


def climb_out(nm: float) -> tuple[float, float]:
    """A point ``nm`` past the far (13R) threshold of a departure from 31L."""
    return destination(*T13R, HEADING, nm)


@dataclass
class Scenario:
    """The frames of one aircraft's story and the times the tests compare against."""

    icao: str
    timed: list[TimedFrame] = field(default_factory=list)
    touchdown: float | None = None  # simulator's touchdown (observed landings)
    last_heard: float | None = None  # last frame before the silence
    first_heard: float | None = None  # first frame after it


def frames_of(flights: Iterable[Flight], until: float | None = None) -> list[TimedFrame]:
    out = list(frames(flights, RATES, seed=11))
    return [f for f in out if until is None or f[0] <= until]


def _at(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def _approach(icao: str, start: datetime, end: tuple[float, float, float, float],
              on_ground: bool = False, **kwargs: float) -> Flight:
    return Flight(icao, "RSD" + icao[-3:],
                  [(*final(18), 5500, 230), (*final(6), 2500, 160), end], start,
                  on_ground_at_end=on_ground, **kwargs)  # type: ignore[arg-type]


def scenarios(start: datetime = START) -> dict[str, Scenario]:
    """Every story, the next starting four minutes after the previous one."""
    out: dict[str, Scenario] = {}
    step = timedelta(minutes=4)

    landed = _approach(OBSERVED, start, (*destination(*T31L, HEADING, 0.3), FIELD_FT, 135),
                       on_ground=True, parked_s=90.0)
    out["observed"] = Scenario(OBSERVED, frames_of([landed]), touchdown=landed.touchdown_time)

    lost = _approach(INFERRED, start + step, (*final(1.0), FIELD_FT + 300, 140))
    back = Flight(INFERRED, "RSD114",
                  [(*climb_out(2.0), FIELD_FT + 800, 150), (*climb_out(25), 9000, 280)],
                  _at(lost.end_time + 40 * 60))
    inferred = Scenario(INFERRED, frames_of([lost]) + frames_of([back]))
    inferred.last_heard = max(t for t, _ in frames_of([lost]))
    inferred.first_heard = back.start_time
    out["inferred"] = inferred

    touch = _approach(TOUCH_AND_GO, start + 2 * step,
                      (*destination(*T31L, HEADING, 0.3), FIELD_FT, 135), on_ground=True,
                      rollout_decel_kt_s=0.5, taxi_speed_kt=120.0, taxi_s=30.0)
    assert touch.touchdown_time is not None
    lift = touch.touchdown_time + 15.0
    rolling = touch.state_at(lift)
    go = Flight(TOUCH_AND_GO, "RSD118",
                [(rolling.lat, rolling.lon, FIELD_FT + 20, 130), (*climb_out(6), 3000, 180),
                 (*climb_out(20), 5000, 220)], _at(lift + 1.0))
    out["touch_and_go"] = Scenario(TOUCH_AND_GO, frames_of([touch], until=lift) + frames_of([go]),
                                   touchdown=touch.touchdown_time)

    around = Flight(GO_AROUND, "RSD13A",
                    [(*final(15), 4500, 200), (*final(1.0), FIELD_FT + 300, 140),
                     (*climb_out(2.0), 2500, 160), (*climb_out(8), 3000, 180)],
                    start + 3 * step)
    out["go_around"] = Scenario(GO_AROUND, frames_of([around]))

    overflight = Flight(OVERFLIGHT, "RSD205",
                        [(*destination(*UMMS, 49, 15), 3000, 200),
                         (*destination(*UMMS, 49, 1.0), FIELD_FT + 600, 180),
                         (*destination(*UMMS, 229, 1.0), FIELD_FT + 600, 180),
                         (*destination(*UMMS, 229, 12), 6000, 250)],  # and on, climbing
                        start + 4 * step)
    out["overflight"] = Scenario(OVERFLIGHT, frames_of([overflight]))

    cruise = Flight(CRUISE, "RSD208", [(53.5, 26.5, 35000, 450), (53.6, 28.5, 35000, 450)],
                    start + 5 * step)
    out["cruise"] = Scenario(CRUISE, frames_of([cruise]))

    departure = Flight(DEPARTURE, "RSD20A",
                       [(*climb_out(2.0), FIELD_FT + 800, 150), (*climb_out(25), 9000, 280)],
                       start + 6 * step)
    out["departure"] = Scenario(DEPARTURE, frames_of([departure]),
                                first_heard=departure.start_time)
    return out


def _lost_on_final(icao: str, start: datetime, silent_s: float,
                   again: list[Waypoint], lands: bool = False) -> Scenario:
    """Heard down to ~300 ft on final into 31L, silent ``silent_s``, then flying ``again``
    (and landing at its end when ``lands``)."""
    lost = _approach(icao, start, (*final(1.0), FIELD_FT + 300, 140))
    before = frames_of([lost])
    back = Flight(icao, "RSD" + icao[-3:], again, _at(max(t for t, _ in before) + silent_s),
                  on_ground_at_end=lands)
    story = Scenario(icao, before + frames_of([back]))
    story.last_heard = max(t for t, _ in before)
    story.first_heard = back.start_time
    return story


def retraction_scenarios(start: datetime = START) -> dict[str, Scenario]:
    """Inferred landings heard again: on the approach within the flights gap (retracted),
    climbing out (a turnaround), on the approach after the gap (a new flight)."""
    step = timedelta(minutes=4)
    # 3 and 2 NM out, 1,000 then 750 ft above the field: it is lost again above the
    # inferred-landing height at the capture's end, so nothing infers a landing again.
    on_final = [(*final(3.0), FIELD_FT + 1000, 150), (*final(2.0), FIELD_FT + 750, 140)]
    climbing = [(*climb_out(2.0), FIELD_FT + 800, 150), (*climb_out(25), 9000, 280)]
    landing = [*on_final, (*destination(*T31L, HEADING, 0.3), FIELD_FT, 135)]
    return {
        "reheard": _lost_on_final(REHEARD, start, 90.0, on_final),
        "reheard_lands": _lost_on_final(REHEARD_LANDS, start + 4 * step, 90.0, landing,
                                        lands=True),
        "quick_turnaround": _lost_on_final(QUICK_TURNAROUND, start + step, 600.0, climbing),
        "late": _lost_on_final(LATE, start + 2 * step, 31 * 60.0, on_final),
        "turnaround": scenarios(start + 3 * step)["inferred"],
    }


def merged(chosen: dict[str, Scenario]) -> list[TimedFrame]:
    return sorted((f for s in chosen.values() for f in s.timed), key=lambda f: f[0])
