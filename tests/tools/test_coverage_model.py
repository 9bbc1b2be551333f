"""The line-of-sight coverage model: the textbook horizon, the three regimes of issue 19
(a receiver 200, 60 and 15 km from Minsk National), the frame loss, an aggregator."""

from __future__ import annotations

from math import sqrt

import pytest

from flightwatch.decoder.geodesy import destination
from tools.coverage_model import (
    Aggregator,
    Receiver,
    elevation_deg,
    line_of_sight_km,
    radio_horizon_km,
)
from tools.stories import Hearing, arrival, hearing, watched

UMMS = (53.888071, 28.039964)
VILNIUS = Receiver.rooftop(54.687, 25.279, antenna_m=30, name="vilnius")
SIXTY = Receiver.rooftop(*destination(*UMMS, 319, 60 / 1.852), antenna_m=30, name="60 km")
FIFTEEN = Receiver.rooftop(*destination(*UMMS, 300, 15 / 1.852), antenna_m=30, name="15 km")


@pytest.mark.parametrize("height_m", [1.0, 10.0, 30.0, 1000.0, 10000.0])
def test_radio_horizon_is_the_textbook_4_12_sqrt_h(height_m: float) -> None:
    # 4/3 Earth: d = 4.12 sqrt(h) km (h in metres), e.g. Skolnik sec. 8.5; the exact
    # form adds h^2, 0.06 % at 10 km.
    assert radio_horizon_km(height_m) == pytest.approx(4.12 * sqrt(height_m), rel=2e-3)


def test_two_points_see_each_other_to_the_sum_of_their_horizons() -> None:
    assert line_of_sight_km(30, 3000) == pytest.approx(4.12 * (sqrt(30) + sqrt(3000)), rel=2e-3)
    receiver = Receiver(54.0, 25.0, antenna_m=30, ground_m=0, mask_deg=-90, range_km=1000)
    reach = line_of_sight_km(30, 3000)  # an aircraft at 3,000 m (9,843 ft)
    beyond = destination(54.0, 25.0, 90, (reach + 2) / 1.852)
    within = destination(54.0, 25.0, 90, (reach - 2) / 1.852)
    assert receiver.in_view(*within, 3000 / 0.3048)
    assert not receiver.in_view(*beyond, 3000 / 0.3048)


def test_elevation_angle_over_the_effective_earth() -> None:
    # 1 km up, 100 km away, antenna at the ground: atan(1/100) minus the 4/3-Earth drop
    # d / (2 k R) (0.337 deg): about 0.236 deg.
    assert elevation_deg(100, 0, 1000) == pytest.approx(0.573 - 0.337, abs=0.003)
    assert elevation_deg(10, 30, 30) < 0  # same height, the Earth curves away


def test_range_limit_and_mask_beyond_the_skyline() -> None:
    receiver = Receiver(54.0, 25.0, antenna_m=30, range_km=100, mask_deg=1.0, skyline_km=20)
    near = destination(54.0, 25.0, 0, 15 / 1.852)  # in front of the skyline: 0.3 deg up
    assert receiver.in_view(*near, 880)
    far = destination(54.0, 25.0, 0, 50 / 1.852)  # beyond it: needs 1 deg, ~3,500 ft
    assert not receiver.in_view(*far, 3000) and receiver.in_view(*far, 5000)
    assert not receiver.in_view(*destination(54.0, 25.0, 0, 110 / 1.852), 45000)


def test_a_receiver_refuses_impossible_settings() -> None:
    with pytest.raises(ValueError):
        Receiver(95.0, 25.0)
    with pytest.raises(ValueError):
        Receiver(54.0, 25.0, frame_loss=1.0)


@pytest.fixture(scope="module")
def from_moscow() -> dict[str, Hearing]:
    story = arrival("UMMS", origin="UUWW", airframe=watched("RA-64523"))
    return {r.name: hearing(story, r, seed=5) for r in (VILNIUS, SIXTY, FIFTEEN)}


def _loss(heard: Hearing) -> tuple[float, float, float]:
    """Altitude (ft), distance to UMMS (km) and vertical rate (fpm) when last heard
    before the touchdown."""
    down = heard.story.touchdowns[0].time
    lost = heard.lost_before(down + 1)
    assert lost is not None
    return lost.state.altitude_ft, lost.distance_km("UMMS"), lost.state.vertical_rate_fpm


def test_vilnius_loses_the_descent_far_above_minsk(from_moscow: dict[str, Hearing]) -> None:
    altitude, km, rate = _loss(from_moscow["vilnius"])
    assert 12000 <= altitude <= 16500 and 60 <= km <= 80
    assert -2500 <= rate <= -1500  # still in the idle descent, pointing at the airport


def test_sixty_km_loses_it_low_on_the_approach(from_moscow: dict[str, Hearing]) -> None:
    altitude, km, _ = _loss(from_moscow["60 km"])
    assert 1800 <= altitude <= 4000 and km <= 20


def test_fifteen_km_hears_it_down_to_the_runway(from_moscow: dict[str, Hearing]) -> None:
    heard = from_moscow["15 km"]
    down = heard.story.touchdowns[0].time
    assert len(heard.contacts) == 1
    last = heard.contacts[0].last
    assert last.state.on_ground and last.time > down  # heard rolling out and taxiing


def test_frame_loss_within_its_band(from_moscow: dict[str, Hearing]) -> None:
    for heard in from_moscow.values():
        assert heard.sent > 1000
        assert 0.22 <= heard.loss_rate <= 0.28  # FRAME_LOSS 25 %, thousands of draws


def test_an_aggregator_hears_what_any_feeder_hears() -> None:
    both = Aggregator((VILNIUS, FIFTEEN))
    over_minsk_low = destination(*UMMS, 90, 3)
    west_of_vilnius = destination(54.687, 25.279, 270, 200)  # 560 km from Minsk
    assert both.in_view(*over_minsk_low, 1000) and not VILNIUS.in_view(*over_minsk_low, 1000)
    assert both.in_view(*west_of_vilnius, 30000)
    assert not FIFTEEN.in_view(*west_of_vilnius, 30000)
    assert both.frame_loss == pytest.approx(0.25 * 0.25)  # lost only when both lose it
    assert Aggregator((VILNIUS,), loss=0.0).frame_loss == 0.0
    with pytest.raises(ValueError):
        Aggregator(())
