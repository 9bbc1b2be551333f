"""Where a descent was going and where a climb came from, on the shipped Belarus airports.

Truth from geometry, not from the code: positions are placed with the great-circle
functions around OurAirports' reference points of Minsk National (UMMS) and
Machulishchy (UMLI), 33 km apart; the expected touchdown times follow the pilots'
rule of 3 NM per 1,000 ft at an average of the current and an approach speed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flightwatch.alerts.detect.config import DetectionConfig
from flightwatch.alerts.detect.trajectory import RecentTrack, arrival_fit, departure_fit
from flightwatch.db.airports import AirportIndex, read_airports
from flightwatch.decoder.geodesy import bearing_deg
from flightwatch.decoder.tracker import Position
from tools.simulate import destination

CONFIG = Path(__file__).resolve().parents[3] / "config"
T = datetime(2020, 8, 18, 16, 50, tzinfo=UTC)
UMMS = (53.888071, 28.039964)  # 670 ft
UMLI = (53.77344, 27.577411)  # 699 ft
KM = 1 / 1.852  # NM per km
CFG = DetectionConfig()


@pytest.fixture(scope="module")
def airports() -> AirportIndex:
    return AirportIndex(read_airports(CONFIG / "airports.csv"))


def flown(end: tuple[float, float], heading: float, altitude: float, speed: float,
          rate: float, minutes: int = 3) -> tuple[Position, RecentTrack]:
    """The last ``minutes`` of a straight flight ending at ``end`` at ``T``: the position
    there and the samples the detector would have kept."""
    track = RecentTrack()
    position = None
    for s in range(-minutes * 60, 1, 5):
        back_km = -s * speed * 1.852 / 3600
        lat, lon = destination(*end, (heading + 180) % 360, back_km * KM)
        position = Position("4B1814", T + timedelta(seconds=s), lat, lon,
                            altitude + rate * s / 60, speed, heading, rate, False, None, "test")
        track.add(position)
    assert position is not None
    return position, track


def test_lost_67_km_east_descending_towards_minsk(airports: AirportIndex) -> None:
    """The issue's Vilnius story at the loss: 14,000 ft, 67 km E of UMMS, 1,800 fpm, 280 kt."""
    point = destination(*UMMS, 90, 67 * KM)
    position, track = flown(point, bearing_deg(*point, *UMMS), 14000, 280, -1800)
    fit = arrival_fit(position, track, airports, CFG)
    assert fit is not None
    assert fit.rate_fpm == pytest.approx(-1800, abs=1)
    (best,) = fit.best(CFG.alike)
    assert best.airport.code == "UMMS"
    assert best.distance_km == pytest.approx(67, abs=0.5)
    assert "UMLI" in fit.codes()  # in reach, but it fits worse by more than "alike"
    # 13,330 ft to lose: 40 NM (74 km) at ~210 kt is about 11.5 minutes
    to_go = (best.time - T).total_seconds() / 60
    assert 9 <= to_go <= 14
    assert 120 <= best.uncertainty_s <= 6 * 60


def test_two_airports_that_fit_alike_are_both_reported(airports: AirportIndex) -> None:
    """Heading for the middle of UMMS and UMLI from the north: neither is guessed."""
    middle = ((UMMS[0] + UMLI[0]) / 2, (UMMS[1] + UMLI[1]) / 2)
    across = (bearing_deg(*UMLI, *UMMS) + 90) % 360  # perpendicular to UMLI -> UMMS
    point = destination(*middle, across - 180 if across > 180 else across, 45 * KM)
    heading = bearing_deg(*point, *middle)
    position, track = flown(point, heading, 9000, 250, -1500)
    fit = arrival_fit(position, track, airports, CFG)
    assert fit is not None
    assert {c.airport.code for c in fit.best(CFG.alike)} == {"UMMS", "UMLI"}


@pytest.mark.parametrize(("why", "heading_off", "altitude", "rate"), [
    ("level in cruise", 0, 35000, 0),
    ("climbing", 0, 14000, 1500),
])
def test_not_arriving(airports: AirportIndex, why: str, heading_off: float, altitude: float,
                      rate: float) -> None:
    point = destination(*UMMS, 90, 67 * KM)
    position, track = flown(point, bearing_deg(*point, *UMMS) + heading_off, altitude, 280,
                            rate)
    assert arrival_fit(position, track, airports, CFG) is None, why


def test_descending_away_from_a_far_airport_does_not_fit_it(airports: AirportIndex) -> None:
    point = destination(*UMMS, 270, 60 * KM)
    position, track = flown(point, 270, 14000, 280, -1800)  # heading west, away from UMMS
    fit = arrival_fit(position, track, airports, CFG)
    assert fit is None or "UMMS" not in {c.airport.code for c in fit.accepted}


def test_low_and_level_on_a_downwind_leg_is_arriving(airports: AirportIndex) -> None:
    """3,000 ft above the field 12 km out, flying away from it before turning back: an
    intermediate approach holds its height until it joins the final."""
    point = destination(*UMMS, 140, 12 * KM)
    position, track = flown(point, 140, 670 + 3000, 200, 0, minutes=1)
    fit = arrival_fit(position, track, airports, CFG)
    assert fit is not None
    assert fit.best(CFG.alike)[0].airport.code == "UMMS"


def test_first_heard_climbing_north_west_of_minsk_came_from_it(airports: AirportIndex) -> None:
    """The Vilnius story's return: climbing through 7,600 ft 25 km NW of UMMS, turning east."""
    point = destination(*UMMS, 315, 25 * KM)
    position, track = flown(point, 60, 7600, 280, 2000, minutes=0)
    fit = departure_fit(position, track, airports, CFG)
    assert fit is not None
    umms = fit.get("UMMS")
    assert umms is not None and umms.misfit <= 0.8
    # lifted off a few minutes before: 7,000 ft of climb and the path to get here
    assert timedelta(minutes=2) <= T - umms.time <= timedelta(minutes=8)
