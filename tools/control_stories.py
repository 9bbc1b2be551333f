"""Stories that must not become landings (controls), the hard cases around them, and
background traffic for a receiver to learn its coverage from.

* :func:`level_away` - level flight heading away from a receiver until it leaves coverage;
* :func:`cruise_overflight` - high cruise across the area;
* :func:`low_overflight` - 1,500 ft above a field at 200 kt, then away;
* :func:`go_around` - down to ~300 ft on final, climbs away; lands later or not;
* :func:`between_airports` - a descent aimed between two airports ~30 km apart;
* :func:`transponder_off` - level at FL250 well inside coverage, then silent;
* :func:`background_traffic` - many aircraft at all bearings and altitude bands.

A descent into an airport outside Belarus is simply :func:`tools.stories.arrival` at
``"EYVI"`` or ``"UUWW"``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from random import Random

from flightwatch.decoder.geodesy import bearing_deg, destination, distance_nm
from tools.airfields import airfield
from tools.coverage_model import Receiver
from tools.profiles import JOIN_HEIGHT_FT, ArrivalPlan
from tools.simulate import Flight, Rates, random_address
from tools.stories import (
    START,
    TU214,
    Airframe,
    Event,
    Story,
    arrival_plan,
    unwatched,
    watched,
)


def _level(airframe: Airframe, start_point: tuple[float, float], heading: float,
           altitude_ft: float, speed_kt: float, distance_nm: float,
           start: datetime) -> Flight:
    end = destination(*start_point, heading, distance_nm)
    return Flight(airframe.icao, airframe.callsign,
                  [(*start_point, altitude_ft, speed_kt), (*end, altitude_ft, speed_kt)],
                  start, squawk=airframe.squawk, category=airframe.category)


def level_away(receiver: Receiver, *, bearing: float, from_km: float = 100.0,
               altitude_ft: float = 25000.0, speed_kt: float = 440.0,
               distance_nm: float = 300.0, airframe: Airframe | None = None,
               start: datetime = START) -> Story:
    """Level flight starting ``from_km`` from the receiver and flying straight away on
    ``bearing`` until well past the coverage edge: lost at the edge, no airport."""
    frame = airframe or watched(TU214)
    begin = destination(receiver.lat, receiver.lon, bearing, from_km / 1.852)
    flight = _level(frame, begin, bearing, altitude_ft, speed_kt, distance_nm, start)
    return Story(f"level away {bearing:.0f}", frame, (flight,), control=True)


def cruise_overflight(over: str | tuple[float, float], *, heading: float = 250.0,
                      altitude_ft: float = 37000.0, speed_kt: float = 470.0,
                      half_nm: float = 200.0, airframe: Airframe | None = None,
                      start: datetime = START) -> Story:
    """Cruise across ``over`` (an airport code or a point), ``half_nm`` either side."""
    point = over if isinstance(over, tuple) else (airfield(over).lat, airfield(over).lon)
    frame = airframe or unwatched("3C6DD4", "DLH1447")
    begin = destination(*point, (heading + 180) % 360, half_nm)
    flight = _level(frame, begin, heading, altitude_ft, speed_kt, 2 * half_nm, start)
    return Story(f"cruise over {over}", frame, (flight,), control=True)


def low_overflight(code: str, *, heading: float = 229.0, height_ft: float = 1500.0,
                   speed_kt: float = 200.0, airframe: Airframe | None = None,
                   start: datetime = START) -> Story:
    """Descends to ``height_ft`` above the field, crosses it level at ``speed_kt`` and
    climbs away on the same heading: low and near, but no landing."""
    field = airfield(code)
    low = field.elevation_ft + height_ft
    frame = airframe or watched(TU214)
    back = (heading + 180) % 360
    points = [
        (*destination(field.lat, field.lon, back, 30), 8000, 280),
        (*destination(field.lat, field.lon, back, 8), low, speed_kt),
        (*destination(field.lat, field.lon, heading, 8), low, speed_kt),
        (*destination(field.lat, field.lon, heading, 40), 12000, 280),
    ]
    flight = Flight(frame.icao, frame.callsign, points, start, squawk=frame.squawk,
                    category=frame.category)
    return Story(f"low overflight {code}", frame, (flight,), control=True)


def go_around(code: str, *, from_bearing: float, lands_later: bool = False,
              lowest_ft: float = 300.0, away_bearing: float | None = None,
              airframe: Airframe | None = None, start: datetime = START) -> Story:
    """An approach down to ``lowest_ft`` above the field on final, then a climb on the
    runway heading to 3,000 ft above the field; then either a second approach and a
    landing (``lands_later``) or a departure towards ``away_bearing``."""
    plan = arrival_plan(code, from_bearing=from_bearing)
    field, end = plan.field, plan.end
    frame = airframe or watched(TU214)
    points = plan.waypoints(down_to_ft=lowest_ft)
    circuit_ft = field.elevation_ft + JOIN_HEIGHT_FT
    climb = destination(*points[-1][:2], end.heading_deg, 6)
    points.append((*climb, circuit_ft, 200))
    if lands_later:
        side = destination(*climb, (end.heading_deg + 90) % 360, 6)
        again = replace(plan, start=side, cruise_ft=circuit_ft, via=())
        points.extend(again.waypoints()[1:])
    else:
        away = away_bearing if away_bearing is not None else from_bearing
        points.append((*destination(*climb, away, 40), 15000, 290))
    flight = Flight(frame.icao, frame.callsign, points, start, on_ground_at_end=lands_later,
                    squawk=frame.squawk, category=frame.category)
    touchdowns = (Event(flight.touchdown_time, field.code),) if flight.touchdown_time else ()
    return Story(f"go-around {code}" + (" then lands" if lands_later else ""), frame,
                 (flight,), touchdowns=touchdowns, control=not lands_later)


def between_airports(first: str = "UMMS", second: str = "UMLI", *, lands_at: str = "UMLI",
                     from_bearing: float | None = None, turn_nm: float = 15.0,
                     airframe: Airframe | None = None, start: datetime = START) -> Story:
    """A descent aimed at the midpoint of two airports (UMMS and Machulishchy UMLI are
    ~30 km apart), turning towards ``lands_at`` only ``turn_nm`` before the midpoint:
    a receiver that loses it before the turn cannot tell which. ``from_bearing`` (seen
    from the midpoint) defaults to the perpendicular of the line between them."""
    a, b = airfield(first), airfield(second)
    middle_bearing = bearing_deg(a.lat, a.lon, b.lat, b.lon)
    mid = destination(a.lat, a.lon, middle_bearing, distance_nm(a.lat, a.lon, b.lat, b.lon) / 2)
    bearing = from_bearing if from_bearing is not None else (middle_bearing + 90) % 360
    target = airfield(lands_at)
    far = destination(*mid, bearing, 150)
    turn = destination(*mid, bearing, turn_nm)
    base = arrival_plan(target, from_bearing=bearing_deg(target.lat, target.lon, *turn))
    plan = ArrivalPlan(target, far, base.end, via=(turn,))
    frame = airframe or watched(TU214)
    flight = plan.flight(frame.icao, frame.callsign, start, squawk=frame.squawk,
                         category=frame.category)
    assert flight.touchdown_time is not None
    return Story(f"between {first} and {second}, lands at {lands_at}", frame, (flight,),
                 touchdowns=(Event(flight.touchdown_time, target.code),),
                 fits=(first, second))


def transponder_off(at: tuple[float, float], *, heading: float = 90.0,
                    altitude_ft: float = 25000.0, speed_kt: float = 440.0,
                    silent_after: timedelta = timedelta(minutes=10),
                    distance_nm: float = 200.0, airframe: Airframe | None = None,
                    start: datetime = START) -> Story:
    """Level at ``altitude_ft`` from ``at`` on ``heading``; the transponder stops
    ``silent_after`` the start and the aircraft flies on unheard (``muted``)."""
    frame = airframe or watched(TU214)
    flight = _level(frame, at, heading, altitude_ft, speed_kt, distance_nm, start)
    off = flight.start_time + silent_after.total_seconds()
    return Story("transponder off", frame, (flight,), control=True,
                 muted=((off, flight.end_time + 1),))


ALTITUDE_BANDS_FT = ((1000, 5000), (5000, 10000), (10000, 20000), (20000, 30000),
                     (30000, 41000))
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
BACKGROUND_RATES = Rates(position_s=2.0, velocity_s=4.0, identification_s=20.0)
"""Sparser than the stories': enough for an outline, cheap enough for an hour of 60."""


