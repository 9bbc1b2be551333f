"""``alert_near``: the rules' cooldown against every stored alert, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text

from flightwatch.db.alert_record import Alert
from flightwatch.db.alerts import alert_near, record_alert

T = datetime(2020, 8, 19, 10, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
COOLDOWN = 6 * HOUR
INSIDE = ("enter", "first_seen_inside")


def store(engine: Engine, time: datetime, kind: str = "enter", fence: str | None = "belarus",
          icao: str = "157710") -> None:
    record_alert(engine, Alert(time=time, icao=icao, kind=kind, geofence=fence), ())


def test_any_stored_alert_counts_not_only_the_newest(engine: Engine) -> None:
    store(engine, T)
    store(engine, T + 30 * 24 * HOUR)  # a later alert of the same key
    assert alert_near(engine, "157710", "belarus", INSIDE, T + 20 * timedelta(seconds=1),
                      COOLDOWN)
    assert alert_near(engine, "157710", "belarus", INSIDE, T - 5 * HOUR, COOLDOWN)  # before
    assert not alert_near(engine, "157710", "belarus", INSIDE, T + COOLDOWN, COOLDOWN)
    assert not alert_near(engine, "157710", "belarus", INSIDE, T - COOLDOWN, COOLDOWN)


def test_aircraft_fence_and_kind_must_match(engine: Engine) -> None:
    store(engine, T, kind="first_seen_inside")
    store(engine, T, kind="heard_nearby", fence=None, icao="4B1814")
    assert alert_near(engine, "157710", "belarus", INSIDE, T, COOLDOWN)  # same family
    assert not alert_near(engine, "157710", "belarus", ("landed",), T, COOLDOWN)
    assert not alert_near(engine, "157710", "minsk", INSIDE, T, COOLDOWN)
    assert not alert_near(engine, "3C6DD4", "belarus", INSIDE, T, COOLDOWN)
    assert alert_near(engine, "4B1814", None, ("heard_nearby",), T + HOUR, COOLDOWN)
    assert not alert_near(engine, "4B1814", "belarus", ("heard_nearby",), T, COOLDOWN)


def test_the_lookup_uses_the_icao_time_index(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return  # PostgreSQL's planner picks by table size; the index exists (models test)
    store(engine, T)
    with engine.connect() as conn:
        plan = conn.execute(text(
            "EXPLAIN QUERY PLAN SELECT id FROM alerts WHERE icao = '157710' "
            "AND time > '2020-08-19 04:00:00' AND time < '2020-08-19 16:00:00' LIMIT 1"
        )).all()
    assert "ix_alerts_icao_time" in " ".join(str(row) for row in plan)
