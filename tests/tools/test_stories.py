"""Story builders: the flight profiles within their bands (descent, 250 kt below 10,000 ft,
the joining point, the 3 deg glide path, the touchdown point), departures, turnarounds
with exact ground times, the controls, background traffic and the airframes."""

from __future__ import annotations

from datetime import timedelta
from math import atan, degrees

import pytest

from flightwatch.decoder.geodesy import bearing_deg, distance_nm
from tools.airfields import airfield
from tools.control_stories import (
    ALTITUDE_BANDS_FT,
    background_traffic,
    between_airports,
    go_around,
    level_away,
    low_overflight,
    transponder_off,
)
from tools.coverage_model import Everywhere, Receiver
from tools.simulate import Flight, State
from tools.stories import Story, arrival, departure, hearing, turnaround, unwatched, watched

UMMS = airfield("UMMS")
FT_PER_NM = 6076.12


def samples(flight: Flight, every_s: float = 5.0) -> list[tuple[float, State]]:
    out = []
    t = flight.start_time
    while t <= flight.end_time:
        out.append((t, flight.state_at(t)))
        t += every_s
    return out


def off(a: float, b: float) -> float:
    return abs((a - b + 180) % 360 - 180)


@pytest.fixture(scope="module")
def from_moscow() -> Story:
    return arrival("UMMS", origin="UUWW", cruise_ft=35000)


def test_descent_rates_and_speeds(from_moscow: Story) -> None:
    flight = from_moscow.flights[0]
    field = UMMS.elevation_ft
    descending = [s for _, s in samples(flight) if s.vertical_rate_fpm < -100]
    idle = [s for s in descending if 12000 < s.altitude_ft < 33000]
    assert idle and all(280 <= s.ground_speed_kt <= 300 for s in idle)
    assert all(-2500 <= s.vertical_rate_fpm <= -1500 for s in idle)
    low = [s for _, s in samples(flight) if not s.on_ground and s.altitude_ft < 9900]
    assert max(s.ground_speed_kt for s in low) <= 250.5
    # the top of descent by the 3:1 rule: ~(35,000 - 3,670) / 1,000 * 3 + 11 NM to go
    top = next(t for t, s in samples(flight, 1.0) if s.vertical_rate_fpm < -100)
    down = from_moscow.touchdowns[0].time
    flown = sum(distance_nm(a.lat, a.lon, b.lat, b.lon) for (_, a), (_, b) in
                zip(samples(flight, 1.0), samples(flight, 1.0)[1:], strict=False)
                if top <= _ < down)
    assert 3 * (35000 - field - 3000) / 1000 + 11 == pytest.approx(flown, rel=0.05)


def test_joins_the_final_and_flies_a_three_degree_glide_path(from_moscow: Story) -> None:
    flight = from_moscow.flights[0]
    down = from_moscow.touchdowns[0].time
    end = UMMS.end("31R")
    at_touchdown = flight.state_at(down)
    threshold_m = distance_nm(end.lat, end.lon, at_touchdown.lat, at_touchdown.lon) * 1852
    assert 250 <= threshold_m <= 350
    assert at_touchdown.altitude_ft == pytest.approx(UMMS.elevation_of(end))
    aligned = [(t, s) for t, s in samples(flight, 2.0)
               if t < down and off(s.track_deg, end.heading_deg) < 1.0]
    _, joined = aligned[0]
    joined_nm = distance_nm(joined.lat, joined.lon, at_touchdown.lat, at_touchdown.lon)
    assert 10 <= joined_nm <= 12
    assert 2700 <= joined.altitude_ft - UMMS.elevation_ft <= 3300
    on_slope = [s for t, s in aligned if s.vertical_rate_fpm < 0]
    for s in on_slope:
        nm = distance_nm(s.lat, s.lon, at_touchdown.lat, at_touchdown.lon)
        if nm > 0.5:
            path = degrees(atan((s.altitude_ft - at_touchdown.altitude_ft) / (nm * FT_PER_NM)))
            assert 2.7 <= path <= 3.3
            assert 138 <= s.ground_speed_kt <= 165


