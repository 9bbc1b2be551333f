"""The flight simulator, the benchmark traffic and the demo capture, checked with pyModeS."""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from datetime import UTC, datetime
from itertools import islice, pairwise
from pathlib import Path
from types import ModuleType
from typing import Any

import pyModeS
import pytest
from pyproj import Geod
from shapely.geometry import Point, shape

from tools.encoder import crc24
from tools.simulate import (
    Flight,
    Rates,
    bearing_deg,
    destination,
    distance_nm,
    frames,
    synthetic_traffic,
)

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2020, 8, 19, 9, 0, tzinfo=UTC)


def load_make_demo() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_demo", ROOT / "tools" / "make_demo.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def straight_flight(minutes: float = 10.0, icao: str = "4CA7E1") -> Flight:
    """A level flight east at 420 kt for ``minutes``."""
    end = destination(53.0, 25.0, 90.0, 420 * minutes / 60)
    return Flight(icao, "TEST1", [(53.0, 25.0, 35000, 420), (*end, 35000, 420)], START)


# --- geometry and flight model ------------------------------------------------------


def test_great_circle_helpers_agree_with_pyproj_and_each_other() -> None:
    minsk, smolensk = (53.888, 28.040), (54.782, 32.040)
    forward, _, metres = Geod(ellps="WGS84").inv(minsk[1], minsk[0], smolensk[1], smolensk[0])
    d = distance_nm(*minsk, *smolensk)
    assert d * 1852 == pytest.approx(metres, rel=0.005)  # a sphere, not the ellipsoid
    assert bearing_deg(*minsk, *smolensk) == pytest.approx(forward % 360, abs=0.3)
    there = destination(*minsk, bearing_deg(*minsk, *smolensk), d)
    assert distance_nm(*there, *smolensk) < 1e-6
    assert destination(10.0, 179.9, 90.0, 60)[1] < -179.0  # across the date line


def test_flight_passes_its_waypoints_with_linear_altitude_and_speed() -> None:
    waypoints = [(54.85, 32.6, 33000, 450), (54.2, 29.4, 14000, 330), (53.9, 28.3, 3000, 160)]
    flight = Flight("157710", "RSD016", waypoints, START)
    first_leg_s = 2 * distance_nm(54.85, 32.6, 54.2, 29.4) / (450 + 330) * 3600
    at_start, mid, corner = (
        flight.state_at(flight.start_time + s) for s in (0, first_leg_s / 2, first_leg_s)
    )
    assert distance_nm(at_start.lat, at_start.lon, 54.85, 32.6) < 1e-6
    assert distance_nm(corner.lat, corner.lon, 54.2, 29.4) < 0.01
    assert mid.altitude_ft == pytest.approx(23500)
    assert mid.ground_speed_kt == pytest.approx(390)
    assert mid.vertical_rate_fpm == pytest.approx(-19000 / first_leg_s * 60)
    assert 245 < mid.track_deg < 255  # west-south-west
    end = flight.state_at(flight.end_time)
    assert distance_nm(end.lat, end.lon, 53.9, 28.3) < 0.01
    assert not end.on_ground and flight.touchdown_time is None


def test_landing_rolls_out_slows_to_taxi_speed_and_stops() -> None:
    touchdown = (53.8828, 28.0666)
    flight = Flight(
        "157710",
        "RSD016",
        [(53.78, 28.22, 3200, 155), (*touchdown, 681, 135)],
        START,
        on_ground_at_end=True,
        taxi_speed_kt=15,
        taxi_s=45,
        parked_s=120,
    )
    assert flight.touchdown_time is not None and flight.stop_time is not None
    assert flight.end_time == pytest.approx(flight.stop_time + 120)
    speeds = [
        flight.state_at(t).ground_speed_kt
        for t in range(int(flight.touchdown_time) + 1, int(flight.end_time))
    ]
    assert all(a >= b for a, b in pairwise(speeds))
    assert speeds.count(15.0) >= 44 and speeds[-1] == 0.0
    parked = flight.state_at(flight.end_time)
    assert parked.on_ground and parked.altitude_ft == 681
    rolled = distance_nm(*touchdown, parked.lat, parked.lon)
    assert 1.0 < rolled < 1.6  # 48 s of braking plus 45 s of taxi
    assert abs(bearing_deg(*touchdown, parked.lat, parked.lon) - 318) < 1


