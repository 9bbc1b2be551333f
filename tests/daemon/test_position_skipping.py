"""Airborne positions nobody would use are left undecoded (issue 11): the tracker would not
store them and no listener follows their aircraft. What is stored, the flights and where
each ended, and the alerts must come out as when every position is decoded."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from landing_scenarios import INFERRED, merged, scenarios

from flightwatch.daemon.alerting import build_alerting
from flightwatch.daemon.pipeline import build_pipeline
from flightwatch.daemon.replay import replay_files
from flightwatch.db import connect
from flightwatch.settings import load_settings
from tools.capture_writer import write_tsv
from tools.simulate import synthetic_traffic

TABLES = {
    "positions": "SELECT * FROM positions",
    "flights": "SELECT * FROM flights",
    "flight_geofences": "SELECT * FROM flight_geofences",
    "aircraft": "SELECT icao, registration, callsign, first_seen, last_seen FROM aircraft",
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
    return rows, pipeline.decode_stats


def assert_same(capture: Path, folder: Path, *, alerts: bool) -> dict[str, int]:
    """The tables with and without skipping; returns the skipping run's counters."""
    everything, _ = replayed(capture, folder, skip=False, alerts=alerts)
    skipping, stats = replayed(capture, folder, skip=True, alerts=alerts)
    for table in TABLES:
        assert skipping[table] == everything[table], table
    return stats


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
    assert ("UMMS", "inferred") in {(f[2], f[4]) for f in flights(tmp_path / "skip-plain.db")
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
    that loses an aircraft: undecoded positions still count as hearing it, so its flight
    is one, not one per store interval."""
    path = tmp_path / "positions.tsv"
    with path.open("w", encoding="ascii", newline="\n") as out:
        write_tsv([f for f in synthetic_traffic(n_aircraft=3, n_frames=6_000, seed=2)
                   if 9 <= int(f[1][8:10], 16) >> 3 <= 18], out)
    rows, stats = replayed(path, tmp_path, skip=True, alerts=False,
                           extra_config="\n[tracker]\nstore_interval = 120\nexpire_after = 60\n")
    assert stats["skipped"] > 2000
    assert len(rows["flights"]) == 3
