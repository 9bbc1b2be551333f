"""The batched writer: batching, dedupe, callsign periods, and a locked database."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from stored_positions import stored_count

from flightwatch.db import Store, connect, open_engine
from flightwatch.db.queries import history
from flightwatch.decoder.tracker import Position

T0 = datetime(2020, 8, 19, 9, 0, tzinfo=UTC)


def position(
    t: float,
    icao: str = "157710",
    callsign: str | None = "RSD016",
    source: str = "beast:127.0.0.1:30005",
) -> Position:
    return Position(
        icao=icao,
        time=T0 + timedelta(seconds=t),
        lat=53.9 + t / 1000,
        lon=27.5,
        altitude_ft=12000.0,
        ground_speed_kt=300.4,
        track_deg=271.26,
        vertical_rate_fpm=-640.0,
        on_ground=False,
        callsign=callsign,
        source=source,
    )


def count(engine: Engine) -> int:
    return stored_count(engine)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'fw.db'}"
    connect(url)
    return url


def test_positions_are_committed_in_batches(db_url: str) -> None:
    now = [0.0]
    store = Store(open_engine(db_url), batch_rows=3, batch_seconds=10.0, clock=lambda: now[0])
    for t in range(2):
        store.add_position(position(t))
        store.maybe_flush()
    assert count(store.engine) == 0  # below both thresholds
    store.add_position(position(2))
    store.maybe_flush()
    assert count(store.engine) == 3
    store.add_position(position(3))
    now[0] = 11.0
    store.maybe_flush()
    assert count(store.engine) == 4


def test_the_same_aircraft_and_second_from_two_sources_is_one_row(db_url: str) -> None:
    store = Store(open_engine(db_url))
    store.add_position(position(1.2, source="beast:127.0.0.1:30005"))
    store.add_position(position(1.7, source="opensky"))
    store.flush()
    store.add_position(position(1.0, source="adsb.lol"))
    store.flush()
    assert count(store.engine) == 1


def test_history_reads_back_rounded_values_and_the_callsign(db_url: str) -> None:
    store = Store(open_engine(db_url))
    store.add_position(position(0, callsign="RSD016"))
    store.add_position(position(30, callsign="RSD016"))
    store.add_position(position(60, callsign="RSD017"))
    store.flush()
    rows = list(history(store.engine, icaos=["157710"]))
    assert [r.callsign for r in rows] == ["RSD016", "RSD016", "RSD017"]
    first = rows[0]
    assert first.time == T0 and first.time.tzinfo is not None
    assert (first.ground_speed_kt, first.track_deg, first.vertical_rate_fpm) == (300, 271.3, -640)
    assert first.source == "beast:127.0.0.1:30005"
    only_017 = list(history(store.engine, callsign="RSD017"))
    assert [r.time for r in only_017] == [T0 + timedelta(seconds=60)]
    assert (
        next(
            iter(
                history(
                    store.engine, since=T0 + timedelta(seconds=30), until=T0 + timedelta(seconds=30)
                )
            )
        ).callsign
        == "RSD016"
    )


def test_a_callsign_changed_within_a_second_is_the_one_kept(engine: Engine) -> None:
    """Callsign periods are keyed by whole seconds: the later callsign of that second wins,
    whether the first one was already committed or not (SQLite and PostgreSQL upserts)."""
    store = Store(engine)
    store.add_position(position(0, callsign="RSD016"))
    store.add_position(position(0.6, callsign="RSD017"))  # same second, same batch
    store.add_position(position(30, callsign="RSD017"))
    store.add_position(position(60.1, callsign="RSD018"))
    store.flush()
    store.add_position(position(60.8, callsign="RSD019"))  # same second, next batch
    store.add_position(position(90, callsign="RSD019"))
    store.flush()
    rows = list(history(store.engine, icaos=["157710"]))
    assert [(int((r.time - T0).total_seconds()), r.callsign) for r in rows] == [
        (0, "RSD017"), (30, "RSD017"), (60, "RSD019"), (90, "RSD019")]


def test_a_locked_database_keeps_the_batch_and_writes_it_later(db_url: str, tmp_path: Path) -> None:
    store = Store(open_engine(db_url, busy_timeout_s=0.2))
    blocker = sqlite3.connect(tmp_path / "fw.db", timeout=0.2)
    blocker.execute("BEGIN IMMEDIATE")  # another process holding the write lock
    for t in range(5):
        store.add_position(position(t))
    assert store.flush() is False
    assert store.stats.failed_commits == 1
    assert store.pending >= 5
    blocker.rollback()
    blocker.close()
    assert store.flush() is True
    assert count(store.engine) == 5
    assert store.flush() is True
    assert count(store.engine) == 5  # nothing written twice


def test_naive_times_are_refused(db_url: str) -> None:
    store = Store(open_engine(db_url))
    bad = position(0)
    object.__setattr__(bad, "time", datetime(2020, 8, 19, 9, 0))  # noqa: DTZ001
    store.add_position(bad)
    with pytest.raises(Exception, match="naive"):
        store.flush()


def test_upgrade_backs_up_an_existing_database(tmp_path: Path) -> None:
    from flightwatch.db.engine import pending_migrations

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = open_engine(url)
    from alembic import command

    from flightwatch.db.engine import _alembic_config, schema_is_current, upgrade

    command.upgrade(_alembic_config(engine), "0001")
    assert pending_migrations(engine)
    assert not schema_is_current(engine)
    applied = upgrade(engine)
    assert applied and applied[0] != "0001"
    backups = list(tmp_path.glob("old.db.before-*.bak"))
    assert len(backups) == 1
    assert pending_migrations(engine) == []
    assert schema_is_current(engine)


def test_a_failing_database_is_retried_once_per_interval_not_per_position(
    db_url: str, tmp_path: Path
) -> None:
    now = [0.0]
    store = Store(open_engine(db_url, busy_timeout_s=0.1), batch_rows=2, batch_seconds=5.0,
                  clock=lambda: now[0])
    blocker = sqlite3.connect(tmp_path / "fw.db", timeout=0.1)
    blocker.execute("BEGIN IMMEDIATE")
    for t in range(3):
        store.add_position(position(t))
    store.maybe_flush()
    assert store.stats.failed_commits == 1
    for t in range(3, 50):  # a full batch many times over: still no retry before 5 s
        store.add_position(position(t))
        store.maybe_flush()
    assert store.stats.failed_commits == 1
    blocker.rollback()
    blocker.close()
    now[0] = 5.0
    store.maybe_flush()
    assert store.stats.failed_commits == 1 and count(store.engine) == 50


def test_the_buffer_stays_bounded_while_the_database_is_down(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import flightwatch.db.store

    monkeypatch.setattr(flightwatch.db.store, "MAX_BUFFERED_POSITIONS", 100)
    store = Store(open_engine(db_url))
    for t in range(250):
        store.add_position(position(t))
    assert store.pending <= 100 + 2  # positions, plus the aircraft and callsign rows
    assert store.stats.positions_dropped == 150


def test_history_by_a_callsign_flown_in_thousands_of_periods(db_url: str) -> None:
    """One OR term per period used to overflow SQLite's expression depth."""
    store = Store(open_engine(db_url))
    for i in range(1500):
        store.add_position(position(i * 10, icao=f"{i:06X}", callsign="AFL123"))
    store.add_position(position(5, icao="ABCDEF", callsign="SBI456"))
    store.flush()
    rows = list(history(store.engine, callsign="AFL*"))
    assert len(rows) == 1500 and {r.callsign for r in rows} == {"AFL123"}