# --- frame schedule -----------------------------------------------------------------


def test_frames_follow_the_configured_rates_and_alternate_cpr_format() -> None:
    flight = straight_flight(minutes=10)
    got = list(frames([flight], Rates(surveillance_s=4.0), seed=7))
    times = [t for t, _ in got]
    assert times == sorted(times)
    assert flight.start_time <= times[0] and times[-1] <= flight.end_time
    decoded = [pyModeS.decode(hx) for _, hx in got]
    kinds = Counter((d["df"], d.get("typecode")) for d in decoded)
    assert kinds[(17, 11)] == pytest.approx(1200, rel=0.03)  # 2 positions/s
    assert kinds[(17, 19)] == pytest.approx(1200, rel=0.03)  # 2 velocities/s
    assert kinds[(17, 4)] == pytest.approx(120, rel=0.05)  # identification every 5 s
    assert kinds[(4, None)] + kinds[(5, None)] == pytest.approx(150, rel=0.05)
    formats = [d["cpr_format"] for d in decoded if d.get("typecode") == 11]
    assert all(a != b for a, b in pairwise(formats))


def test_frames_are_deterministic_per_seed() -> None:
    flights = [straight_flight(2, "4CA7E1"), straight_flight(2, "3C6DD4")]
    first = list(frames(flights, seed=1))
    assert first == list(frames(flights, seed=1))
    assert first != list(frames(flights, seed=2))
    # Each flight has its own random stream: adding one does not disturb another.
    alone = list(frames(flights[:1], seed=1))
    assert [f for f in first if f[1][2:8] == "4CA7E1"] == alone


def test_frames_are_produced_lazily() -> None:
    # A flight of a day would be some 400,000 frames if materialised.
    far = Flight("4CA7E1", "LONG1", [(0.0, 0.0, 35000, 420), (0.0, 179.0, 35000, 420)], START)
    assert far.end_time - far.start_time > 86400
    head = list(islice(frames([far, straight_flight()]), 10))
    assert len(head) == 10


def test_decoded_track_follows_the_flight() -> None:
    flight = straight_flight(minutes=3)
    pipe = pyModeS.PipeDecoder()
    errors = []
    for t, hx in frames([flight], seed=3):
        decoded = pipe.decode(hx, timestamp=t)
        if decoded.get("latitude") is not None:
            truth = flight.state_at(t)
            error = distance_nm(truth.lat, truth.lon, decoded["latitude"], decoded["longitude"])
            errors.append(error)
    assert len(errors) > 300
    assert max(errors) * 1852 < 5


# --- benchmark traffic --------------------------------------------------------------


def test_synthetic_traffic_keeps_a_thousand_aircraft_in_the_air_with_valid_frames() -> None:
    got = list(synthetic_traffic(n_aircraft=1000, n_frames=30_000, seed=5))
    assert len(got) == 30_000
    times = [t for t, _ in got]
    assert times == sorted(times)
    squitters = [hx for _, hx in got if len(hx) == 28]
    assert all(crc24(hx) == 0 for hx in squitters)
    in_clear = {hx[2:8] for hx in squitters}
    # Every reply's parity yields an address already seen in clear.
    assert {f"{crc24(hx):06X}" for _, hx in got if len(hx) == 14} <= in_clear
    window = {hx[2:8] for t, hx in got if times[-1] - 10 <= t and len(hx) == 28}
    assert len(window) >= 1000  # all of them within the last 10 s
    assert not any(0x100000 <= int(i, 16) <= 0x1FFFFF for i in in_clear)
    sample = [pyModeS.decode(hx) for hx in squitters[::97]]
    assert all(d["crc_valid"] is True for d in sample)
    assert list(synthetic_traffic(1000, 2000, seed=5)) == got[:2000]


