"""The whole storage spine on PostgreSQL, checked against SQLite running the same code.

Migrations, a replay of real captures, history queries, alerts with their outbox,
the watchlist, and several receivers writing one database at the same time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from pg_scratch import scratch_schema
from sqlalchemy import Engine, select, text
from stored_positions import stored_rows

from flightwatch.daemon.pipeline import Pipeline
from flightwatch.daemon.replay import replay_files
from flightwatch.daemon.status import database_status
from flightwatch.db import Store, connect, open_engine
from flightwatch.db.alert_queries import pending_by_channel, query_alerts
from flightwatch.db.alert_record import Alert
from flightwatch.db.alerts import (
    claim,
    due_outbox,
    mark_sent,
    outbox_status,
    record_alert,
)
from flightwatch.db.engine import _alembic_config, pending_migrations
from flightwatch.db.flight_queries import query_flights
from flightwatch.db.models import Base, Source
from flightwatch.db.position_reader import count as count_positions
from flightwatch.db.positions import merge_log
from flightwatch.db.queries import callsign_spans, history, icaos_for_registration
from flightwatch.db.reader import EngineReader, Reader, SqliteReader, open_reader
from flightwatch.db.watchlist import add, remove
from flightwatch.db.watchlist_queries import get, stored_entries
from flightwatch.decoder.tracker import Position as TrackPosition
from flightwatch.decoder.tracker import Tracker, TrackerConfig
from flightwatch.settings import Settings, load_settings

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "config" / "samples" / "demo_minsk.tsv"


@pytest.fixture
def pg_url(postgres_url: str) -> Iterator[str]:
    with scratch_schema(postgres_url, "fw_pg") as url:
        yield url


def settings_for(tmp_path: Path, url: str, name: str) -> Settings:
    """Settings of the demo receiver at Minsk with alerts mailed into a folder."""
    config = tmp_path / f"{name}.toml"
    config.write_text(
        f'[database]\nurl = "{url}"\n[receiver]\nname = "demo"\nlat = 53.888\nlon = 28.040\n'
        f'[alerts]\noutbox_dir = "{tmp_path / (name + "-mail")}"\n',
        encoding="utf-8",
    )
    return load_settings(config, env={})


def table_rows(engine: Engine, model: Any, *order: Any) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(select(model).order_by(*order))]


def test_migrations_upgrade_one_by_one_and_match_the_models(pg_url: str) -> None:
    engine = open_engine(pg_url)
    config = _alembic_config(engine)
    revisions = [r.revision for r in ScriptDirectory.from_config(config).walk_revisions()]
    for revision in reversed(revisions):
        command.upgrade(config, revision)
        with engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_heads() == (revision,)
    assert pending_migrations(engine) == []
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    assert schema.startswith("fw_pg_")  # the scratch schema, not public
    engine.dispose()


T = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def history_views(source: Reader | Engine) -> dict[str, Any]:
    """Answers to the questions an investigator asks, for comparing two databases: every
    query of the query commands (``history``, ``flights``, ``alerts``, ``watchlist list``,
    ``status``) through :mod:`db.reader`."""
    everything = list(history(source))
    assert everything, "the replay stored no positions"
    first, last = everything[0].time, everything[-1].time
    middle = first + (last - first) / 2
    lats = sorted(r.lat for r in everything)
    lons = sorted(r.lon for r in everything)
    bbox = (lons[len(lons) // 4], lats[len(lats) // 4], lons[-1], lats[-1])
    callsign = next(r.callsign for r in everything if r.callsign)
    flights = query_flights(source)
    assert flights, "the replay cut no flights"
    status = database_status(source, T)
    return {
        "all": everything,
        "window": list(history(source, since=first + timedelta(minutes=1), until=middle)),
        "bbox": list(history(source, bbox=bbox)),
        "callsign": list(history(source, callsign=callsign[:3] + "*")),
        "icao": list(history(source, icaos=[everything[-1].icao], since=middle)),
        "spans": callsign_spans(source),
        "registration": icaos_for_registration(source, "ra 96016"),
        "alerts": query_alerts(source),
        "alerts window": query_alerts(source, since=first + timedelta(minutes=1), until=middle),
        "pending": pending_by_channel(source),
        "flights": flights,
        "flights window": query_flights(source, since=middle, callsign=callsign[:2] + "*"),
        "flights airport": query_flights(source, airport="umms",
                                         until=max(r.time for r in everything)),
        "flights fence": query_flights(source, geofence="belarus", watched=True),
        "watchlist": [(e.icao, e.registration, e.group, e.origin)
                      for e in stored_entries(source, group="ru_state_transport_rsd")],
        "status": (status.positions_total, status.last_position, status.aircraft_24h,
                   status.alerts_24h, status.outbox_pending),
    }


@pytest.mark.parametrize(("name", "fmt"), [("single_aircraft_adsb.csv", "csv"), ("demo", "tsv")])
def test_a_replay_into_postgresql_answers_like_sqlite(
    name: str, fmt: str, pg_url: str, tmp_path: Path, capture: Callable[[str], Path]
) -> None:
    """SQLite read by the query commands' way (sqlite3, no SQLAlchemy) and PostgreSQL
    (SQLAlchemy) give the same answers to the same SQL."""
    path = DEMO if name == "demo" else capture(name)
    answers = []
    for label, url in (("sqlite", f"sqlite:///{tmp_path / 'fw.db'}"), ("postgresql", pg_url)):
        summary = replay_files(settings_for(tmp_path, url, label), [path], fmt=fmt)
        assert summary.positions_stored > 100
        engine = connect(url)
        first = history_views(engine)["all"][0]
        record_alert(engine, Alert(time=first.time, icao=first.icao, kind="enter"),
                     ["webhook", "email"], now=T)
        with open_reader(url) as reader:
            assert isinstance(reader, SqliteReader) == (label == "sqlite")
            answers.append(history_views(reader))
        engine.dispose()
    sqlite, postgresql = answers
    for view in sqlite:
        assert postgresql[view] == sqlite[view], view
    assert sqlite["pending"][0]["oldest"] == T
    if name == "demo":  # RA-96016 enters Belarus and lands at Minsk: alerts on both
        assert {a.kind for a in postgresql["alerts"]} >= {"enter", "landed"}
        assert len(postgresql["window"]) < len(postgresql["all"])
        assert [f.arrival_airport for f in postgresql["flights airport"]] == ["UMMS"]
        assert postgresql["registration"] == ["157710"]
        assert [f.icao for f in postgresql["flights fence"]] == ["157710"]


def test_alerts_outbox_and_watchlist_round_trip(pg_url: str) -> None:
    engine = connect(pg_url)
    alert = Alert(
        time=T, icao="157710", kind="enter", registration="RA-96016", callsign="RSD016",
        geofence="belarus", lat=53.9, lon=27.55, altitude_ft=12000.0, ground_speed_kt=430.0,
        track_deg=270.0, matched_by="icao", sources=("demo/beast:127.0.0.1:30005", "adsbx"),
        details={"operator": "Rossiya"},
    )
    alert_id = record_alert(engine, alert, ["email", "webhook"], now=T)
    assert alert_id is not None
    assert record_alert(engine, alert, ["email"], now=T) is None  # deduplicated
    assert query_alerts(engine) == [alert]
    due = due_outbox(engine, T + timedelta(seconds=1))
    assert [(i.channel, i.alert) for i in due] == [("email", alert), ("webhook", alert)]
    assert claim(engine, due[0], T + timedelta(minutes=1))
    assert not claim(engine, due[0], T + timedelta(minutes=1))  # the attempt was counted
    mark_sent(engine, due[0].id, T + timedelta(seconds=2))
    assert outbox_status(engine, alert_id) == {"email": ("sent", 1), "webhook": ("pending", 0)}

    assert add(engine, "157710", "RA-96016", group="RU_STATE", now=T)
    assert not add(engine, "157710", operator="Rossiya", now=T)
    stored = get(engine, "157710")
    assert stored is not None
    assert (stored.registration, stored.operator, stored.group) == (
        "RA-96016", "Rossiya", "RU_STATE")
    assert stored.updated == T
    assert icaos_for_registration(engine, "ra 96016") == ["157710"]
    assert remove(engine, "157710")
    assert stored_entries(engine) == []
    engine.dispose()


def track_position(icao: str, second: int, fraction: float, source: str) -> TrackPosition:
    return TrackPosition(
        icao=icao, time=T + timedelta(seconds=second + fraction), lat=53.0 + second / 1e4,
        lon=27.0 + int(icao, 16) % 100 / 100, altitude_ft=30000.0, ground_speed_kt=420.0,
        track_deg=90.0, vertical_rate_fpm=0.0, on_ground=False, callsign=f"T{icao}",
        source=source,
    )


def test_two_receivers_write_overlapping_positions_at_once(pg_url: str) -> None:
    """Same aircraft, same seconds, opposite orders, flushes in lock step: one row each.

    Without the writer's key ordering, two transactions inserting the same keys in
    opposite orders deadlock on PostgreSQL; the store would then count failed commits.
    """
    connect(pg_url).dispose()
    icaos = [f"{0x4CA000 + i:06X}" for i in range(60)]
    seconds = range(0, 400, 5)
    batches = 8
    barrier = threading.Barrier(2)
    stores: dict[str, Store] = {}
    errors: list[BaseException] = []

    def receiver(name: str, fraction: float, reverse: bool, only_mine: str) -> None:
        try:
            store = Store(open_engine(pg_url), batch_rows=10**9, receiver=name)
            stores[name] = store
            order = list(reversed(icaos)) if reverse else icaos
            chunk = len(seconds) // batches
            for b in range(batches):
                for icao in order:
                    for second in seconds[b * chunk:(b + 1) * chunk]:
                        store.add_position(track_position(icao, second, fraction, "beast:1"))
                store.add_position(track_position(only_mine, 1000 + b, 0.0, "beast:1"))
                barrier.wait(timeout=30)
                store.flush()
            store.engine.dispose()
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()

    threads = [
        threading.Thread(target=receiver, args=("pi-minsk", 0.2, False, "AAAAAA")),
        threading.Thread(target=receiver, args=("pi-vilnius", 0.7, True, "BBBBBB")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert [s.stats.failed_commits for s in stores.values()] == [0, 0]

    engine = open_engine(pg_url)
    assert not merge_log(engine).abandoned  # both logs into chunks: each second once
    with engine.connect() as conn:
        sources = dict(conn.execute(select(Source.id, Source.name)).all())
    rows = stored_rows(engine)
    assert sorted(sources.values()) == ["pi-minsk/beast:1", "pi-vilnius/beast:1"]
    keys = [(icao, t) for icao, t, *_rest in rows]
    assert len(keys) == len(set(keys)) == len(icaos) * len(seconds) + 2 * batches
    assert count_positions(EngineReader(engine)) == len(keys)  # stored once, not just read
    by_icao = {f"{row[0]:06X}": sources[row[-1]] for row in rows}
    assert by_icao["AAAAAA"] == "pi-minsk/beast:1"
    assert by_icao["BBBBBB"] == "pi-vilnius/beast:1"
    engine.dispose()


def test_two_receivers_replaying_the_same_capture_store_each_moment_once(
    pg_url: str, tmp_path: Path, capture: Callable[[str], Path]
) -> None:
    """Real pipelines: what both heard is stored once; what only one kept is stored too."""
    path = capture("single_aircraft_adsb.csv")

    def pipeline(url: str, receiver: str, interval_s: float) -> Pipeline:
        store = Store(open_engine(url), batch_rows=40, receiver=receiver)
        return Pipeline(store, Tracker(TrackerConfig(store_interval_s=interval_s)))

    def keys(url: str) -> set[tuple[int, int]]:
        engine = open_engine(url)
        try:
            return {(row[0], row[1]) for row in stored_rows(engine)}
        finally:
            engine.dispose()

    alone = set()
    for receiver, interval in (("a", 5.0), ("b", 3.0)):
        url = f"sqlite:///{tmp_path / (receiver + '.db')}"
        connect(url).dispose()
        replay_files(settings_for(tmp_path, url, receiver), [path], fmt="csv",
                     pipeline=pipeline(url, receiver, interval))
        alone |= keys(url)

    connect(pg_url).dispose()
    settings = settings_for(tmp_path, pg_url, "pg")
    pipelines = [pipeline(pg_url, "a", 5.0), pipeline(pg_url, "b", 3.0)]
    threads = [
        threading.Thread(target=replay_files, args=(settings, [path]),
                         kwargs={"fmt": "csv", "pipeline": p})
        for p in pipelines
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [p.store.stats.failed_commits for p in pipelines] == [0, 0]
    assert keys(pg_url) == alone
    engine = open_engine(pg_url)
    with engine.connect() as conn:
        names = set(conn.execute(select(Source.name)).scalars())
    assert names == {"a/replay:single_aircraft_adsb.csv", "b/replay:single_aircraft_adsb.csv"}
    engine.dispose()
