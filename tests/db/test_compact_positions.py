"""Migrations 0006 and 0010: a 0003 database's positions survive the compact encoding and the
chunks, row for row, up and down again."""

from __future__ import annotations

import logging
import random
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, inspect

from flightwatch.db.engine import _alembic_config
from flightwatch.db.queries import history

COLUMNS = ("icao, time, lat, lon, altitude_ft, ground_speed_kt, track_deg, "
           "vertical_rate_fpm, on_ground, source_id")
N_ROWS = 60_000  # more than one batch of the migration (50,000), split inside an aircraft


def old_rows(n: int) -> list[tuple[Any, ...]]:
    """Rows as 0003 stored them: text addresses, float coordinates rounded to 1e-5."""
    rng = random.Random(6)
    icaos = ["000001", "00A3F0", "4CA2D1", "7FFFFF", "800000", "A1B2C3", "FFFFFF"]
    rows = []
    for i in range(n):
        icao = icaos[i * len(icaos) // n]
        ground = rng.choice([True, False, None])
        rows.append((
            icao, 1_700_000_000 + i * 5,
            round(rng.uniform(-90, 90), 5), round(rng.uniform(-180, 180), 5),
            rng.choice([None, -1000, 0, 36_025, 60_000]), rng.choice([None, 0, 15, 480, 1200]),
            rng.choice([None, 0.0, 0.1, 123.4, 359.9]), rng.choice([None, -6400, 0, 64, 2200]),
            ground, rng.choice([1, 2, None]),
        ))
    return rows


def insert_old(engine: Engine, rows: list[tuple[Any, ...]]) -> None:
    mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO sources (id, name) VALUES (1, 'beast:a'), (2, 'sbs:b')")
        conn.exec_driver_sql(
            f"INSERT INTO positions ({COLUMNS}) VALUES ({', '.join([mark] * 10)})", rows)


def test_every_position_survives_the_upgrade_and_the_downgrade(
    engine_at_0003: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    rows = old_rows(N_ROWS)
    insert_old(engine_at_0003, rows)
    config = _alembic_config(engine_at_0003)

    with caplog.at_level(logging.INFO, logger="flightwatch.db.migrations"):
        command.upgrade(config, "0006")
        at_0006 = raw_rows(engine_at_0003)
        command.upgrade(config, "heads")

    compact = [(int(row[0], 16), row[1], round(row[2] * 1e5), round(row[3] * 1e5), *row[4:6],
                None if row[6] is None else round(row[6] * 10), *row[7:]) for row in rows]
    assert at_0006 == compact
    names = {1: "beast:a", 2: "sbs:b", None: None}
    expected = [(*row[:8], row[8], names[row[9]]) for row in rows]
    read = [(r.icao, int(r.time.timestamp()), r.lat, r.lon, r.altitude_ft, r.ground_speed_kt,
             r.track_deg, r.vertical_rate_fpm, r.on_ground, r.source)
            for r in history(engine_at_0003)]
    assert read == expected
    progress = [r.getMessage() for r in caplog.records if "converting positions" in r.getMessage()]
    assert progress == 2 * [f"converting positions: 50000 of {N_ROWS} rows (83%)",
                            f"converting positions: {N_ROWS} of {N_ROWS} rows (100%)"]
    with engine_at_0003.connect() as conn:
        chunks = conn.exec_driver_sql(
            "SELECT span, period, first_time, last_time, positions FROM position_chunks").all()
        tables = set(inspect(conn).get_table_names())
    assert "positions" not in tables
    assert sum(c[4] for c in chunks) == N_ROWS
    assert all(span == 3600 and first // 3600 == period == last // 3600
               for span, period, first, last, _n in chunks)  # an hour a chunk

    command.downgrade(config, "0003")
    with engine_at_0003.connect() as conn:
        back = conn.exec_driver_sql(f"SELECT {COLUMNS} FROM positions ORDER BY icao, time").all()
    assert [tuple(row) for row in back] == rows


def raw_rows(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        sql = conn.exec_driver_sql(
            f"SELECT {COLUMNS} FROM positions ORDER BY icao, time").all()
        if engine.dialect.name == "sqlite":
            table = conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = 'positions'").scalar_one()
            assert "WITHOUT ROWID" in table
    return [(*row[:8], None if row[8] is None else bool(row[8]), row[9]) for row in sql]