# --- the demo capture ---------------------------------------------------------------

DEMO = ROOT / "config" / "samples" / "demo_minsk.tsv"


Decoded = dict[str, list[tuple[float, dict[str, Any]]]]


@pytest.fixture(scope="module")
def demo_positions() -> Decoded:
    """The demo's messages by address, through one PipeDecoder pass as the product does."""
    pipe = pyModeS.PipeDecoder(surface_ref=(53.888071, 28.039964))
    by_icao: Decoded = {}
    for line in DEMO.read_text(encoding="ascii").splitlines():
        stamp, hx = line.split("\t")
        t = datetime.fromisoformat(stamp).replace(tzinfo=UTC).timestamp()
        decoded = pipe.decode(hx, timestamp=t)
        by_icao.setdefault(str(decoded["icao"]), []).append((t, decoded))
    return by_icao


def positioned(messages: list[tuple[float, dict[str, Any]]]) -> list[tuple[float, dict[str, Any]]]:
    return [(t, d) for t, d in messages if d.get("latitude") is not None]


def belarus() -> Any:
    collection = json.loads((ROOT / "config" / "geofences" / "belarus.geojson").read_text())
    return shape(collection["features"][0]["geometry"])


def test_demo_file_is_what_the_script_makes(tmp_path: Path) -> None:
    make_demo = load_make_demo()
    assert make_demo.main([str(tmp_path / "demo.tsv")]) == 0
    assert (tmp_path / "demo.tsv").read_bytes() == DEMO.read_bytes()
    assert DEMO.stat().st_size < 600_000


def test_demo_watched_aircraft_enters_belarus_and_lands_at_minsk(demo_positions: Decoded) -> None:
    make_demo = load_make_demo()
    watched = make_demo.demo_flights()[0]
    by_icao = demo_positions
    assert set(by_icao) == {"157710", "3C6DD4", "502CB6", "48AE0F"}
    messages = by_icao["157710"]
    assert {d.get("callsign") for _, d in messages} >= {"RSD016"}
    assert {d["df"] for _, d in messages} == {4, 5, 17}
    positions = positioned(messages)
    area = belarus()
    inside = [area.contains(Point(d["longitude"], d["latitude"])) for _, d in positions]
    entered = positions[inside.index(True)][0]
    assert not any(inside[: inside.index(True)])
    assert all(inside[inside.index(True) :])
    expected = make_demo.border_crossing(watched)
    assert expected is not None and abs(entered - expected) <= 2
    assert datetime.fromtimestamp(entered, UTC).strftime("%H:%M") in {"09:46", "09:47"}
    last_t, last = positions[-1]
    assert last["bds"] == "0,6" and last["groundspeed"] == 0.0
    assert distance_nm(53.888071, 28.039964, last["latitude"], last["longitude"]) < 1.5
    first_surface = next(t for t, d in positions if d["bds"] == "0,6")
    assert watched.touchdown_time is not None
    assert 0 <= first_surface - watched.touchdown_time <= 2
    assert last_t == pytest.approx(watched.end_time, abs=6)


def test_demo_unwatched_traffic_crosses_and_skirts_belarus(demo_positions: Decoded) -> None:
    area = belarus()
    inside = {
        icao: [area.contains(Point(d["longitude"], d["latitude"])) for _, d in positioned(msgs)]
        for icao, msgs in demo_positions.items()
    }
    assert not any(inside["48AE0F"])  # passes west of the border
    assert not inside["502CB6"][0] and inside["502CB6"][-1]  # comes in from Latvia
    overflight = inside["3C6DD4"]  # east to west across the whole country
    assert not overflight[0] and any(overflight) and not overflight[-1]
    unwatched = [int(icao, 16) for icao in inside if icao != "157710"]
    assert not any(0x100000 <= a <= 0x1FFFFF or 0x510000 <= a <= 0x5107FF for a in unwatched)
