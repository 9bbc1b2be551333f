"""Observed and inferred landings and takeoffs at Minsk National, replayed through the real
pipeline: the flights rows and the alerts for each story of tests/landing_scenarios.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from landing_scenarios import CRUISE, START, Scenario, frames_of, merged, scenarios

from flightwatch.daemon.alerting import build_alerting
from flightwatch.daemon.pipeline import build_pipeline
from flightwatch.daemon.replay import replay_files
from flightwatch.db import connect
from flightwatch.db.alert_queries import query_alerts
from flightwatch.db.alert_record import Alert
from flightwatch.db.flight_queries import FlightRow, query_flights
from flightwatch.decoder import Frame
from flightwatch.settings import load_settings
from tools.capture_writer import write_tsv
from tools.simulate import Flight

CONFIRM_S = 15  # a stored position every 5 s, two to confirm a change, CPR pairing


def at(t: float | None) -> datetime:
    assert t is not None
    return datetime.fromtimestamp(t, UTC)


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Scenario]]:
    folder = tmp_path_factory.mktemp("landings")
    chosen = scenarios()
    with (folder / "landings.tsv").open("w", encoding="ascii", newline="\n") as out:
        write_tsv(merged(chosen), out)
    config = folder / "flightwatch.toml"
    config.write_text(
        '[database]\nurl = "sqlite:///fw.db"\n\n'
        "[receiver]\nlat = 53.93\nlon = 27.60\n",  # Minsk: surface positions need a reference
        encoding="utf-8",
    )
    settings = load_settings(config)
    summary = replay_files(settings, [folder / "landings.tsv"])
    assert summary.aircraft == len(chosen) and summary.bad_crc == 0
    return config, chosen


def rows(config: Path, icao: str) -> tuple[list[FlightRow], list[Alert]]:
    engine = connect(load_settings(config).database_url)
    try:
        return (query_flights(engine, icaos=[icao]),
                [a for a in query_alerts(engine, icao=icao)])
    finally:
        engine.dispose()


def kinds(alerts: list[Alert]) -> list[tuple[str, str | None, str | None]]:
    return [(a.kind, a.airport, a.evidence) for a in alerts]


def test_a_landing_heard_on_the_runway_is_observed(
    replayed: tuple[Path, dict[str, Scenario]],
) -> None:
    config, chosen = replayed
    truth = chosen["observed"]
    (flight,), alerts = rows(config, truth.icao)
    assert (flight.arrival_airport, flight.arrival_evidence) == ("UMMS", "observed")
    touchdown = at(truth.touchdown)
    assert flight.arrival_time is not None
    assert touchdown - timedelta(seconds=1) <= flight.arrival_time  # whole seconds
    assert flight.arrival_time <= touchdown + timedelta(seconds=CONFIRM_S)
    assert kinds(alerts) == [("first_seen_inside", None, None), ("landed", "UMMS", "observed")]


def test_silent_on_the_approach_then_climbing_out_is_an_inferred_turnaround(
    replayed: tuple[Path, dict[str, Scenario]],
) -> None:
    """The issue's Il-96: heard down to ~300 ft on final, silent 40 minutes, heard climbing
    out. One arrival, inferred at the loss and confirmed by the take-off, one departure,
    inferred, the time on the ground between them, a landed alert and no went_silent for
    the silence."""
    config, chosen = replayed
    truth = chosen["inferred"]
    (arrived, left), alerts = rows(config, truth.icao)
    assert (arrived.arrival_airport, arrived.arrival_evidence) == ("UMMS", "confirmed")
    assert arrived.arrival_time is not None and left.departure_time is not None
    last_heard = at(truth.last_heard)
    # 1 NM to go at 140 kt: about 26 s after the last position, rounded to whole seconds.
    assert last_heard + timedelta(seconds=15) <= arrived.arrival_time
    assert arrived.arrival_time <= last_heard + timedelta(seconds=40)
    assert (left.departure_airport, left.departure_evidence) == ("UMMS", "inferred")
    first_heard = at(truth.first_heard)
    # first heard 800 ft above the field climbing ~1,500 fpm: lifted off half a minute before
    assert first_heard - timedelta(minutes=1) <= left.departure_time <= first_heard
    assert left.turnaround_s == round((left.departure_time - arrived.arrival_time)
                                      .total_seconds())
    assert 38 * 60 <= left.turnaround_s <= 41 * 60  # 40 min of silence, less the roll-outs
    assert kinds(alerts) == [
        ("first_seen_inside", None, None), ("landed", "UMMS", "inferred"),
        ("took_off", "UMMS", "inferred"), ("went_silent", None, None),
    ]
    landed = alerts[1]
    assert landed.time.replace(microsecond=0) == arrived.arrival_time  # flights: whole seconds
    assert landed.details["runway"] == "31L"
    assert alerts[3].time > left.departure_time  # the silence at the capture's end


def test_a_touch_and_go_lands_and_takes_off_again(
    replayed: tuple[Path, dict[str, Scenario]],
) -> None:
    config, chosen = replayed
    (landed, again), alerts = rows(config, chosen["touch_and_go"].icao)
    assert (landed.arrival_airport, landed.arrival_evidence) == ("UMMS", "observed")
    assert (again.departure_airport, again.departure_evidence) == ("UMMS", "observed")
    assert again.turnaround_s is not None and 0 <= again.turnaround_s <= 30
    assert kinds(alerts) == [
        ("first_seen_inside", None, None), ("landed", "UMMS", "observed"),
        ("took_off", "UMMS", "observed"), ("went_silent", None, None),
    ]


@pytest.mark.parametrize("story", ["go_around", "overflight", "cruise"])
def test_silent_but_not_landing(replayed: tuple[Path, dict[str, Scenario]], story: str) -> None:
    """A go-around climbing away, a low crossing of the field at 180 kt, a loss at cruise:
    went silent inside Belarus, landed nowhere."""
    config, chosen = replayed
    (flight,), alerts = rows(config, chosen[story].icao)
    assert (flight.arrival_airport, flight.arrival_time, flight.arrival_evidence) == (
        None, None, None)
    assert flight.departure_airport is None
    assert kinds(alerts) == [("first_seen_inside", None, None), ("went_silent", None, None)]
    assert alerts[1].geofence == "belarus"


def test_first_heard_climbing_out_at_800_ft_departed(
    replayed: tuple[Path, dict[str, Scenario]],
) -> None:
    config, chosen = replayed
    truth = chosen["departure"]
    (flight,), alerts = rows(config, truth.icao)
    assert (flight.departure_airport, flight.departure_evidence) == ("UMMS", "inferred")
    assert flight.departure_time is not None
    # 800 ft above the field climbing ~1,500 fpm: lifted off half a minute before first heard
    assert flight.first_seen - timedelta(minutes=1) <= flight.departure_time < flight.first_seen
    first_heard = at(truth.first_heard)
    assert first_heard - timedelta(seconds=1) <= flight.first_seen
    assert flight.first_seen <= first_heard + timedelta(seconds=CONFIRM_S)
    assert flight.turnaround_s is None  # no arrival before it
    assert kinds(alerts) == [  # the take-off, estimated, before it was first heard inside
        ("took_off", "UMMS", "inferred"), ("first_seen_inside", None, None),
        ("went_silent", None, None),
    ]


def test_replaying_again_adds_nothing(replayed: tuple[Path, dict[str, Scenario]]) -> None:
    config, _chosen = replayed
    engine = connect(load_settings(config).database_url)
    before = (query_flights(engine), query_alerts(engine))
    replay_files(load_settings(config), [config.parent / "landings.tsv"])
    assert (query_flights(engine), query_alerts(engine)) == before
    engine.dispose()


def test_the_live_day_and_its_replay_raise_the_same_alerts(
    replayed: tuple[Path, dict[str, Scenario]], tmp_path: Path,
) -> None:
    """The daemon's way: frames as they arrive and a wall-clock tick expiring tracks every
    second, going on after the last frame. The replay's way: expiry on the capture's
    clock, every aircraft lost at the end. Same alerts, same flights."""
    config, chosen = replayed
    live_config = tmp_path / "live.toml"
    live_config.write_text(config.read_text(encoding="utf-8"), encoding="utf-8")
    settings = load_settings(live_config)
    engine = connect(settings.database_url)
    pipeline = build_pipeline(settings, engine, alerting=build_alerting(settings, engine))
    timed = merged(chosen)
    tick = timed[0][0]
    for t, message in timed:
        while tick <= t:
            pipeline.expire(at(tick))
            tick += 1.0
        pipeline.feed(Frame(message, t, "replay:landings.tsv"))
    for _second in range(int(pipeline.tracker.expire_after.total_seconds()) + 2):
        pipeline.expire(at(tick))
        tick += 1.0
    assert pipeline.close()

    def story(db_config: Path) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
        db = connect(load_settings(db_config).database_url)
        alerts = [(a.icao, a.kind, a.time, a.airport, a.evidence, a.geofence, a.details)
                  for a in query_alerts(db)]
        flights = [(f.icao, f.first_seen, f.departure_airport, f.departure_time,
                    f.departure_evidence, f.arrival_airport, f.arrival_time, f.arrival_evidence,
                    f.turnaround_s) for f in query_flights(db)]
        db.dispose()
        return alerts, flights

    live, replay = story(live_config), story(config)
    assert live == replay
    assert sum(1 for a in live[0] if a[1] == "went_silent") == 6
    assert all(a[6]["silent_for_s"] == 60 for a in live[0] if a[1] == "went_silent")


def test_alone_in_the_capture_a_silence_is_still_a_silence(tmp_path: Path) -> None:
    """One aircraft, nobody else to move the capture's clock during its 30-minute silence:
    it is lost when it is heard again, before that observation revives it."""
    before = Flight(CRUISE, "RSD208", [(53.5, 26.5, 35000, 450), (53.6, 27.5, 35000, 450)],
                    START)
    after = Flight(CRUISE, "RSD208", [(53.7, 28.5, 35000, 450), (53.8, 29.5, 35000, 450)],
                   at(before.end_time + 30 * 60))
    capture = tmp_path / "alone.tsv"
    with capture.open("w", encoding="ascii", newline="\n") as out:
        write_tsv(frames_of([before]) + frames_of([after]), out)
    config = tmp_path / "fw.toml"
    config.write_text('[database]\nurl = "sqlite:///fw.db"\n', encoding="utf-8")
    replay_files(load_settings(config), [capture])
    _flights, alerts = rows(config, CRUISE)
    silent = [a for a in alerts if a.kind == "went_silent"]
    assert len(silent) == 1  # mid-capture; the one at its end falls in the cooldown
    assert at(before.end_time) - timedelta(seconds=2) <= silent[0].time <= at(before.end_time)
    assert silent[0].details["silent_for_s"] == 60
