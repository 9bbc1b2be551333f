"""db.positions and db.position_reader: the log each commit appends to, its merge into
per-aircraft hourly chunks, and reading both as one history, on SQLite and PostgreSQL.

Expected values are the positions given to the writer (their stored integers), worked
out here by hand; nothing is compared with what the reader itself produced earlier.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, text
from stored_positions import stored_rows

from flightwatch.db import Store
from flightwatch.db.position_reader import count, latest_time, tracks
from flightwatch.db.positions import merge_log
from flightwatch.db.reader import EngineReader
from flightwatch.decoder.tracker import Position

T0 = datetime(2020, 8, 19, 9, 50, tzinfo=UTC)  # ten minutes before an hour begins
BASE = int(T0.timestamp())


def position(icao: str, t: int, source: str = "beast:a", lat: float = 53.9) -> Position:
    return Position(icao=icao, time=T0 + timedelta(seconds=t), lat=lat + t / 1e4, lon=27.5,
                    altitude_ft=None if t % 7 == 0 else 12000.0, ground_speed_kt=300.0,
                    track_deg=90.0, vertical_rate_fpm=0.0, on_ground=t % 11 == 0,
                    callsign=None, source=source)


def write(engine: Engine, points: list[tuple[str, int]], source: str = "beast:a",
          lat: float = 53.9) -> Store:
    store = Store(engine, batch_rows=10**6)
    for icao, t in points:
        store.add_position(position(icao, t, source, lat))
    assert store.flush()
    return store


def expected(icao: str, seconds: list[int], lat: float = 53.9) -> list[tuple[Any, ...]]:
    """The rows the writer stores for ``position(icao, t)``: stored integers."""
    return [(int(icao, 16), BASE + t, round(round(lat + t / 1e4, 5) * 1e5), 2750000,
             None if t % 7 == 0 else 12000, 300, 900, 0, t % 11 == 0) for t in seconds]


def without_source(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [row[:-1] for row in rows]


def chunk_rows(engine: Engine) -> list[tuple[int, int, int, int, int]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT span, period, icao, first_time, positions FROM position_chunks "
            "ORDER BY span, period, icao, first_time"))]


def log_rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM position_log")).scalar_one())


def test_committed_positions_are_read_before_and_after_the_merge(engine: Engine) -> None:
    seconds = list(range(0, 1200, 5))  # 09:50 to 10:10: two hours' chunks
    write(engine, [("4CA2D1", t) for t in seconds] + [("157710", t) for t in seconds[:10]])
    want = expected("157710", seconds[:10]) + expected("4CA2D1", seconds)
    assert without_source(stored_rows(engine)) == want
    assert log_rows(engine) == 1 and chunk_rows(engine) == []  # a small commit: one block

    merged = merge_log(engine)

    assert (merged.positions, merged.log_rows, merged.chunks) == (250, 1, 3)
    assert log_rows(engine) == 0
    hour = (BASE + 600) // 3600
    assert chunk_rows(engine) == [
        (3600, hour - 1, 0x157710, BASE, 10),
        (3600, hour - 1, 0x4CA2D1, BASE, 120),
        (3600, hour, 0x4CA2D1, BASE + 600, 120)]
    assert without_source(stored_rows(engine)) == want
    assert count(EngineReader(engine)) == 250
    assert latest_time(EngineReader(engine)) == BASE + 1195


def test_a_second_stored_twice_is_kept_once_the_first_winning(engine: Engine) -> None:
    write(engine, [("4CA2D1", t) for t in range(0, 100, 10)], source="beast:a")
    merge_log(engine)
    # Another receiver heard the same aircraft: same seconds and new ones, at other places.
    write(engine, [("4CA2D1", t) for t in range(50, 150, 5)], source="sbs:b", lat=50.0)
    rows = stored_rows(engine, icaos=[0x4CA2D1])

    def check(rows: list[tuple[Any, ...]]) -> None:
        seconds = [row[1] - BASE for row in rows]
        assert seconds == sorted(set(range(0, 100, 10)) | set(range(50, 150, 5)))
        first = {row[1] - BASE: row for row in rows}
        assert first[50][2] == round(round(53.9 + 50 / 1e4, 5) * 1e5)  # the stored one stays
        assert first[55][2] == round(round(50.0 + 55 / 1e4, 5) * 1e5)

    check(rows)  # read while the second batch is still in the log
    merge_log(engine)
    check(stored_rows(engine, icaos=[0x4CA2D1]))
    assert [r[4] for r in chunk_rows(engine)] == [25]  # merged into one chunk: 10 + 20 - 5


def test_an_abandoned_merge_loses_nothing(engine: Engine) -> None:
    points = [(f"{0x400000 + n:06X}", t) for n in range(40) for t in range(0, 60, 10)]
    write(engine, points)
    asked = []

    def stop_after_three() -> bool:
        asked.append(1)
        return len(asked) > 3

    merged = merge_log(engine, should_stop=stop_after_three)
    assert merged.abandoned and (merged.log_rows, merged.chunks) == (0, 0)
    assert log_rows(engine) == 1 and chunk_rows(engine) == []  # nothing written
    assert len(stored_rows(engine)) == len(points)
    assert merge_log(engine).positions == len(points)
    assert log_rows(engine) == 0 and len(stored_rows(engine)) == len(points)


def test_queries_by_aircraft_time_and_box_read_exactly_those(engine: Engine) -> None:
    many = [f"{0x500000 + n:06X}" for n in range(80)]  # more than are read one by one
    write(engine, [(icao, t) for icao in many for t in range(0, 1200, 60)])
    merge_log(engine)
    write(engine, [(icao, t) for icao in many[:5] for t in range(1200, 1500, 60)])  # log
    reader = EngineReader(engine)
    since, until = BASE + 300, BASE + 1320
    every = list(tracks(reader, since=since, until=until))
    assert [icao for icao, _c in every] == sorted(int(i, 16) for i in many)
    assert every[0][1][0] == list(range(since, until + 1, 60))
    assert every[-1][1][0] == list(range(since, BASE + 1200, 60))
    few = dict(tracks(reader, icaos=[int(many[3], 16), 0xABCDEF], since=since, until=until))
    assert list(few) == [int(many[3], 16)] and few[int(many[3], 16)] == dict(every)[
        int(many[3], 16)]
    some = dict(tracks(reader, icaos=[int(i, 16) for i in many], since=since, until=until))
    assert some == dict(every)  # scanned, not looked up one by one: the same answer
    # A box around the positions of the first 10 minutes after 09:55 (lat grows with t).
    low, high = round(round(53.9 + 300 / 1e4, 5) * 1e5), round(round(53.9 + 900 / 1e4, 5) * 1e5)
    boxed = dict(tracks(reader, icaos=[int(many[0], 16)], bbox=(2740000, low, 2760000, high)))
    assert boxed[int(many[0], 16)][0] == [BASE + t for t in range(300, 901, 60)]


def test_aircraft_rows_wait_for_their_hour_unless_new_or_changed(engine: Engine) -> None:
    from flightwatch.decoder.tracker import AircraftState

    now = [0.0]
    store = Store(engine, batch_rows=10**6, batch_seconds=60.0, clock=lambda: now[0])

    def seen(icao: str, minute: int, registration: str | None = None) -> None:
        store.note_aircraft(AircraftState(icao=icao, first_seen=T0,
                                          last_seen=T0 + timedelta(minutes=minute),
                                          registration=registration))

    def stored() -> dict[str, tuple[Any, ...]]:
        with engine.connect() as conn:
            return {r[0]: tuple(r[1:]) for r in conn.execute(text(
                "SELECT icao, registration FROM aircraft"))}

    seen("4CA2D1", 0)
    assert store.flush() and set(stored()) == {"4CA2D1"}  # new: written at once
    with engine.connect() as conn:
        first = conn.execute(text("SELECT last_seen FROM aircraft")).scalar_one()
    now[0] += 60
    seen("4CA2D1", 1)
    assert store.flush()
    with engine.connect() as conn:  # only its last seen moved: that waits
        assert conn.execute(text("SELECT last_seen FROM aircraft")).scalar_one() == first
    now[0] += 60
    seen("4CA2D1", 2, registration="EI-DVM")
    assert store.flush() and stored()["4CA2D1"] == ("EI-DVM",)  # its identity: at once
    now[0] += 3600
    seen("4CA2D1", 62)
    assert store.flush()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT last_seen FROM aircraft")).scalar_one() != first


def test_a_big_commit_goes_to_the_log_in_parts_each_aircraft_in_one(engine: Engine) -> None:
    many = [f"{0x600000 + n:06X}" for n in range(300)]
    write(engine, [(icao, t) for icao in many for t in range(0, 100, 10)])  # 3,000 positions
    with engine.connect() as conn:
        layout = sorted(tuple(r) for r in conn.execute(text(
            "SELECT parts, part, positions FROM position_log")))
    assert [(parts, part) for parts, part, _n in layout] == [(4, 0), (4, 1), (4, 2), (4, 3)]
    assert all(n == 75 * 10 for _p, _q, n in layout)  # 300 consecutive addresses: 75 each
    one = many[7]
    assert without_source(stored_rows(engine, icaos=[int(one, 16)])) == expected(
        one, list(range(0, 100, 10)))
    merge_log(engine)
    assert len(stored_rows(engine)) == 3000 and log_rows(engine) == 0
