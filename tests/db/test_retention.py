"""db.retention: thinning and deleting old positions, in short batches, on SQLite and PostgreSQL.

Positions go in through the real batched writer (db.Store); expected survivors
are worked out by hand from the rule (first position of each aircraft in each
interval, plus every on_ground change).
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from stored_positions import stored_count, stored_rows

from flightwatch.db import Store, connect
from flightwatch.db.alert_record import Alert
from flightwatch.db.alerts import record_alert
from flightwatch.db.models import Aircraft as AircraftRow
from flightwatch.db.models import AlertRecord, CallsignPeriod, Source
from flightwatch.db.positions import merge_log
from flightwatch.db.retention import (
    Retention,
    delete_positions,
    free_pages,
    reclaim_space,
    rows_to_drop,
    thin_positions,
)
from flightwatch.decoder.tracker import AircraftState, Position

T0 = datetime(2020, 8, 19, 9, 0, tzinfo=UTC)  # a whole minute: 60 s buckets start here


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def position(icao: str, t: float, on_ground: bool | None = False) -> Position:
    return Position(
        icao=icao, time=at(t), lat=53.9 + t / 1e4, lon=27.5, altitude_ft=None if on_ground
        else 12000.0, ground_speed_kt=250.0, track_deg=90.0, vertical_rate_fpm=0.0,
        on_ground=on_ground, callsign="BRU801", source="beast:127.0.0.1:30005",
    )


Track = list[tuple[float, bool | None]]  # (seconds after T0, on_ground)


def store_tracks(engine: Engine, tracks: dict[str, Track]) -> None:
    store = Store(engine, batch_rows=1_000_000)
    for icao, points in tracks.items():
        for t, ground in points:
            store.add_position(position(icao, t, ground))
        store.note_aircraft(AircraftState(icao=icao, first_seen=at(points[0][0]),
                                          last_seen=at(points[-1][0])))
    assert store.flush()


def airborne(seconds: int, every: int = 5) -> Track:
    return [(t, False) for t in range(0, seconds, every)]


def kept_times(engine: Engine, icao: str) -> list[int]:
    base = int(T0.timestamp())
    return [row[1] - base for row in stored_rows(engine, icaos=[int(icao, 16)])]


def positions_count(engine: Engine) -> int:
    return stored_count(engine)


def count(engine: Engine, model: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = connect(f"sqlite:///{tmp_path / 'fw.db'}")
    yield engine
    engine.dispose()


def fill_landing_and_touch_and_go(engine: Engine) -> None:
    store_tracks(engine, {
        # A: airborne every 5 s, on the ground from 130 s (a landing in the third minute).
        "AAAAAA": [(t, t >= 130) for t in range(0, 300, 5)],
        # B: on the ground, airborne at 45 s, back on the ground at 50 s (a touch and go).
        "BBBBBB": [(30, True), (45, False), (50, True), (55, True), (90, True), (100, True)],
        # C: ten minutes of positions; only the first five are old enough to thin.
        "CCCCCC": airborne(600),
    })


def test_thinning_keeps_one_position_per_aircraft_per_interval_and_ground_changes(
    engine: Engine,
) -> None:
    fill_landing_and_touch_and_go(engine)
    before = positions_count(engine)

    progress = thin_positions(engine, at(300), 60, batch=50)

    assert kept_times(engine, "AAAAAA") == [0, 60, 120, 130, 180, 240]
    assert kept_times(engine, "BBBBBB") == [30, 45, 50, 90]
    assert kept_times(engine, "CCCCCC") == [0, 60, 120, 180, 240, *range(300, 600, 5)]
    assert progress.deleted == before - positions_count(engine)
    assert progress.batches > 1  # 50-row batches over ~190 old rows
    assert progress.until == int(at(300).timestamp()) and progress.finished


def test_thinning_stops_at_the_bucket_before_the_cutoff(engine: Engine) -> None:
    store_tracks(engine, {"CCCCCC": airborne(180)})
    # 150 s is mid-bucket: the bucket 120-180 is not whole yet and stays untouched.
    thin_positions(engine, at(150), 60)
    assert kept_times(engine, "CCCCCC") == [0, 60, *range(120, 180, 5)]


def test_thinning_twice_changes_nothing() -> None:
    rows = [("AAAAAA", t, t >= 130) for t in range(0, 300, 5)]
    once = [r for r in rows if (r[0], r[1]) not in set(rows_to_drop(rows, 60))]
    assert rows_to_drop(once, 60) == []
    assert [t for _i, t, _g in once] == [0, 60, 120, 130, 180, 240]


def test_delete_removes_only_older_positions_in_batches_and_keeps_alerts(engine: Engine) -> None:
    fill_landing_and_touch_and_go(engine)
    alert = Alert(time=at(10), icao="AAAAAA", kind="landed", geofence="Belarus",
                  sources=("beast:127.0.0.1:30005",))
    assert record_alert(engine, alert, ["email"], now=at(20)) is not None
    others = {m: count(engine, m) for m in (AlertRecord, AircraftRow, CallsignPeriod, Source)}

    progress = delete_positions(engine, at(100), batch=7)

    assert kept_times(engine, "AAAAAA") == list(range(100, 300, 5))
    assert kept_times(engine, "BBBBBB") == [100]
    assert kept_times(engine, "CCCCCC") == list(range(100, 600, 5))
    # A chunk (an aircraft's hour) at a time: each holds more than the 7 of a batch.
    assert progress.deleted == 20 + 5 + 20 and progress.batches == 3
    assert {m: count(engine, m) for m in others} == others


def section(**overrides: Any) -> dict[str, Any]:
    values = {"thin_after": 300.0, "thin_interval": 60.0, "delete_after": 0.0,
              "run_seconds": 20.0, "batch_rows": 40, "vacuum_pages": 0, "keep_free_mb": 0.0}
    return values | overrides


def test_a_second_run_does_no_work_and_a_later_one_only_the_new_data(engine: Engine) -> None:
    fill_landing_and_touch_and_go(engine)
    retention = Retention(engine, section())

    first = retention.run(at(600))  # thins everything before 300 s
    second = retention.run(at(600))
    third = retention.run(at(660))  # one more minute became old enough

    assert first.thinned > 0 and first.caught_up
    assert (second.scanned, second.thinned) == (0, 0)
    assert third.scanned == 12 and third.thinned == 11  # C's 300-355 s: keep 300
    assert kept_times(engine, "CCCCCC") == [0, 60, 120, 180, 240, 300, *range(360, 600, 5)]


def test_a_run_stops_at_its_time_budget_and_goes_on_next_time(engine: Engine) -> None:
    fill_landing_and_touch_and_go(engine)
    starved = Retention(engine, section(run_seconds=0.0))
    assert not starved.run(at(600)).caught_up
    assert len(kept_times(engine, "CCCCCC")) == 120
    starved.section = section()
    assert starved.run(at(600)).caught_up
    assert kept_times(engine, "CCCCCC")[:6] == [0, 60, 120, 180, 240, 300]


def test_delete_after_runs_before_thinning(engine: Engine) -> None:
    fill_landing_and_touch_and_go(engine)
    report = Retention(engine, section(delete_after=500.0)).run(at(700))
    # Deleted before 200 s; thinned before 360 s, the last whole minute before 400 s.
    assert kept_times(engine, "AAAAAA") == [200, 240]
    assert kept_times(engine, "BBBBBB") == []
    assert kept_times(engine, "CCCCCC") == [200, 240, 300, *range(360, 600, 5)]
    assert report.deleted == 40 + 6 + 40


def test_new_sqlite_databases_use_incremental_auto_vacuum(sqlite_engine: Engine) -> None:
    with sqlite_engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA auto_vacuum").scalar() == 2  # INCREMENTAL


def test_reclaiming_gives_free_pages_back_to_the_file_system(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    # Positions pack to a few bytes each, these (scattered at random) to about ten:
    # deleting two hours of 100 aircraft frees a few hundred pages.
    rng = random.Random(3)
    store = Store(sqlite_engine, batch_rows=1_000_000)
    for n in range(100):
        for t in range(0, 7200, 5):
            store.add_position(replace(position(f"A{n:05X}", t), lat=rng.uniform(50, 56),
                                       lon=rng.uniform(20, 30)))
    assert store.flush() and store.merge()
    delete_positions(sqlite_engine, at(7200))
    free_before, page = free_pages(sqlite_engine)
    assert free_before > 40

    assert reclaim_space(sqlite_engine, 10) == 10
    assert reclaim_space(sqlite_engine, 10_000, keep_free_pages=25) == free_before - 10 - 25
    assert free_pages(sqlite_engine) == (25, page)
    with sqlite3.connect(tmp_path / "fw.db") as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    assert (tmp_path / "fw.db").stat().st_size == pages * page
    assert reclaim_space(sqlite_engine, 10_000, keep_free_pages=25) == 0


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_reclaiming_does_nothing_on_postgresql(engine: Engine) -> None:
    assert free_pages(engine) == (0, 0) and reclaim_space(engine, 100) == 0


def test_a_concurrent_writer_waits_one_batch_not_the_whole_run(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    # 120 aircraft x 30 min at 5 s: 43,200 positions to thin in batches of about 200
    # (an aircraft each: its day is thinned whole)
    store_tracks(sqlite_engine, {f"B{n:05X}": airborne(1800) for n in range(120)})
    merge_log(sqlite_engine)  # what the writer committed, into chunks (one transaction)
    waits: list[float] = []
    thinning = threading.Event()
    done = threading.Event()

    def writer() -> None:
        conn = sqlite3.connect(tmp_path / "fw.db", timeout=30, isolation_level=None)
        thinning.wait()
        t = 10_000
        while not done.is_set():
            began = time.monotonic()
            conn.execute("BEGIN IMMEDIATE")
            waits.append(time.monotonic() - began)
            conn.execute("INSERT INTO sources (name) VALUES (?)", (f"writer:{t}",))
            conn.execute("COMMIT")
            t += 1
            time.sleep(0.002)
        conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    began = time.monotonic()
    thinning.set()
    progress = thin_positions(sqlite_engine, at(1800), 60, batch=200)
    took = time.monotonic() - began
    done.set()
    thread.join()

    assert progress.batches == 120 and progress.deleted == 120 * (360 - 30)
    assert len(waits) >= 20  # the writer kept committing while thinning ran
    print(f"thinning {took:.2f} s, {len(waits)} writes, longest wait {max(waits):.3f} s")
    # One lock for the whole run would make a wait close to took; one scheduler stall on a
    # loaded machine may take a tenth of it.
    assert max(waits) < took / 2, (max(waits), took)
