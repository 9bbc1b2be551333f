"""The detector's state machine on hand-placed tracks: what each loss, reappearance and
turnaround becomes, in events and in the flights table.

Positions are placed with great-circle geometry around the shipped Belarus airports
(their reference points come from OurAirports); the detector sees them as the
pipeline hands it stored positions, and ``lost`` as the tracker's expiry.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from detection_harness import Judged

from flightwatch.alerts.detect import (
    Arrival,
    Confirmation,
    CoverageMap,
    Dark,
    Departure,
    DetectionConfig,
    Retraction,
    Silence,
)
from flightwatch.db import connect
from flightwatch.db.airports import AirportIndex, read_airports
from flightwatch.db.flight_queries import query_flights
from flightwatch.db.flights import open_arrivals
from flightwatch.decoder.geodesy import bearing_deg
from flightwatch.decoder.tracker import Position
from tools.simulate import destination

CONFIG = Path(__file__).resolve().parents[3] / "config"
T = datetime(2020, 8, 18, 16, 50, tzinfo=UTC)
UMMS = (53.888071, 28.039964)
UMLI = (53.77344, 27.577411)
ICAO = "1510F2"  # RA-64523's address in plane-alert-db
KM = 1 / 1.852


@pytest.fixture(scope="module")
def airports() -> AirportIndex:
    return AirportIndex(read_airports(CONFIG / "airports.csv"))


@pytest.fixture
def judged(tmp_path: Path, airports: AirportIndex) -> Iterator[Judged]:
    engine = connect(f"sqlite:///{tmp_path / 'fw.db'}")
    yield Judged(engine, airports)
    engine.dispose()


def leg(start_s: float, end: tuple[float, float], heading: float, altitude: float,
        speed: float, rate: float, seconds: int = 180) -> list[Position]:
    """Stored positions (every 5 s) of a straight leg ending at ``end`` at ``start_s +
    seconds`` after ``T``."""
    out = []
    for s in range(-seconds, 1, 5):
        back_nm = -s * speed / 3600
        lat, lon = destination(*end, (heading + 180) % 360, back_nm)
        out.append(Position(ICAO, T + timedelta(seconds=start_s + seconds + s), lat, lon,
                            altitude + rate * s / 60, speed, heading, rate, False, "RSD523",
                            "test"))
    return out


def descent_to_minsk(judged: Judged) -> None:
    """Lost 67 km E of UMMS at 14,000 ft, descending 1,800 fpm at 280 kt towards it."""
    end = destination(*UMMS, 90, 67 * KM)
    for p in leg(0, end, bearing_deg(*end, *UMMS), 14000, 280, -1800):
        judged.add(p)
    judged.lost(ICAO)


def climb_from_minsk(judged: Judged, after_s: float) -> None:
    """First heard climbing through 7,600 ft 25 km NW of UMMS, heading east."""
    end = destination(*UMMS, 315, 25 * KM)
    for p in leg(after_s, end, 60, 7600, 280, 2000, seconds=60)[::-1][:1] + leg(
            after_s + 60, destination(*end, 60, 4 * KM), 60, 9600, 280, 2000, seconds=60):
        judged.add(p)


def test_lost_descending_towards_minsk_is_a_probable_arrival(judged: Judged) -> None:
    descent_to_minsk(judged)
    (arrival,) = judged.events
    assert isinstance(arrival, Arrival)
    assert (arrival.fix.airport, arrival.fix.evidence) == ("UMMS", "probable")
    assert arrival.fix.reason is not None and arrival.fix.reason.startswith(
        "lost at 14,000 ft 67 km E of UMMS descending 1,800 fpm towards it")
    assert 120 <= arrival.fix.uncertainty_s <= 360
    assert judged.flush()
    (flight,) = query_flights(judged.engine)
    assert (flight.arrival_airport, flight.arrival_evidence) == ("UMMS", "probable")
    assert flight.arrival_uncertainty_s == arrival.fix.uncertainty_s
    assert flight.arrival_reason == arrival.fix.reason


def test_heard_again_climbing_away_hours_later_is_a_turnaround(judged: Judged) -> None:
    descent_to_minsk(judged)
    climb_from_minsk(judged, after_s=4 * 3600 + 34 * 60)
    assert [type(e) for e in judged.events] == [Arrival, Confirmation, Departure]
    confirmation, departure = judged.events[1], judged.events[2]
    assert isinstance(confirmation, Confirmation) and isinstance(departure, Departure)
    assert not confirmation.revealed  # told already, at the loss
    assert confirmation.arrival.fix.evidence == "confirmed"
    assert confirmation.arrival.fix.reason is not None
    assert "heard again 4 h 3" in confirmation.arrival.fix.reason
    assert departure.fix.airport == "UMMS" and departure.ground_s is not None
    assert 4 * 3600 <= departure.ground_s <= 5 * 3600
    assert judged.flush()
    arrived, left = query_flights(judged.engine)
    assert (arrived.arrival_airport, arrived.arrival_evidence) == ("UMMS", "confirmed")
    assert left.departure_airport == "UMMS"
    assert left.turnaround_s is not None and abs(left.turnaround_s - departure.ground_s) <= 1


def test_heard_again_still_descending_withdraws_the_arrival(judged: Judged) -> None:
    descent_to_minsk(judged)
    again = destination(*UMMS, 90, 30 * KM)
    for p in leg(600, again, bearing_deg(*again, *UMMS), 5000, 220, -1200, seconds=30):
        judged.add(p)
    assert [type(e) for e in judged.events] == [Arrival, Retraction]
    retraction = judged.events[1]
    assert isinstance(retraction, Retraction)
    assert "not climbing" in retraction.reason
    assert judged.flush()
    (flight,) = query_flights(judged.engine)
    assert flight.arrival_airport is None and flight.arrival_evidence is None
    assert flight.arrival_reason == retraction.reason  # withdrawn, and why, kept


def test_heard_again_in_cruise_far_away_later_withdraws_it(judged: Judged) -> None:
    descent_to_minsk(judged)
    far = destination(*UMMS, 100, 300 * KM)
    for p in leg(3 * 3600, far, 100, 35000, 450, 0, seconds=30):
        judged.add(p)
    assert [type(e) for e in judged.events] == [Arrival, Retraction]


def test_a_restart_in_between_still_pairs_the_turnaround(tmp_path: Path,
                                                         airports: AirportIndex) -> None:
    engine = connect(f"sqlite:///{tmp_path / 'fw.db'}")
    before = Judged(engine, airports)
    descent_to_minsk(before)
    assert before.flush()
    after = Judged(engine, airports)
    after.detector.remembered = lambda since, until: open_arrivals(engine, since, until)
    climb_from_minsk(after, after_s=2 * 3600)
    assert [type(e) for e in after.events] == [Confirmation, Departure]
    assert after.flush()
    arrived, _left = query_flights(engine)
    assert arrived.arrival_evidence == "confirmed"
    engine.dispose()


VILNIUS = (54.687, 25.279)


def level_then_lost(judged: Judged, bearing: float, km: float, heading: float) -> Position:
    """A Vilnius receiver that has heard aircraft at 25,000 ft out to 350 km all around,
    and a watched aircraft level at FL250 lost ``km`` from it; its last position."""
    coverage = CoverageMap("local", *VILNIUS, min_positions=5)
    for around in range(0, 360, 2):
        for out in range(50, 351, 25):
            coverage.observe(*destination(*VILNIUS, around, out * KM), 25000)
    judged.detector.coverage = coverage
    judged.detector.is_local = lambda source: source == "test"
    end = destination(*VILNIUS, bearing, km * KM)
    for p in leg(0, end, heading, 25000, 420, 0):
        judged.add(p)
    judged.lost(ICAO)
    return p


def tick(judged: Judged, seconds: float) -> None:
    """Another aircraft heard ``seconds`` after T: the detector's clock moves on."""
    from flightwatch.decoder import Observation
    from flightwatch.decoder.tracker import AircraftState, TrackUpdate

    when = T + timedelta(seconds=seconds)
    judged.detector.on_update(TrackUpdate(AircraftState("4CA123", when, when), False, None,
                                          False, False), Observation("4CA123", when, "test"))


