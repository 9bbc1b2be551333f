"""Flights cut from a simulated capture replayed through the real pipeline into SQLite.

The truth comes from the simulator (``Flight.start_time``, ``touchdown_time``,
``state_at``), independent of the segmenter: RA-96016 lands at Gomel, takes off
again, lands at Minsk National, leaves westwards; an airliner flies, falls
silent for 45 minutes and flies on; a third aircraft lands at Minsk.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from detection_harness import Judged

from flightwatch.alerts.geofence import Geofence
from flightwatch.daemon.pipeline import build_pipeline
from flightwatch.daemon.replay import replay_files
from flightwatch.db import connect
from flightwatch.db.airports import AirportIndex, read_airports
from flightwatch.db.flight_queries import FlightRow, query_flights
from flightwatch.db.flights import FlightSegmenter
from flightwatch.db.watchlist import sync_files
from flightwatch.decoder.tracker import Position
from flightwatch.settings import load_settings
from tools.capture_writer import write_tsv
from tools.simulate import Flight, Rates, destination, frames

CONFIG = Path(__file__).resolve().parents[2] / "config"
START = datetime(2024, 5, 1, 6, 0, tzinfo=UTC)
RATES = Rates(position_s=2.0, velocity_s=6.0, identification_s=12.0, surveillance_s=30.0)
UMGG = (52.527000427246094, 31.016700744628906)  # Gomel, 472 ft
UMMS = (53.888071, 28.039964)  # Minsk National, 670 ft
WATCHED = "157710"  # RA-96016 (config/watchlist.csv)
GAPPY = "3C6DD4"
OTHER = "4CA853"
TOLERANCE_S = 12  # a stored position every 5 s, two to confirm a change, CPR pairing


def toward(airport: tuple[float, float], final_track: float, nm: float) -> tuple[float, float]:
    """A point ``nm`` before ``airport`` on a final approach flown on ``final_track``."""
    return destination(*airport, (final_track + 180) % 360, nm)


def simulated() -> dict[str, Flight]:
    into_gomel = Flight(
        WATCHED, "RSD016",
        [(*toward(UMGG, 280, 20), 5000, 220), (*toward(UMGG, 280, 6), 2300, 160),
         (*toward(UMGG, 280, 0.5), 472, 135)],
        START, on_ground_at_end=True, parked_s=240.0,
    )
    gomel_start = into_gomel.state_at(into_gomel.end_time)
    to_minsk = Flight(
        WATCHED, "RSD016",
        [(gomel_start.lat, gomel_start.lon, 472, 140), (*destination(*UMGG, 300, 12), 8000, 280),
         (*destination(*UMGG, 310, 45), 21000, 400),
         (*destination(*UMGG, 308, 70), 21000, 400), (*toward(UMMS, 310, 20), 4500, 230),
         (*toward(UMMS, 310, 8), 3200, 160), (*toward(UMMS, 310, 0.5), 670, 135)],
        datetime.fromtimestamp(into_gomel.end_time + 10, UTC), on_ground_at_end=True,
        parked_s=300.0,
    )
    minsk_start = to_minsk.state_at(to_minsk.end_time)
    westwards = Flight(
        WATCHED, "RSD017",
        [(minsk_start.lat, minsk_start.lon, 670, 140), (*destination(*UMMS, 270, 15), 9000, 280),
         (*destination(*UMMS, 270, 50), 18000, 380)],
        datetime.fromtimestamp(to_minsk.end_time + 20, UTC),
    )
    before_gap = Flight(  # from Russia into Belarus, then silent
        GAPPY, "DLH1447", [(54.60, 32.60, 37000, 460), (54.30, 29.50, 37000, 460)],
        START + timedelta(minutes=3),
    )
    after_gap = Flight(
        GAPPY, "DLH1447", [(53.50, 26.00, 36000, 460), (53.20, 24.00, 36000, 460)],
        datetime.fromtimestamp(before_gap.end_time + 45 * 60, UTC),
    )
    other = Flight(
        OTHER, "BRU869",
        [(*toward(UMMS, 310, 25), 6000, 240), (*toward(UMMS, 310, 0.5), 670, 135)],
        START + timedelta(minutes=50), on_ground_at_end=True, parked_s=60.0,
    )
    return {"into_gomel": into_gomel, "to_minsk": to_minsk, "westwards": westwards,
            "before_gap": before_gap, "after_gap": after_gap, "other": other}


def at(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def first_inside(flight: Flight, fence: Geofence) -> float:
    t = flight.start_time
    while not fence.contains(*flight.state_at(t)[:2]):
        t += 1.0
    return t


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Flight]]:
    folder = tmp_path_factory.mktemp("flights")
    truth = simulated()
    capture = folder / "flights.tsv"
    with capture.open("w", encoding="ascii", newline="\n") as out:
        write_tsv(frames(truth.values(), RATES, seed=3), out)
    config = folder / "flightwatch.toml"
    config.write_text(
        '[database]\nurl = "sqlite:///fw.db"\n\n'
        "[receiver]\nlat = 53.30\nlon = 29.50\n",  # between Minsk and Gomel
        encoding="utf-8",
    )
    return config, truth


def replay(config: Path) -> None:
    settings = load_settings(config)
    engine = connect(settings.database_url)
    pipeline = build_pipeline(settings, engine)
    replay_files(settings, [config.parent / "flights.tsv"], pipeline=pipeline)
    assert pipeline.flush()
    engine.dispose()


@pytest.fixture(scope="module")
def replayed(scenario: tuple[Path, dict[str, Flight]]) -> tuple[Path, dict[str, Flight]]:
    config = scenario[0]
    replay(config)
    engine = connect(load_settings(config).database_url)
    sync_files(engine, [CONFIG / "watchlist.csv"])
    engine.dispose()
    return scenario


def flights_of(config: Path, icao: str) -> list[FlightRow]:
    engine = connect(load_settings(config).database_url)
    return query_flights(engine, icaos=[icao])


def close(value: datetime | None, truth: float) -> bool:
    return value is not None and abs(value.timestamp() - truth) <= TOLERANCE_S


def test_takeoffs_and_landings_are_matched_to_airports(
    replayed: tuple[Path, dict[str, Flight]],
) -> None:
    config, truth = replayed
    first, second, third = flights_of(config, WATCHED)
    into_gomel, to_minsk, westwards = truth["into_gomel"], truth["to_minsk"], truth["westwards"]
    assert first.departure_airport is None and first.departure_time is None
    assert close(first.first_seen, into_gomel.start_time)
    assert first.arrival_airport == "UMGG"
    assert close(first.arrival_time, into_gomel.touchdown_time or 0)
    assert close(first.last_seen, into_gomel.end_time)  # parked at Gomel until it left

    assert (second.departure_airport, second.arrival_airport) == ("UMGG", "UMMS")
    assert close(second.departure_time, to_minsk.start_time)
    assert second.first_seen == second.departure_time
    assert close(second.arrival_time, to_minsk.touchdown_time or 0)
    assert second.max_altitude_ft == 21000  # level for a while at FL210
    assert second.callsign == "RSD016"
    assert second.registration == "RA-96016"  # from the watchlist

    assert third.departure_airport == "UMMS" and third.arrival_airport is None
    assert close(third.departure_time, westwards.start_time)
    assert close(third.last_seen, westwards.end_time)
    assert third.callsign == "RSD017"


def test_a_long_gap_starts_a_new_flight(replayed: tuple[Path, dict[str, Flight]]) -> None:
    config, truth = replayed
    before, after = flights_of(config, GAPPY)
    assert close(before.last_seen, truth["before_gap"].end_time)
    assert close(after.first_seen, truth["after_gap"].start_time)
    for flight in (before, after):
        assert flight.departure_airport is None and flight.arrival_airport is None
    assert before.max_altitude_ft == 37000 and after.max_altitude_ft == 36000


def test_time_inside_the_geofence(replayed: tuple[Path, dict[str, Flight]]) -> None:
    config, truth = replayed
    belarus = Geofence.from_file(CONFIG / "geofences" / "belarus.geojson", "belarus")
    second = flights_of(config, WATCHED)[1]
    # Gomel to Minsk never leaves Belarus: every interval counts.
    assert second.geofence_seconds == (
        f"belarus={(second.last_seen - second.first_seen).total_seconds():.0f}",
    )
    before = flights_of(config, GAPPY)[0]
    entered = first_inside(truth["before_gap"], belarus)
    expected = before.last_seen.timestamp() - entered
    (spent,) = before.geofence_seconds
    assert spent.startswith("belarus=")
    assert abs(int(spent.split("=")[1]) - expected) <= TOLERANCE_S


def test_watched_arrivals_and_departures_at_an_airport(
    replayed: tuple[Path, dict[str, Flight]],
) -> None:
    config, truth = replayed
    settings = load_settings(config)
    engine = connect(settings.database_url)
    everyone = query_flights(engine, airport="UMMS", since=START)
    assert {(f.icao, f.arrival_airport) for f in everyone} == {
        (WATCHED, "UMMS"), (WATCHED, None), (OTHER, "UMMS"),
    }
    watched = query_flights(engine, airport="umms", watched=True, since=START)
    assert [f.icao for f in watched] == [WATCHED, WATCHED]
    later = at((truth["to_minsk"].touchdown_time or 0) + 60)
    assert [f.departure_airport for f in query_flights(
        engine, airport="UMMS", watched=True, since=later)] == ["UMMS"]
    assert query_flights(engine, geofence="nowhere") == []
    assert len(query_flights(engine, geofence="belarus")) == 6


def test_replaying_again_changes_nothing(replayed: tuple[Path, dict[str, Flight]]) -> None:
    config, _ = replayed
    engine = connect(load_settings(config).database_url)
    before = query_flights(engine)
    replay(config)
    assert query_flights(engine) == before


# --- segmentation without surface messages (aggregators) -----------------------------------

def position(t: int, lat: float, lon: float, alt: float, speed: float, rate: float = 0.0,
             on_ground: bool | None = None) -> Position:
    return Position("51003A", START + timedelta(seconds=t), lat, lon, alt, speed, 310.0, rate,
                    on_ground, None, "opensky")


@pytest.fixture
def segmenter(tmp_path: Path) -> Judged:
    """Positions judged by the detector, cut into flights (no runway ends: the airports'
    reference points decide)."""
    engine = connect(f"sqlite:///{tmp_path / 'fw.db'}")
    return Judged(engine, AirportIndex(read_airports(CONFIG / "airports.csv")))


def test_low_and_slow_near_an_airport_is_a_landing(segmenter: Judged) -> None:
    near = toward(UMMS, 310, 1.0)
    for i, alt in enumerate((6000, 4000, 2500)):
        segmenter.add(position(i * 60, *toward(UMMS, 310, 12 - 4 * i), alt, 200, -800))
    segmenter.add(position(300, *near, 900, 140, -700))  # low but fast: still flying
    segmenter.add(position(340, *near, 700, 60))  # low and slow: rolled out
    segmenter.add(position(350, *near, 675, 20))
    assert segmenter.flush()
    (flight,) = query_flights(segmenter.engine)
    assert (flight.arrival_airport, flight.arrival_evidence) == ("UMMS", "observed")
    assert flight.arrival_time == START + timedelta(seconds=340)
    assert flight.arrival_reason == "heard low and slow at UMMS (30 ft above the field, 60 kt)"
    assert flight.last_seen == START + timedelta(seconds=350)


def test_first_seen_climbing_out_low_near_an_airport_departed_from_it(
    segmenter: Judged,
) -> None:
    segmenter.add(position(0, *destination(*UMMS, 310, 1.5), 1400, 170, 1800))
    segmenter.add(position(60, *destination(*UMMS, 310, 5), 3200, 220, 1800))
    segmenter.add(position(60 * 60, *destination(*UMMS, 310, 90), 30000, 420))  # after a gap
    assert segmenter.flush()
    departed, later = query_flights(segmenter.engine)
    # 730 ft above the field climbing 1,800 fpm: lifted off 24 s before first heard
    assert (departed.departure_airport, departed.departure_evidence) == ("UMMS", "inferred")
    assert departed.departure_time == START - timedelta(seconds=24)
    assert later.departure_airport is None and later.first_seen == START + timedelta(hours=1)


def lost_on_final(segmenter: Judged) -> None:
    """Down to ~300 ft on final to 31 (no runway ends in this index: within 5 km), lost."""
    for i, alt in enumerate((5000, 3000, 1500)):
        segmenter.add(position(i * 60, *toward(UMMS, 310, 10 - 4 * i), alt, 170, -800))
    segmenter.add(position(200, *toward(UMMS, 310, 1.2), 970, 140, -700))
    segmenter.lost("51003A")


def test_lost_on_final_landed_and_heard_climbing_out_took_off(
    segmenter: Judged,
) -> None:
    lost_on_final(segmenter)
    climbing = [position(1200 + i * 5, *destination(*UMMS, 310, 1.5 + i * 0.3),
                         1500 + i * 120, 160, 1500) for i in range(3)]
    for p in climbing:
        segmenter.add(p)
    assert segmenter.flush()
    arrived, left = query_flights(segmenter.engine)
    # a turnaround: the arrival inferred at the loss is confirmed by the take-off
    assert (arrived.arrival_airport, arrived.arrival_evidence) == ("UMMS", "confirmed")
    assert arrived.arrival_time is not None and arrived.arrival_time > START + timedelta(
        seconds=200)  # 1.2 NM to go at 140 kt
    assert arrived.arrival_reason is not None and "heard again 16 min later" in (
        arrived.arrival_reason)
    assert (left.departure_airport, left.departure_evidence) == ("UMMS", "inferred")
    # 830 ft above the field climbing 1,500 fpm: lifted off 33 s before first heard
    assert left.departure_time == START + timedelta(seconds=1200 - 33)
    assert left.turnaround_s == round((left.departure_time - arrived.arrival_time)
                                      .total_seconds())


def test_reacquired_on_the_approach_it_had_not_landed(segmenter: Judged) -> None:
    lost_on_final(segmenter)
    segmenter.add(position(290, *toward(UMMS, 310, 0.6), 800, 135, -600))  # heard again
    segmenter.add(position(300, *toward(UMMS, 310, 0.3), 700, 60))  # low and slow: landed
    segmenter.add(position(310, *toward(UMMS, 310, 0.2), 675, 20))
    assert segmenter.flush()
    (flight,) = query_flights(segmenter.engine)
    assert (flight.arrival_airport, flight.arrival_evidence) == ("UMMS", "observed")
    assert flight.arrival_time == START + timedelta(seconds=300)
    assert segmenter.kinds() == ["Arrival", "Retraction", "Arrival"]


def test_a_restarted_segmenter_continues_the_stored_flight(segmenter: Judged) -> None:
    segmenter.add(position(0, 54.0, 27.0, 30000, 420))
    segmenter.add(position(60, 54.0, 27.2, 31000, 420))
    assert segmenter.flush()
    again = Judged(segmenter.engine, segmenter.airports)
    again.add(position(60, 54.0, 27.2, 31000, 420))  # already counted
    again.add(position(120, 54.0, 27.4, 32000, 420))
    assert again.flush()
    (flight,) = query_flights(segmenter.engine)
    assert flight.positions == 3
    assert flight.last_seen == START + timedelta(seconds=120)
    assert flight.max_altitude_ft == 32000


def test_a_locked_database_keeps_the_flights_and_says_so_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = connect(f"sqlite:///{tmp_path / 'fw.db'}", busy_timeout_s=0.1)
    segmenter = FlightSegmenter(engine)
    segmenter.add(position(0, 54.0, 27.0, 30000, 420))
    segmenter.add(position(60, 54.0, 27.2, 31000, 420))
    blocker = sqlite3.connect(tmp_path / "fw.db", timeout=0.1)
    blocker.execute("BEGIN IMMEDIATE")  # another process holding the write lock
    with caplog.at_level(logging.WARNING, logger="flightwatch.db.flights"):
        assert not segmenter.flush()
        assert not segmenter.flush()
        blocker.rollback()
        assert segmenter.flush()
    assert [r.getMessage().split(":")[1].strip() for r in caplog.records] == [
        "database write failed, retrying later", "database writes recovered"]
    (flight,) = query_flights(engine)
    assert flight.positions == 2 and flight.last_seen == START + timedelta(seconds=60)


def test_a_flights_growing_figures_wait_for_their_round_its_news_does_not(
    tmp_path: Path,
) -> None:
    """Rewriting every flight in the air at every commit cost a page per flight; a flight's
    last seen, positions and altitude are written every 10 minutes, its takeoff, landing
    or callsign at the next commit."""
    now = [0.0]
    engine = connect(f"sqlite:///{tmp_path / 'fw.db'}")
    segmenter = FlightSegmenter(engine, batch_seconds=60.0, clock=lambda: now[0])

    def at(t: int, alt: float) -> None:
        now[0] = float(t)
        segmenter.add(position(t, 54.0, 27.0 + t / 1e4, alt, 420))
        segmenter.maybe_flush()

    at(0, 30000)
    at(61, 31000)
    (flight,) = query_flights(engine)  # a new flight: written at once
    assert flight.first_seen == START and flight.positions in (1, 2)
    for t in range(120, 600, 60):
        at(t, 32000)
    (flight,) = query_flights(engine)
    assert flight.positions <= 2 and flight.max_altitude_ft <= 31000  # waiting for its round
    at(661, 33000)  # ten minutes on: the round
    (flight,) = query_flights(engine)
    assert (flight.positions, flight.max_altitude_ft) == (11, 33000)
    assert flight.last_seen == START + timedelta(seconds=661)
    at(700, 33000)
    assert segmenter.flush()  # a flush (a stop, a replay's end) writes everything
    (flight,) = query_flights(engine)
    assert (flight.positions, flight.last_seen) == (12, START + timedelta(seconds=700))