@pytest.mark.parametrize("from_bearing", [0, 90, 180, 270])
def test_arrivals_from_every_side_land_on_the_runway_facing_them(from_bearing: float) -> None:
    story = arrival("UMMS", from_bearing=from_bearing, distance_nm=80)
    flight = story.flights[0]
    down = story.touchdowns[0].time
    final = flight.state_at(down - 30)
    landing_end = min(UMMS.ends, key=lambda e: off(e.heading_deg, final.track_deg))
    assert off(landing_end.heading_deg, final.track_deg) < 1.0
    # the approach side is within 90 deg of where it came from
    assert off((landing_end.heading_deg + 180) % 360, from_bearing) <= 90


def test_circling_final_is_not_aligned_with_any_runway() -> None:
    story = arrival("UMMS", from_bearing=72, final_offset_deg=50)
    flight = story.flights[0]
    down = story.touchdowns[0].time
    for seconds in (5, 20, 40):  # the last ~3 km
        track = flight.state_at(down - seconds).track_deg
        assert min(off(track, e.heading_deg) for e in UMMS.ends) >= 40
    assert flight.state_at(down - 5).altitude_ft - UMMS.elevation_ft < 100  # 360 m out


def test_departure_climbs_and_turns_towards_its_destination() -> None:
    story = departure(to="UUWW").from_field("UMMS", from_moscow_start())
    flight = story.flights[0]
    up = story.liftoffs[0].time
    assert flight.liftoff_time == up
    assert flight.state_at(up - 1).on_ground and not flight.state_at(up + 1).on_ground
    climbing = [s for t, s in samples(flight) if t > up and s.altitude_ft < 9800]
    assert all(2000 <= s.vertical_rate_fpm <= 3000 for s in climbing)
    assert all(150 <= s.ground_speed_kt <= 250.5 for s in climbing)
    later = flight.state_at(up + 15 * 60)
    uuww = airfield("UUWW")
    assert off(later.track_deg, bearing_deg(later.lat, later.lon, uuww.lat, uuww.lon)) < 5
    assert flight.state_at(flight.end_time).altitude_ft == pytest.approx(35000)


def from_moscow_start() -> float:
    return arrival("UMMS", origin="UUWW").start + 3600


@pytest.mark.parametrize("ground", [timedelta(minutes=20), timedelta(hours=4),
                                    timedelta(hours=10)])
def test_turnaround_ground_time_is_exact(ground: timedelta) -> None:
    story = turnaround(arrival("UMMS", origin="UUWW"), departure(to_bearing=72), ground)
    assert story.ground_times() == [ground]
    assert {f.icao for f in story.flights} == {"14FC0B"}
    assert story.liftoffs[0].airport == story.touchdowns[0].airport == "UMMS"
    assert not story.control


def test_turnaround_refuses_a_ground_time_shorter_than_the_taxi() -> None:
    with pytest.raises(ValueError, match="shorter"):
        turnaround(arrival("UMMS", origin="UUWW"), departure(to_bearing=72),
                   timedelta(minutes=2))


def test_go_around_descends_to_300_ft_then_climbs_away() -> None:
    story = go_around("UMMS", from_bearing=72)
    flight = story.flights[0]
    lowest = min((s for _, s in samples(flight, 1.0)), key=lambda s: s.altitude_ft)
    assert 250 <= lowest.altitude_ft - UMMS.elevation_ft <= 350
    assert story.control and not story.touchdowns
    assert flight.state_at(flight.end_time).altitude_ft > 10000
    again = go_around("UMMS", from_bearing=72, lands_later=True)
    assert not again.control and again.touchdowns[0].airport == "UMMS"
    first_low = next(t for t, s in samples(again.flights[0], 1.0)
                     if s.altitude_ft - UMMS.elevation_ft < 350)
    assert again.touchdowns[0].time - first_low > 300  # landed on a second approach


