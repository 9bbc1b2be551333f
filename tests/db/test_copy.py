"""``flightwatch db copy``: a SQLite history moved to PostgreSQL (or another SQLite file)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pg_scratch import scratch_schema
from sqlalchemy import Engine, select

from flightwatch.cli import main
from flightwatch.daemon.replay import replay_files
from flightwatch.db import Store, connect
from flightwatch.db.alert_queries import query_alerts
from flightwatch.db.alert_record import Alert
from flightwatch.db.alerts import mark_sent, outbox_status, record_alert
from flightwatch.db.copy import CopyError, TargetNotEmpty, copy_database
from flightwatch.db.models import AlertRecord, Base, OutboxEntry, Source
from flightwatch.db.queries import history
from flightwatch.db.watchlist import add
from flightwatch.decoder.tracker import Position as TrackPosition
from flightwatch.settings import load_settings

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "config" / "samples" / "demo_minsk.tsv"
T = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
WITH_IDS = {"positions", "sources", "alerts", "outbox"}


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's content with generated ids replaced by what they stand for."""
    s, a, o = (m.__table__ for m in (Source, AlertRecord, OutboxEntry))
    alert_columns = [c for c in a.c if c.name != "id"]
    queries: dict[str, Any] = {
        "sources": select(s.c.name),
        "alerts": select(*alert_columns),
        "outbox": select(a.c.dedupe_key, *(c for c in o.c if c.name not in ("id", "alert_id")))
        .join(a, a.c.id == o.c.alert_id),
    }
    for table in Base.metadata.sorted_tables:
        if table.name not in ("position_log", "position_chunks"):  # blocks: compared below
            queries.setdefault(table.name, select(table))
    with engine.connect() as conn:
        content = {name: sorted(tuple(r) for r in conn.execute(q))
                   for name, q in queries.items()}
    content["positions"] = sorted(
        (r.icao, r.time, r.lat, r.lon, r.altitude_ft, r.ground_speed_kt, r.track_deg,
         r.vertical_rate_fpm, r.on_ground, r.source) for r in history(engine))
    assert set(content) >= WITH_IDS
    return content


