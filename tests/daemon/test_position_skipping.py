"""Airborne positions nobody would use are left undecoded (issue 11): the tracker would not
store them and no listener follows their aircraft. What is stored, the flights and where
each ended, and the alerts must come out as when every position is decoded."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from landing_scenarios import INFERRED, merged, scenarios
from stored_positions import stored_rows

from flightwatch.alerts.detect import Detector
from flightwatch.daemon.alerting import build_alerting
from flightwatch.daemon.pipeline import build_pipeline
from flightwatch.daemon.replay import replay_files
from flightwatch.db import connect
from flightwatch.db.airports import Airport, AirportIndex
from flightwatch.db.runways import RunwayEnd
from flightwatch.decoder.tracker import AircraftState, Position
from flightwatch.settings import load_settings
from tools.capture_writer import write_tsv
from tools.simulate import Flight, Rates, frames, synthetic_traffic

TABLES = {
    "flights": "SELECT * FROM flights",
    "flight_geofences": "SELECT * FROM flight_geofences",
    "aircraft": "SELECT icao, registration, callsign, first_seen FROM aircraft",
    "alerts": "SELECT time, icao, kind, geofence, airport, lat, lon, altitude_ft, evidence,"
              " details FROM alerts",
}


def replayed(capture: Path, folder: Path, *, skip: bool, alerts: bool,
             extra_config: str = "") -> tuple[dict[str, set[tuple[object, ...]]], dict[str, int]]:
    """Every table's rows after replaying ``capture``, and the decoder's counters."""
    db = folder / f"{'skip' if skip else 'all'}-{'alerts' if alerts else 'plain'}.db"
    config = folder / f"{db.stem}.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{db}"\n\n[receiver]\nlat = 53.93\n'
                      f"lon = 27.60\n{extra_config}", encoding="utf-8")
    settings = load_settings(config)
    engine = connect(settings.database_url)
    alerting = build_alerting(settings, engine) if alerts else None
    pipeline = build_pipeline(settings, engine, alerting=alerting)
    pipeline.skip_unused = skip
    replay_files(settings, [capture], pipeline=pipeline)
    engine.dispose()
    with sqlite3.connect(db) as conn:
        rows = {name: set(conn.execute(query)) for name, query in TABLES.items()}
    rows["positions"] = set(stored_rows(db))
    return rows, {**pipeline.decode_stats, "aircraft_lost": pipeline.stats.aircraft_lost}


def assert_same(capture: Path, folder: Path, *, alerts: bool) -> dict[str, int]:
    """The tables with and without skipping; returns the skipping run's counters."""
    everything, _ = replayed(capture, folder, skip=False, alerts=alerts)
    skipping, stats = replayed(capture, folder, skip=True, alerts=alerts)
    kind = "alerts" if alerts else "plain"
    for table in TABLES:
        assert skipping[table] == everything[table], table
    # Only decoded frames say an aircraft is still there (a skipped one may be corrupted):
    # its last one is a velocity at most a velocity_interval (1 s) after the last heard.
    last_seen, skipping_last_seen = (last_seen_of(folder / f"{run}-{kind}.db")
                                     for run in ("all", "skip"))
    assert last_seen.keys() == skipping_last_seen.keys()
    assert all(0 <= (last_seen[icao] - skipping_last_seen[icao]).total_seconds() < 1.5
               for icao in last_seen)
    return stats


def last_seen_of(db: Path) -> dict[str, datetime]:
    with sqlite3.connect(db) as conn:
        return {icao: datetime.fromisoformat(text)
                for icao, text in conn.execute("SELECT icao, last_seen FROM aircraft")}


