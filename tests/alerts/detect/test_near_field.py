"""Inferred arrivals and departures on the shipped OurAirports runways: what is a landing
lost on final or low over the field, what is a climb-out, and what is neither."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from landing_scenarios import FIELD_FT, HEADING, UMMS, climb_out, final

from flightwatch.alerts.detect.config import DetectionConfig
from flightwatch.alerts.detect.near_field import inferred_arrival, inferred_departure
from flightwatch.db.airports import AirportIndex, read_airports
from flightwatch.db.runways import read_runways
from flightwatch.decoder.tracker import Position
from tools.simulate import destination

CONFIG = Path(__file__).resolve().parents[3] / "config"
T = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
UMBK = (52.164, 24.3999)  # Borisovo: no runway thresholds known, 463 ft
RULES = DetectionConfig()


@pytest.fixture(scope="module")
def airports() -> AirportIndex:
    return AirportIndex(read_airports(CONFIG / "airports.csv"),
                        read_runways(CONFIG / "runways.csv"))


def at(point: tuple[float, float], altitude: float, speed: float, track: float,
       rate: float = -700.0) -> Position:
    return Position("14F114", T, point[0], point[1], altitude, speed, track, rate, False,
                    "RSD114", "test")


def test_shipped_runways_have_both_ends_and_headings() -> None:
    ends = read_runways(CONFIG / "runways.csv")
    by_ident = {(e.airport, e.ident): e for e in ends}
    assert len(ends) == 20
    assert by_ident[("UMMS", "31L")].heading_deg == 319
    # OurAirports gives no heading for BY-0001: it is computed from the thresholds.
    assert by_ident[("BY-0001", "05")].heading_deg == pytest.approx(60.2, abs=0.1)
    assert by_ident[("BY-0001", "23")].heading_deg == pytest.approx(240.2, abs=0.1)


def test_lost_low_on_final_landed_with_a_touchdown_estimate(airports: AirportIndex) -> None:
    arrival = inferred_arrival(at(final(1.0), FIELD_FT + 300, 140, HEADING), airports, RULES)
    assert arrival is not None
    assert (arrival.airport.code, arrival.runway) == ("UMMS", "31L")
    # 1 NM at 140 kt
    assert arrival.time - T == timedelta(seconds=26)
    assert arrival.distance_km == pytest.approx(1.852, abs=0.01)
    assert arrival.height_ft == pytest.approx(300, abs=1)


@pytest.mark.parametrize(("why", "position"), [
    ("too high", at(final(1.0), FIELD_FT + 1200, 140, HEADING)),
    ("too fast", at(final(1.0), FIELD_FT + 300, 250, HEADING)),
    ("climbing", at(final(1.0), FIELD_FT + 300, 140, HEADING, rate=1500)),
    ("crossing the field above the overhead height",
     at(destination(*UMMS, 229, 1.0), FIELD_FT + 600, 160, 229)),
    ("crossing low but beyond the overhead distance",
     at(destination(*UMMS, 229, 2.0), FIELD_FT + 300, 160, 229)),
    # South-west of 31L's final (31R lies north-east of it).
    ("beside the centreline", at(destination(*final(3.0), HEADING - 90, 1.5),
                                 FIELD_FT + 500, 140, HEADING)),
    ("flying away from it", at(final(1.0), FIELD_FT + 300, 140, HEADING - 180)),
    ("far out", at(final(8.0), FIELD_FT + 600, 140, HEADING)),
])
def test_not_a_landing(airports: AirportIndex, why: str, position: Position) -> None:
    assert inferred_arrival(position, airports, RULES) is None, why


def test_lost_very_low_over_the_field_landed_whatever_its_heading(
    airports: AirportIndex,
) -> None:
    """The issue's second story: last heard ~30 ft above the field right over UMMS at
    140 kt, its track 50 degrees off both runways (a circling approach)."""
    over = at(destination(*UMMS, 229, 0.2), FIELD_FT + 30, 140, (HEADING + 50) % 360)
    arrival = inferred_arrival(over, airports, RULES)
    assert arrival is not None
    assert (arrival.airport.code, arrival.runway) == ("UMMS", None)
    assert arrival.height_ft == pytest.approx(30, abs=1)
    assert arrival.time - T <= timedelta(seconds=5)  # 0.4 km at 140 kt


def test_without_runway_ends_the_reference_point_decides(airports: AirportIndex) -> None:
    near = at(destination(*UMBK, 90, 1.5), 463 + 300, 110, 45)
    assert (arrival := inferred_arrival(near, airports, RULES)) is not None
    assert arrival.airport.code == "UMBK" and arrival.runway is None
    far = at(destination(*UMBK, 90, 4.0), 463 + 300, 110, 45)
    assert inferred_arrival(far, airports, RULES) is None


def test_first_heard_on_the_climb_out(airports: AirportIndex) -> None:
    out = at(climb_out(2.0), FIELD_FT + 800, 150, HEADING, rate=1500)
    departed = inferred_departure(out, airports, RULES)
    assert departed is not None and departed.airport.code == "UMMS"
    # 800 ft of climb at 1,500 fpm: lifted off 32 s before it was first heard
    assert departed.time == T - timedelta(seconds=32)
    inbound = at(climb_out(2.0), FIELD_FT + 800, 150, HEADING - 180, rate=1500)
    assert inferred_departure(inbound, airports, RULES) is None
    descending = at(climb_out(2.0), FIELD_FT + 800, 150, HEADING, rate=-800)
    assert inferred_departure(descending, airports, RULES) is None