def test_lost_level_well_inside_coverage_goes_dark(judged: Judged) -> None:
    level_then_lost(judged, 160, 150, 40)  # over western Belarus, no field near
    assert judged.events == []  # held: a fade of a minute is not dark
    tick(judged, 600)  # 7 min after the loss
    (dark,) = judged.events
    assert isinstance(dark, Dark)
    assert dark.distance_km == pytest.approx(150, abs=1)
    assert dark.edge_km == pytest.approx(350, abs=1)
    assert "still silent" in dark.reason


def test_lost_at_the_edge_of_coverage_left_it(judged: Judged) -> None:
    level_then_lost(judged, 160, 340, 160)
    (silence,) = judged.events
    assert isinstance(silence, Silence) and silence.left_coverage is True
    assert "at the edge of its coverage" in silence.reason


def test_a_dark_candidate_heard_again_is_a_fade(judged: Judged) -> None:
    last = level_then_lost(judged, 160, 150, 40)
    for p in leg(240, destination(last.lat, last.lon, 40, 10 * KM), 40, 25000, 420, 0,
                 seconds=10):
        judged.add(p)
    tick(judged, 900)
    assert judged.events == []


def test_a_config_can_switch_the_window_off(tmp_path: Path, airports: AirportIndex) -> None:
    engine = connect(f"sqlite:///{tmp_path / 'fw.db'}")
    short = Judged(engine, airports, DetectionConfig(turnaround_s=3600.0))
    descent_to_minsk(short)
    climb_from_minsk(short, after_s=2 * 3600)  # beyond the window: unrelated
    assert [type(e) for e in short.events] == [Arrival, Departure]
    engine.dispose()
