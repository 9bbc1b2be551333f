"""`flightwatch replay` and `flightwatch history` end to end, in process and as a program."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
from stored_positions import stored_count

from flightwatch.cli import main

Capture = Callable[[str], Path]
Cap = pytest.CaptureFixture[str]
REPO = Path(__file__).resolve().parents[2]
PAGE = 4096


def wal_bytes(database: Path) -> int:
    wal = database.with_name(database.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


def run(*args: str) -> int:
    return main(list(args))


def test_replay_then_history_as_json_lines(
    config_file: Path, capture: Capture, capsys: Cap
) -> None:
    assert (
        run("replay", "--config", str(config_file), str(capture("single_aircraft_adsb.csv"))) == 0
    )
    summary = capsys.readouterr().out
    assert "2,000 frames read" in summary and "1 aircraft" in summary
    assert wal_bytes(config_file.parent / "fw.db") <= PAGE  # closed cleanly: WAL checkpointed
    assert run("history", "--config", str(config_file), "--icao", "406b90", "--format", "json") == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [json.loads(line) for line in lines]
    assert len(rows) > 100
    assert set(rows[0]) == {
        "icao",
        "time",
        "lat",
        "lon",
        "altitude_ft",
        "ground_speed_kt",
        "track_deg",
        "vertical_rate_fpm",
        "callsign",
        "on_ground",
        "source",
    }
    assert {r["icao"] for r in rows} == {"406B90"}
    assert {r["callsign"] for r in rows} == {"EZY85MH"}
    # The capture's own clock: it starts at Unix time 1457996400 (2016-03-14T23:00:00Z).
    assert rows[0]["time"].startswith("2016-03-14T23:00")
    times = [r["time"] for r in rows]
    assert times == sorted(times)


def test_history_exports_geojson_and_kml(config_file: Path, capture: Capture, capsys: Cap) -> None:
    run("replay", "--config", str(config_file), str(capture("single_aircraft_adsb.csv")))
    capsys.readouterr()
    run("history", "--config", str(config_file), "--format", "geojson")
    collection = json.loads(capsys.readouterr().out)
    (feature,) = collection["features"]
    assert feature["geometry"]["type"] == "LineString"
    assert feature["properties"]["icao"] == "406B90"
    assert len(feature["properties"]["times"]) == len(feature["geometry"]["coordinates"])
    run("history", "--config", str(config_file), "--format", "kml")
    root = ET.fromstring(capsys.readouterr().out)
    ns = {"kml": "http://www.opengis.net/kml/2.2", "gx": "http://www.google.com/kml/ext/2.2"}
    track = root.find(".//gx:Track", ns)
    assert track is not None
    assert len(track.findall("kml:when", ns)) == len(track.findall("gx:coord", ns)) > 100


def test_history_by_time_window_and_callsign(
    config_file: Path, capture: Capture, capsys: Cap
) -> None:
    run("replay", "--config", str(config_file), str(capture("delft_2015_mixed_modes.txt")))
    capsys.readouterr()
    run(
        "history",
        "--config",
        str(config_file),
        "--callsign",
        "EZY*",
        "--format",
        "csv",
        "--since",
        "2015-03-03T16:12Z",
        "--until",
        "2015-03-03T16:20Z",
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("icao,time,lat,lon")
    assert len(lines) > 1 and all(",EZY" in line for line in lines[1:])
    run("history", "--config", str(config_file), "--since", "2030-01-01")
    assert "(no rows)" in capsys.readouterr().out


def test_an_empty_file_is_a_usage_error_naming_it(
    config_file: Path, tmp_path: Path, capsys: Cap
) -> None:
    empty = tmp_path / "empty.avr"
    empty.write_bytes(b"")
    assert run("replay", "--config", str(config_file), str(empty)) == 2
    assert str(empty) in capsys.readouterr().err


def test_a_file_of_the_wrong_format_is_a_usage_error(
    config_file: Path, tmp_path: Path, capsys: Cap
) -> None:
    wrong = tmp_path / "notes.txt"
    wrong.write_text("these are my notes about the flight\nnothing to decode here\n")
    assert run("replay", "--config", str(config_file), str(wrong)) == 2
    assert "notes.txt" in capsys.readouterr().err
    assert run("replay", "--config", str(config_file), str(tmp_path / "missing.bin")) == 2


def test_a_truncated_capture_keeps_every_complete_frame(
    config_file: Path, capture: Capture, tmp_path: Path, capsys: Cap
) -> None:
    data = capture("one_aircraft_71be34.beast").read_bytes()
    cut = tmp_path / "cut.beast"
    cut.write_bytes(data[: len(data) - 7])  # the last frame loses its tail
    assert run("replay", "--config", str(config_file), "--format", "beast", str(cut)) == 0
    out = capsys.readouterr().out
    assert "1,003 frames read, 1 bad frames" in out


def test_a_bad_config_value_exits_2_naming_the_key(
    tmp_path: Path, capture: Capture, capsys: Cap
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[tracker]\nstore_interval = "often"\n')
    assert run("replay", "--config", str(bad), str(capture("lax_avr_742.txt"))) == 2
    assert "tracker.store_interval" in capsys.readouterr().err
    assert run("check-config", "--config", str(bad)) == 2


def test_check_config_on_defaults(capsys: Cap) -> None:
    assert run("check-config") == 0
    out = capsys.readouterr().out
    assert "geofence: belarus" in out and "watchlist:" in out


def test_sigterm_during_a_realtime_replay_flushes_and_exits_0(
    config_file: Path, capture: Capture
) -> None:
    # Commit every 2 s (the default is a minute: fewer writes on an SD card).
    config_file.write_text(config_file.read_text() + 'batch_seconds = "2s"\n')
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flightwatch.cli",
            "replay",
            "--config",
            str(config_file),
            "--realtime",
            str(capture("single_aircraft_adsb.csv")),
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Wait until the first batch is committed (8 s into the capture), then interrupt.
    database = config_file.parent / "fw.db"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not _stored(database):
        time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=15)
    assert process.returncode == 0, err
    assert "interrupted after" in out
    stored = stored_count(config_file.parent / "fw.db")
    assert stored >= 1
    assert f"{stored:,} positions stored" in out
    assert wal_bytes(database) <= PAGE


def _stored(database: Path) -> int:

    if not database.exists():
        return 0
    try:
        return stored_count(database)
    except sqlite3.OperationalError:  # schema not created yet
        return 0


@pytest.mark.parametrize("url", ["notaurl", "sqlite:////no/such/folder/fw.db"])
def test_a_bad_database_url_is_a_configuration_error(
    url: str, monkeypatch: pytest.MonkeyPatch, capsys: Cap
) -> None:
    monkeypatch.setenv("FLIGHTWATCH_DATABASE_URL", url)
    assert run("history") == 2  # exit 2: systemd does not restart a unit on a bad config
    assert "database.url" in capsys.readouterr().err