def background_traffic(receiver: Receiver, n: int = 60, *, seed: int = 0,
                       start: datetime = START, span: timedelta = timedelta(hours=1),
                       radius_km: float | None = None) -> list[Story]:
    """``n`` unwatched aircraft spread over ``span`` from ``start``: each flies 20-40
    minutes straight and level (or climbing/descending within its band) from a random
    point up to ``radius_km`` from the receiver (default: 10 % past its range), in an
    altitude band taken in turn, so the receiver hears traffic at every bearing and
    height out to its coverage edge."""
    rng = Random(f"background:{seed}")
    radius = radius_km if radius_km is not None else receiver.range_km * 1.1
    taken: set[str] = set()
    out = []
    for i in range(n):
        low, high = ALTITUDE_BANDS_FT[i % len(ALTITUDE_BANDS_FT)]
        altitude = rng.uniform(low, high)
        other = min(max(altitude + rng.choice((-1, 0, 1)) * rng.uniform(0, 3000), low), high)
        speed = 200 + (altitude / 41000) * 260 + rng.uniform(-20, 20)
        distance = radius * rng.random() ** 0.5  # uniform over the disc
        begin = destination(receiver.lat, receiver.lon, rng.uniform(0, 360), distance / 1.852)
        minutes = rng.uniform(20, 40)
        end = destination(*begin, rng.uniform(0, 360), speed * minutes / 60)
        when = start + span * rng.random()
        callsign = "".join(rng.choice(_LETTERS) for _ in range(3)) + str(rng.randrange(1, 999))
        frame = unwatched(random_address(rng, taken), callsign)
        flight = Flight(frame.icao, callsign, [(*begin, altitude, speed), (*end, other, speed)],
                        when, squawk=f"{rng.randrange(0o10000):04o}")
        out.append(Story(f"background {i}", frame, (flight,), control=True,
                         rates=BACKGROUND_RATES))
    return out