def test_low_overflight_stays_at_1500_ft_over_the_field() -> None:
    story = low_overflight("UMMS")
    over = min((s for _, s in samples(story.flights[0], 1.0)),
               key=lambda s: distance_nm(s.lat, s.lon, UMMS.lat, UMMS.lon))
    assert over.altitude_ft - UMMS.elevation_ft == pytest.approx(1500)
    assert over.ground_speed_kt == pytest.approx(200)
    assert story.control and not story.touchdowns


def test_between_airports_points_at_both_alike_until_the_turn() -> None:
    story = between_airports("UMMS", "UMLI", lands_at="UMLI")
    assert story.fits == ("UMMS", "UMLI") and story.touchdowns[0].airport == "UMLI"
    flight = story.flights[0]
    umli = airfield("UMLI")
    state = flight.state_at(flight.start_time + 600)  # well before the turn
    to_umms = off(state.track_deg, bearing_deg(state.lat, state.lon, UMMS.lat, UMMS.lon))
    to_umli = off(state.track_deg, bearing_deg(state.lat, state.lon, umli.lat, umli.lon))
    assert abs(to_umms - to_umli) < 1.0 and to_umms < 10
    km_umms = distance_nm(state.lat, state.lon, UMMS.lat, UMMS.lon)
    assert km_umms == pytest.approx(distance_nm(state.lat, state.lon, umli.lat, umli.lon),
                                    rel=0.01)


def test_transponder_off_stops_the_frames_but_not_the_aircraft() -> None:
    story = transponder_off((53.9, 27.0), silent_after=timedelta(minutes=5))
    heard = hearing(story, Everywhere())
    (contact,) = heard.contacts
    off_at = story.muted[0][0]
    assert off_at - 3 <= contact.last.time < off_at
    assert contact.last.state.altitude_ft == 25000 and story.control
    assert story.state_at(off_at + 600) is not None  # it flies on, unheard


def test_level_flight_away_is_lost_at_the_coverage_edge() -> None:
    vilnius = Receiver.rooftop(54.687, 25.279, antenna_m=30)
    story = level_away(vilnius, bearing=30)
    last = hearing(story, vilnius).contacts[-1].last
    later = story.state_at(last.time + 120)
    assert later is not None and not vilnius.in_view(later.lat, later.lon, later.altitude_ft)
    assert last.state.altitude_ft == 25000 and last.state.vertical_rate_fpm == 0


def test_background_traffic_fills_every_bearing_and_band() -> None:
    vilnius = Receiver.rooftop(54.687, 25.279, antenna_m=30)
    stories = background_traffic(vilnius, n=60, seed=4)
    assert len({s.airframe.icao for s in stories}) == 60
    assert all(s.control and not s.airframe.watched for s in stories)
    sectors, bands = set(), set()
    for story in stories:
        for _, seen in samples(story.flights[0], 30.0):
            if vilnius.in_view(seen.lat, seen.lon, seen.altitude_ft):
                sectors.add(int(bearing_deg(vilnius.lat, vilnius.lon, seen.lat, seen.lon) // 45))
                bands.update(i for i, (lo, hi) in enumerate(ALTITUDE_BANDS_FT)
                             if lo <= seen.altitude_ft <= hi)
    assert sectors == set(range(8)) and bands == set(range(len(ALTITUDE_BANDS_FT)))
    # and some of them out of coverage: the outline has an edge to learn
    assert any(not vilnius.in_view(s.lat, s.lon, s.altitude_ft)
               for story in stories for _, s in samples(story.flights[0], 60.0))


def test_airframes_come_from_the_shipped_watchlist() -> None:
    tu214 = watched("RA-64523")
    assert (tu214.icao, tu214.aircraft_type, tu214.watched) == (
        "14FC0B", "Tupolev Tu-214VPU", True)
    assert watched("EW-001PA").icao == "51002B"
    with pytest.raises(KeyError):
        watched("D-ABYA")
    assert not unwatched("3c6dd4", "DLH1447").watched