@pytest.fixture(scope="module")
def history_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite history: the demo replay (positions, alerts, outbox) and a hand-made watch.

    Shared by the tests of this module, which only read it.
    """
    tmp_path = tmp_path_factory.mktemp("history")
    url = f"sqlite:///{tmp_path / 'source.db'}"
    config = tmp_path / "source.toml"
    config.write_text(
        f'[database]\nurl = "{url}"\n[receiver]\nname = "demo"\nlat = 53.888\nlon = 28.040\n'
        f'[alerts]\noutbox_dir = "{tmp_path / "mail"}"\n', encoding="utf-8",
    )
    summary = replay_files(load_settings(config, env={}), [DEMO], fmt="tsv")
    assert summary.positions_stored > 1000
    engine = connect(url)
    add(engine, "157710", "RA-96016", "Rossiya", "IL96", group="RU_STATE", now=T)
    engine.dispose()
    return url


@pytest.fixture
def pg_url(postgres_url: str) -> Iterator[str]:
    with scratch_schema(postgres_url, "fw_copy") as url:
        yield url


@pytest.mark.integration
def test_sqlite_to_postgresql_copies_everything_and_runs_again(
    history_db: str, pg_url: str
) -> None:
    original = snapshot(connect(history_db))
    assert all(original[name] for name in WITH_IDS | {"aircraft", "callsigns", "watchlist"})
    report = copy_database(history_db, pg_url)
    assert {t.name: t.target_rows for t in report.tables} == {
        name: len(rows) for name, rows in original.items()
    }
    assert all(t.source_rows == t.target_rows for t in report.tables)
    target = connect(pg_url)
    assert snapshot(target) == original
    assert query_alerts(target) == query_alerts(connect(history_db))

    with pytest.raises(TargetNotEmpty, match="--merge"):
        copy_database(history_db, pg_url)
    again = copy_database(history_db, pg_url, merge=True, batch_rows=97)
    assert [t.target_rows for t in again.tables] == [t.target_rows for t in report.tables]
    assert snapshot(target) == original

    # The target hands out new ids after the copied ones (sequences were not bypassed).
    fresh = replace(query_alerts(target)[0], kind="exit", time=T)
    new_id = record_alert(target, fresh, ["email"], now=T)
    assert new_id is not None
    assert outbox_status(target, new_id) == {"email": ("pending", 0)}
    target.dispose()


def test_sqlite_to_sqlite_through_the_command(
    history_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target_url = f"sqlite:///{tmp_path / 'copy.db'}"
    args = ["db", "copy", "--from", history_db, "--to", target_url, "--no-progress"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "positions" in out and "in the target" in out
    assert snapshot(connect(target_url)) == snapshot(connect(history_db))
    assert main(args) == 2
    assert "--merge" in capsys.readouterr().err
    assert main([*args, "--merge"]) == 0
    assert snapshot(connect(target_url)) == snapshot(connect(history_db))


def test_copy_into_itself_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fw.db'}"
    with pytest.raises(CopyError, match="same database"):
        copy_database(url, url, merge=True)


def receiver_db(path: Path, receiver: str, seconds: range, dedupe_alert: Alert) -> str:
    """A receiver's own SQLite file: positions every 2 s, one alert with two channels."""
    url = f"sqlite:///{path}"
    engine = connect(url)
    store = Store(engine, receiver=receiver)
    for second in seconds:
        store.add_position(TrackPosition(
            icao="157710", time=T + timedelta(seconds=second), lat=53.0 + second / 1e4,
            lon=27.5, altitude_ft=12000.0, ground_speed_kt=300.0, track_deg=90.0,
            vertical_rate_fpm=0.0, on_ground=False, callsign="RSD016",
            source="beast:127.0.0.1:30005",
        ))
    assert store.flush()
    own = replace(dedupe_alert, time=T + timedelta(seconds=seconds.start), kind="heard_nearby")
    record_alert(engine, own, ["email"], now=T)
    alert_id = record_alert(engine, dedupe_alert, ["email", "webhook"], now=T)
    assert alert_id is not None
    if receiver == "pi-b":
        mark_sent(engine, next(iter(outbox_ids(engine, alert_id))), T)
    engine.dispose()
    return url


def outbox_ids(engine: Engine, alert_id: int) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(
            select(OutboxEntry.id).where(OutboxEntry.alert_id == alert_id)
            .order_by(OutboxEntry.channel)
        ).scalars())


@pytest.mark.integration
def test_two_receivers_histories_merge_into_one_postgresql(
    tmp_path: Path, pg_url: str
) -> None:
    """Both files number their source and alerts from 1; the merge keeps them apart."""
    shared = Alert(
        time=T, icao="157710", kind="enter", registration="RA-96016", callsign="RSD016",
        geofence="belarus", lat=53.9, lon=27.55, altitude_ft=12000.0, ground_speed_kt=430.0,
        track_deg=270.0, matched_by="icao", sources=("beast",), details={},
    )
    a = receiver_db(tmp_path / "a.db", "pi-a", range(0, 600, 2), shared)
    b = receiver_db(tmp_path / "b.db", "pi-b", range(300, 900, 2), shared)
    copy_database(a, pg_url)
    copy_database(b, pg_url, merge=True)
    target = connect(pg_url)
    content = snapshot(target)
    assert content["sources"] == [("pi-a/beast:127.0.0.1:30005",), ("pi-b/beast:127.0.0.1:30005",)]
    positions = content["positions"]
    assert len(positions) == len(range(0, 900, 2))  # the overlap is stored once
    by_second = {int((row[1] - T).total_seconds()): row[-1] for row in positions}
    assert by_second[0] == by_second[598] == "pi-a/beast:127.0.0.1:30005"  # a came first
    assert by_second[600] == by_second[898] == "pi-b/beast:127.0.0.1:30005"
    kinds = sorted((alert.kind, alert.time) for alert in query_alerts(target))
    assert kinds == [("enter", T), ("heard_nearby", T),
                     ("heard_nearby", T + timedelta(seconds=300))]
    # The shared alert keeps a's outbox rows (a was copied first); b's own alert gets its row.
    outbox = content["outbox"]
    assert len(outbox) == 4
    assert all(row[2] == "pending" for row in outbox)
    target.dispose()