@pytest.fixture(scope="module")
def busy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two minutes of 200 aircraft at once over Belarus, two positions a second each."""
    path = tmp_path_factory.mktemp("busy") / "busy.tsv"
    with path.open("w", encoding="ascii", newline="\n") as out:
        write_tsv(synthetic_traffic(n_aircraft=200, n_frames=100_000, seed=5), out)
    return path


@pytest.fixture(scope="module")
def landings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("landings") / "landings.tsv"
    with path.open("w", encoding="ascii", newline="\n") as out:
        write_tsv(merged(scenarios()), out)
    return path


def test_busy_traffic_stores_the_same_with_most_positions_undecoded(
    busy: Path, tmp_path: Path
) -> None:
    stats = assert_same(busy, tmp_path, alerts=False)
    positions = sum(1 for line in busy.open() if line.split("\t")[1][:2] == "8D"
                    and 9 <= int(line.split("\t")[1][8:10], 16) >> 3 <= 18)
    assert stats["skipped"] > positions * 0.7  # one position in ten is stored


def test_a_real_capture_stores_the_same(capture: Callable[[str], Path], tmp_path: Path) -> None:
    path = capture("delft_2015_mixed_modes.txt")
    everything, _ = replayed(path, tmp_path, skip=False, alerts=True)
    skipping, _ = replayed(path, tmp_path, skip=True, alerts=True)
    assert everything["positions"] and skipping == everything


def test_landings_of_unwatched_aircraft_end_where_they_were_last_heard(
    landings: Path, tmp_path: Path
) -> None:
    """Without alert rules only the flights follow aircraft, those near the ground: the
    approaches' positions are skipped up high and all decoded low, so the airborne track,
    the touchdowns and the inferred arrival are those of every position decoded.

    Not always to the second on the runway (nor the stored positions there): pyModeS
    pairs a first surface position with a pending airborne frame of the other parity
    (and rejects the result) when one is pending, which depends on the parity of the
    frames decoded before."""
    everything, _ = replayed(landings, tmp_path, skip=False, alerts=False)
    skipping, stats = replayed(landings, tmp_path, skip=True, alerts=False)
    assert stats["skipped"] > 1000

    def airborne(rows: dict[str, set[tuple[object, ...]]]) -> set[tuple[object, ...]]:
        return {row for row in rows["positions"] if row[8] == 0}  # on_ground

    assert airborne(skipping) == airborne(everything)
    assert len(skipping["flights"]) == len(everything["flights"]) >= len(scenarios())
    for skipped, decoded in zip(flights(tmp_path / "skip-plain.db"),
                                flights(tmp_path / "all-plain.db"), strict=True):
        assert skipped[:5] == decoded[:5]  # address, airports, evidence
        times = zip(skipped[5:], decoded[5:], strict=True)  # within one store interval
        assert all((a is None and b is None) or abs(a - b) <= 5 for a, b in times), (
            skipped, decoded)
    assert ("UMMS", "confirmed") in {(f[2], f[4]) for f in flights(tmp_path / "skip-plain.db")
                                    if f[0] == INFERRED}


def flights(db: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return list(conn.execute(
            "SELECT icao, departure_airport, arrival_airport, departure_evidence, "
            "arrival_evidence, first_seen, last_seen, departure_time, arrival_time "
            "FROM flights ORDER BY icao, first_seen"))


def test_watched_aircraft_raise_the_same_alerts(landings: Path, tmp_path: Path) -> None:
    """Every story's aircraft is watched, most by callsign: their positions are judged
    from the first one on the watchlist."""
    assert_same(landings, tmp_path, alerts=True)


def test_an_aircraft_heard_only_in_undecoded_positions_is_not_lost(
    tmp_path: Path,
) -> None:
    """Positions only (no velocity to decode) and a store interval longer than the silence
    that loses an aircraft: a position is decoded once the aircraft has been heard in
    nothing decoded for half that silence, so its flight is one, not one per interval."""
    path = tmp_path / "positions.tsv"
    with path.open("w", encoding="ascii", newline="\n") as out:
        write_tsv([f for f in synthetic_traffic(n_aircraft=3, n_frames=6_000, seed=2)
                   if 9 <= int(f[1][8:10], 16) >> 3 <= 18], out)
    rows, stats = replayed(path, tmp_path, skip=True, alerts=False,
                           extra_config="\n[tracker]\nstore_interval = 120\nexpire_after = 15\n")
    assert stats["skipped"] > 2000
    assert stats["aircraft_lost"] == 3  # at the end of the capture, not along the way
    assert len(rows["flights"]) == 3


@pytest.mark.parametrize("gap_s", [27.0, 29.0])
def test_a_silence_just_under_the_local_cpr_window_decodes_as_before(
    gap_s: float, tmp_path: Path
) -> None:
    """pyModeS places a lone position against the aircraft's last one for 30 s. After a
    silence of 27-29 s the last one decoded may be older than that; the newest skipped
    one is decoded first, so the first position after the silence is placed as before."""
    timed = list(synthetic_traffic(n_aircraft=5, n_frames=8000, seed=7))
    t0 = timed[0][0]
    path = tmp_path / "gap.tsv"
    with path.open("w", encoding="ascii", newline="\n") as out:
        write_tsv([f for f in timed if not t0 + 100 <= f[0] < t0 + 100 + gap_s], out)
    assert assert_same(path, tmp_path, alerts=False)["skipped"] > 1000


def test_squawk_alerts_for_unwatched_aircraft_come_when_and_where_they_did(
    tmp_path: Path,
) -> None:
    """``squawks`` applies to any aircraft inside a fence: one squawking 7700 is followed,
    so the alert comes at its first position inside Belarus, not up to 5 s later."""
    flight = Flight("4CA2D1", "EIN123", [(52.1, 22.6, 35000, 450), (52.1, 24.6, 35000, 450)],
                    datetime(2024, 5, 1, 10, 0, tzinfo=UTC), squawk="7700")
    path = tmp_path / "squawk.tsv"
    with path.open("w", encoding="ascii", newline="\n") as out:
        write_tsv(frames([flight], Rates(surveillance_s=2.0), seed=1), out)
    extra = '\n[alerts]\nsquawks = ["7700"]\n'
    everything, _ = replayed(path, tmp_path, skip=False, alerts=True, extra_config=extra)
    skipping, _ = replayed(path, tmp_path, skip=True, alerts=True, extra_config=extra)
    assert [a[2] for a in skipping["alerts"]] == ["squawk"]
    assert skipping["alerts"] == everything["alerts"]


def test_identity_anomalies_are_reported_where_they_were_heard(tmp_path: Path) -> None:
    """A watched registration's callsign from addresses not on the watchlist: the alert
    is raised as the callsign arrives, at the position heard then (an aircraft is
    followed until its callsign is known)."""
    watchlist = tmp_path / "watchlist.csv"
    watchlist.write_text("icao,registration,operator,type,category,group\n"
                         "140759,RA-01881,Moscow Government,BK117,Governments,RU\n",
                         encoding="utf-8")
    flights = [Flight(f"4CA2{i:02X}", "RA01881",
                      [(53.9, 26.0 + i * 0.1, 20000, 300), (53.9, 28.0, 20000, 300)],
                      datetime(2024, 5, 1, 10, 0, i, tzinfo=UTC)) for i in range(6)]
    path = tmp_path / "identity.tsv"
    with path.open("w", encoding="ascii", newline="\n") as out:
        write_tsv(frames(flights, Rates(), seed=3), out)
    extra = f'\n[watchlist]\nfiles = ["{watchlist}"]\n\n[alerts]\ncooldown = 1\n'
    everything, _ = replayed(path, tmp_path, skip=False, alerts=True, extra_config=extra)
    skipping, _ = replayed(path, tmp_path, skip=True, alerts=True, extra_config=extra)
    assert sum(a[2] == "identity_anomaly" for a in skipping["alerts"]) == 6
    assert skipping["alerts"] == everything["alerts"]


def test_a_corrupted_frame_left_undecoded_does_not_keep_an_aircraft_alive(
    tmp_path: Path,
) -> None:
    """Frames after the aircraft's last good one that carry its address but fail the CRC:
    undecoded, they say nothing of the aircraft, as decoded they fail."""
    timed = list(synthetic_traffic(n_aircraft=1, n_frames=400, seed=2))
    end = timed[-1][0]
    good = [h for _, h in timed if 9 <= int(h[8:10], 16) >> 3 <= 18][-1]
    corrupted = good[:14] + ("0" if good[14] != "0" else "1") + good[15:]
    path = tmp_path / "corrupted.tsv"
    with path.open("w", encoding="ascii", newline="\n") as out:
        write_tsv([*timed, *((end + 1 + n, corrupted) for n in range(12))], out)
    everything, _ = replayed(path, tmp_path, skip=False, alerts=False)
    skipping, _ = replayed(path, tmp_path, skip=True, alerts=False)
    (last_heard,) = last_seen_of(tmp_path / "skip-plain.db").values()
    assert last_heard.replace(tzinfo=UTC).timestamp() <= end
    assert skipping == everything


def test_near_the_ground_means_near_the_highest_runway_around(tmp_path: Path) -> None:
    """El Alto's runway ends are at 13,300 ft; its airport row gives no elevation. An
    aircraft near it at 15,000 ft may be on final there: followed (13,300 ft + 1,500 ft
    landing threshold + 1,500 ft margin). At 17,000 ft it is not, nor at 15,000 ft over
    the lowlands 500 km east, where no field is that high."""
    airport = Airport("SLLP", "SLLP", "El Alto", "large_airport", -16.513, -68.192)
    end = RunwayEnd("SLLP", "10", -16.5097, -68.2167, 97.0, 13_300.0)
    detector = Detector(AirportIndex([airport], [end]))
    t = datetime(2024, 5, 1, tzinfo=UTC)

    def at(lat: float, lon: float, altitude_ft: float) -> AircraftState:
        position = Position("E80123", t, lat, lon, altitude_ft, 180.0, 90.0, -800.0, False,
                            None, "test")
        return AircraftState("E80123", t, t, altitude_ft=altitude_ft, position=position)

    assert detector.follows(at(-16.6, -68.4, 15_000.0))
    assert not detector.follows(at(-16.6, -68.4, 17_000.0))
    assert not detector.follows(at(-16.6, -63.6, 15_000.0))
    assert detector.follows(AircraftState("E80123", t, t, altitude_ft=17_000.0))  # where?
