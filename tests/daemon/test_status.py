"""The status snapshot: database figures after a real replay, a collector over a real
pipeline and source, the snapshot file, and the [status] settings."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from status_helpers import replay_demo, write_config
from stored_positions import stored_count

from flightwatch.collector import open_capture
from flightwatch.daemon import status
from flightwatch.daemon.pipeline import build_pipeline
from flightwatch.daemon.replay import ReplaySummary
from flightwatch.daemon.status import (
    SourceStatus,
    StatusCollector,
    StatusSnapshot,
    database_status,
    format_duration,
    read_snapshot,
    snapshot_path,
    write_snapshot,
)
from flightwatch.db import connect
from flightwatch.output.formats import format_size
from flightwatch.settings import ConfigError, Settings, load_settings

# From config/samples/README.md: 4 aircraft; the capture ends at 10:18:24 UTC; the
# watched aircraft raises approaching, enter and landed.
DEMO_LAST_FRAME = datetime(2020, 8, 19, 10, 18, 24, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, ReplaySummary, Engine]:
    settings, summary = replay_demo(tmp_path_factory.mktemp("demo"))
    return settings, summary, connect(settings.database_url)


def _count(engine: Engine) -> int:
    return stored_count(engine)


def test_database_status_after_the_demo_replay(
    demo: tuple[Settings, ReplaySummary, Engine],
) -> None:
    _settings, summary, engine = demo
    snap = database_status(engine, datetime(2020, 8, 19, 12, 0, tzinfo=UTC))
    assert snap.positions_total == summary.positions_stored == _count(engine) > 1000
    assert snap.last_position is not None
    assert abs((snap.last_position - DEMO_LAST_FRAME).total_seconds()) <= 1
    assert snap.aircraft_24h == 4
    assert snap.alerts_24h == 3
    assert snap.outbox_pending == 0  # no channel configured
    db_file = Path(engine.url.database or "")
    wal = Path(f"{db_file}-wal")
    expected = db_file.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    assert snap.db_size_bytes == expected
    assert not snap.daemon and snap.frames is None and snap.uptime_s is None
    # A day later nothing is recent any more; the totals stay.
    later = database_status(engine, datetime(2020, 8, 21, tzinfo=UTC))
    assert (later.aircraft_24h, later.alerts_24h) == (0, 0)
    assert later.positions_total == snap.positions_total


def test_collector_over_a_real_pipeline_and_source(tmp_path: Path, capture: Callable[[str], Path]
                                                   ) -> None:
    settings = load_settings(write_config(tmp_path, tmp_path / "live.db"))
    engine = connect(settings.database_url)
    pipeline = build_pipeline(settings, engine)
    source = open_capture(capture("one_aircraft_71be34.beast"),
                          start=datetime.now(UTC) - timedelta(minutes=30), name="beast:test")
    clock = [100.0]
    collector = StatusCollector(engine, pipeline, sources=[source], queued=lambda: 7,
                                snapshot_file=tmp_path / "snap.json", clock=lambda: clock[0])
    for item in source:
        pipeline.feed(item)
    pipeline.store.flush()
    clock[0] += 10.0
    snap = collector.report()

    assert snap.daemon and snap.pid == os.getpid()
    assert snap.frames == pipeline.stats.frames == 1004  # shared/README: 1,004 frames
    assert snap.frames_per_s == pytest.approx(100.4)
    (src,) = snap.sources
    assert src == SourceStatus("beast:test", 1004, pytest.approx(100.4), 0, 0)
    assert snap.aircraft_tracked == len(pipeline.tracker) == 1
    assert snap.positions_stored == pipeline.store.stats.positions_written > 0
    assert snap.positions_total == _count(engine) == snap.positions_stored
    assert snap.queued == 7
    assert snap.aircraft_24h == 1
    assert snap.uptime_s is not None and 0 <= snap.uptime_s < 60
    assert collector.latest is snap
    assert read_snapshot(tmp_path / "snap.json") == snap

    # Nothing new: the rate falls to zero, the counters stay.
    clock[0] += 5.0
    again = collector.take()
    assert again.frames_per_s == 0 and again.sources[0].frames_per_s == 0
    assert again.frames == 1004


def test_position_count_is_cached_and_advanced_by_what_the_daemon_wrote(
    tmp_path: Path, capture: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings(write_config(tmp_path, tmp_path / "live.db"))
    engine = connect(settings.database_url)
    pipeline = build_pipeline(settings, engine)
    collector = StatusCollector(engine, pipeline, count_every_s=3600.0)
    counted: list[int] = []

    def count_and_note(e: Engine) -> int:  # the real count, noting that it ran
        counted.append(_count(e))
        return counted[-1]

    monkeypatch.setattr(status, "count_positions", count_and_note)
    frames = list(open_capture(capture("one_aircraft_71be34.beast"),
                               start=datetime.now(UTC) - timedelta(minutes=30)))
    half = len(frames) // 2
    for item in frames[:half]:
        pipeline.feed(item)
    pipeline.store.flush()
    first = collector.take()
    for item in frames[half:]:
        pipeline.feed(item)
    pipeline.store.flush()
    second = collector.take()
    assert len(counted) == 1  # counted once, then advanced by the positions written
    assert first.positions_total == counted[0] > 0
    assert second.positions_total is not None and second.positions_total > counted[0]
    assert second.positions_total == _count(engine)


def test_snapshot_round_trip_and_line(tmp_path: Path) -> None:
    snap = StatusSnapshot(
        time=datetime(2026, 3, 1, 12, 0, 5, tzinfo=UTC), positions_total=5_432_100,
        last_position=datetime(2026, 3, 1, 12, 0, 1, tzinfo=UTC), aircraft_24h=120,
        alerts_24h=2, outbox_pending=1, db_size_bytes=432_345_678, daemon=True, pid=42,
        started=datetime(2026, 2, 26, 7, 48, 0, tzinfo=UTC), frames=9_000_000,
        frames_per_s=812.4, bad_frames=12, aircraft_tracked=37, positions_stored=1_204,
        queued=0, sources=(SourceStatus("beast:127.0.0.1:30005", 9_000_000, 812.4, 12, 3),),
    )
    path = tmp_path / "status.json"
    write_snapshot(snap, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["status.json"]  # no partial left
    data = json.loads(path.read_text())
    assert data["time"] == "2026-03-01T12:00:05Z" and data["uptime_s"] == 274325.0
    assert read_snapshot(path) == snap
    line = snap.line()
    for part in ("812 frames/s", "37 aircraft tracked", "1,204 positions stored",
                 "5,432,100 in the database", "1 notifications pending", "database 412.3 MB",
                 "up 3d 04:12:05", "beast:127.0.0.1:30005 812/s, 12 bad, 3 reconnects"):
        assert part in line, (part, line)


def test_unreadable_or_missing_snapshot_is_none(tmp_path: Path) -> None:
    assert read_snapshot(tmp_path / "none.json") is None
    (tmp_path / "bad.json").write_text("{not json")
    assert read_snapshot(tmp_path / "bad.json") is None


@pytest.mark.parametrize(("value", "text"), [
    (None, "?"), (0, "0 B"), (1023, "1,023 B"), (1536, "1.5 KB"), (5 * 1024**3, "5.0 GB"),
])
def test_format_size(value: int | None, text: str) -> None:
    assert format_size(value) == text


def test_format_duration() -> None:
    assert format_duration(59) == "00:00:59"
    assert format_duration(86400 + 3661) == "1d 01:01:01"


def test_snapshot_path_defaults(tmp_path: Path) -> None:
    sqlite = load_settings(write_config(tmp_path, tmp_path / "data" / "fw.db"))
    assert snapshot_path(sqlite) == tmp_path / "data" / "flightwatch-status.json"
    pg = tmp_path / "pg.toml"
    pg.write_text('[database]\nurl = "postgresql+psycopg://u:p@127.0.0.1/fw"\n')
    assert snapshot_path(load_settings(pg, env={})) == tmp_path / "flightwatch-status.json"
    own = tmp_path / "own.toml"
    own.write_text('[status]\nsnapshot_file = "run/status.json"\n')
    assert snapshot_path(load_settings(own, env={})) == tmp_path / "run" / "status.json"


def test_status_settings(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text('[status]\nmetrics_port = 9108\ndigest_at = "7:05"\n')
    section = load_settings(path, env={})["status"]
    assert section["metrics_port"] == 9108 and section["metrics_host"] == "127.0.0.1"
    assert section["digest_at"] == time(7, 5)
    path.write_text("[status]\ndigest_at = 06:30:00\n")  # a TOML time works too
    assert load_settings(path, env={})["status"]["digest_at"] == time(6, 30)
    defaults = load_settings(None, env={})["status"]
    assert (defaults["metrics_port"], defaults["digest_at"], defaults["snapshot_file"]) == (
        0, None, None)
    path.write_text('[status]\nmetrics_port = 70000\ndigest_at = "24:00"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    problems = "\n".join(caught.value.problems)
    assert "status.metrics_port" in problems and "status.digest_at" in problems