def refuse_registration(engine: Engine, registration: str) -> None:
    """Make the database refuse (not merely delay) any aircraft row with ``registration``:
    a CHECK constraint on PostgreSQL, triggers on SQLite (which cannot add one)."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql(f"ALTER TABLE aircraft ADD CONSTRAINT refused CHECK "
                                 f"(registration IS DISTINCT FROM '{registration}')")
            return
        for event in ("INSERT", "UPDATE"):
            conn.exec_driver_sql(
                f"CREATE TRIGGER refused_{event.lower()} BEFORE {event} ON aircraft "
                f"WHEN NEW.registration = '{registration}' BEGIN "
                "SELECT RAISE(ABORT, 'refused'); END")


def test_a_batch_the_database_refuses_does_not_poison_the_next(engine: Engine) -> None:
    """The refused batch named a new source: its row went with the rolled-back transaction,
    and so must the id the store remembered for it, or every later batch fails on the
    foreign key. The refused aircraft row is dropped; the positions are kept."""
    from flightwatch.decoder.tracker import AircraftState

    refuse_registration(engine, "REFUSED")
    store = Store(engine, batch_rows=1_000_000, batch_seconds=3600.0)
    store.add_position(position(0, icao="4B1801", source="aggregator:new"))
    store.note_aircraft(AircraftState("4B1801", T0, T0, registration="REFUSED"))

    assert store.flush() is False
    assert count(engine) == 0

    for t in range(1, 5):
        store.add_position(position(t, icao="4B1802", source="aggregator:new"))
    assert store.flush() is True
    assert count(engine) == 5  # the refused batch's position too
    assert store.stats.positions_written == 5 and store.pending == 0
