"""`flightwatch status` in process: from the database alone, from the daemon's snapshot
file, from the metrics endpoint, and with a stale snapshot or a dead daemon."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from status_helpers import write_config
from stored_positions import stored_rows

from flightwatch.cli import main
from flightwatch.daemon.metrics import MetricsServer
from flightwatch.daemon.pipeline import build_pipeline
from flightwatch.daemon.replay import replay_files
from flightwatch.daemon.status import StatusCollector, read_snapshot, snapshot_path, write_snapshot
from flightwatch.db import connect
from flightwatch.settings import Settings, load_settings

Cap = pytest.CaptureFixture[str]


def status_json(config: Path, capsys: Cap) -> dict[str, Any]:
    assert main(["status", "--config", str(config), "--format", "json"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    return dict(json.loads(line))


@pytest.fixture
def replayed(tmp_path: Path, capture: Callable[[str], Path]) -> tuple[Path, Settings, int]:
    """The shared Beast capture replayed as if received half an hour ago."""
    config = write_config(tmp_path, tmp_path / "fw.db")
    settings = load_settings(config)
    summary = replay_files(settings, [capture("one_aircraft_71be34.beast")],
                           start=datetime.now(UTC) - timedelta(minutes=30))
    return config, settings, summary.positions_stored


def test_from_the_database_when_no_daemon_runs(replayed: tuple[Path, Settings, int],
                                               capsys: Cap) -> None:
    config, settings, stored = replayed
    engine = connect(settings.database_url)
    rows = stored_rows(engine)
    count = len(rows)
    last = datetime.fromtimestamp(max(row[1] for row in rows), UTC)
    data = status_json(config, capsys)
    assert data["running"] is False and data["origin"] == "database"
    assert data["note"].startswith("not running (no status snapshot at")
    assert data["positions_total"] == count == stored > 0
    assert data["last_position"] == last.isoformat().replace("+00:00", "Z")
    assert data["aircraft_24h"] == 1 and data["alerts_24h"] == 0
    assert data["outbox_pending"] == 0 and data["db_size_bytes"] > 0
    assert data["frames"] is None

    assert main(["status", "--config", str(config)]) == 0
    table = capsys.readouterr().out
    assert "daemon:" in table and "not running" in table
    assert f"positions in database: {stored:,}" in table
    assert "aircraft seen (24 h):  1" in table


def _daemon_snapshot(settings: Settings, capture: Callable[[str], Path]) -> StatusCollector:
    """A collector over a real pipeline fed by the capture, its snapshot written."""
    from flightwatch.collector import open_capture

    engine = connect(settings.database_url)
    pipeline = build_pipeline(settings, engine)
    source = open_capture(capture("one_aircraft_71be34.beast"),
                          start=datetime.now(UTC) - timedelta(minutes=5), name="beast:test")
    collector = StatusCollector(engine, pipeline, sources=[source],
                                snapshot_file=snapshot_path(settings))
    for item in source:
        pipeline.feed(item)
    pipeline.store.flush()
    collector.report()
    return collector


def test_from_the_running_daemons_snapshot(
    tmp_path: Path, capture: Callable[[str], Path], capsys: Cap
) -> None:
    config = write_config(tmp_path, tmp_path / "fw.db")
    settings = load_settings(config)
    collector = _daemon_snapshot(settings, capture)
    assert snapshot_path(settings) == tmp_path / "flightwatch-status.json"
    data = status_json(config, capsys)
    assert data["running"] is True and data["origin"] == "snapshot"
    assert data["snapshot_age_s"] < 60
    assert collector.latest is not None
    assert data["frames"] == collector.latest.frames == 1004
    assert data["positions_stored"] == collector.latest.positions_stored > 0
    assert data["sources"][0]["name"] == "beast:test"
    assert main(["status", "--config", str(config)]) == 0
    table = capsys.readouterr().out
    assert "running (pid" in table and "aircraft tracked:" in table
    assert "source beast:test:" in table and "1,004 frames" in table


def test_stale_snapshot_or_dead_process_means_not_running(
    tmp_path: Path, capture: Callable[[str], Path], capsys: Cap
) -> None:
    config = write_config(tmp_path, tmp_path / "fw.db")
    settings = load_settings(config)
    collector = _daemon_snapshot(settings, capture)
    path = snapshot_path(settings)
    assert collector.latest is not None

    write_snapshot(replace(collector.latest, time=collector.latest.time - timedelta(hours=2)),
                   path)
    data = status_json(config, capsys)
    assert data["running"] is False and data["origin"] == "database"
    assert "its last snapshot" in data["note"] and "02:00:" in data["note"]
    assert data["positions_total"] == collector.latest.positions_total  # from the database

    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)
    write_snapshot(replace(collector.latest, pid=int(finished.stdout)), path)
    data = status_json(config, capsys)
    assert data["running"] is False
    assert f"process {int(finished.stdout)} is gone" in data["note"]


def test_from_the_metrics_endpoint(
    tmp_path: Path, capture: Callable[[str], Path], capsys: Cap
) -> None:
    settings = load_settings(write_config(tmp_path, tmp_path / "fw.db"))
    collector = _daemon_snapshot(settings, capture)
    snapshot_path(settings).unlink()  # only the endpoint can answer
    server = MetricsServer(lambda: collector.latest)
    try:
        config = write_config(tmp_path, tmp_path / "fw.db",
                              f"[status]\nmetrics_port = {server.port}\n", name="live.toml")
        data = status_json(config, capsys)
    finally:
        server.stop()
    assert data["running"] is True and data["origin"] == "endpoint"
    assert data["frames"] == 1004


def test_no_database_yet_is_reported_and_not_created(tmp_path: Path, capsys: Cap) -> None:
    config = write_config(tmp_path, tmp_path / "absent.db")
    data = status_json(config, capsys)
    assert data["running"] is False
    assert "no database at" in data["note"]
    assert not (tmp_path / "absent.db").exists()
    assert read_snapshot(tmp_path / "flightwatch-status.json") is None
