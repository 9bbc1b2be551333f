"""A capture built with the encoder, replayed through the real pipeline into SQLite:
the watched arrival into Minsk alerts once per event, nobody else alerts at all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flightwatch.alerts.geofence import Geofence
from flightwatch.daemon.replay import replay_files
from flightwatch.db import connect
from flightwatch.db.alert_queries import query_alerts
from flightwatch.settings import load_settings
from tools.capture_writer import write_tsv
from tools.simulate import Flight, Rates, destination, frames

CONFIG = Path(__file__).resolve().parents[2] / "config"
START = datetime(2024, 5, 1, 9, 40, tzinfo=UTC)
UMMS = (53.888071, 28.039964)
FINAL_TRACK = 318.0  # landing towards the north-west, as on runway 31
RATES = Rates(position_s=2.0, velocity_s=6.0, identification_s=12.0, surveillance_s=30.0)

WATCHED = "157710"  # RA-96016 (config/watchlist.csv)
WATCHED_OUTSIDE = "1400AA"  # RF-00170, Russian Customs Ka-32 (config/watchlist.csv)
UNWATCHED = "3C6DD4"


def on_final(distance_nm: float) -> tuple[float, float]:
    return destination(*UMMS, (FINAL_TRACK + 180) % 360, distance_nm)


def flights() -> list[Flight]:
    arrival = Flight(
        WATCHED,
        "RSD016",
        [
            (54.30, 32.30, 33000, 450),  # over Russia, west of Smolensk
            (54.10, 30.50, 25000, 400),  # inside Belarus, descending
            (*on_final(20), 4500, 220),
            (*on_final(8), 3200, 155),
            (*on_final(0.5), 670, 135),  # touchdown; Minsk National is at 670 ft
        ],
        START,
        on_ground_at_end=True,
        parked_s=60.0,
    )
    overflight = Flight(
        UNWATCHED,
        "DLH1447",
        [(54.55, 32.20, 38000, 470), (54.00, 27.00, 38000, 470)],
        START + timedelta(minutes=2),
    )
    stays_outside = Flight(  # a helicopter north-east of Smolensk, flying away from Belarus
        WATCHED_OUTSIDE,
        "RF00170",
        [(54.90, 32.80, 3000, 120), (55.30, 33.60, 3000, 120)],
        START + timedelta(minutes=1),
    )
    return [arrival, overflight, stays_outside]


def first_inside(flight: Flight, fence: Geofence) -> datetime:
    """When the simulated truth first crosses into the fence (1-s resolution)."""
    t = flight.start_time
    while not fence.contains(*flight.state_at(t)[:2]):
        t += 1.0
        assert t <= flight.end_time, "the flight never enters the fence"
    return datetime.fromtimestamp(t, UTC)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Flight]]:
    folder = tmp_path_factory.mktemp("e2e")
    chosen = flights()
    capture = folder / "arrival.tsv"
    with capture.open("w", encoding="ascii", newline="\n") as out:
        write_tsv(frames(chosen, RATES, seed=7), out)
    config = folder / "flightwatch.toml"
    config.write_text(
        '[database]\nurl = "sqlite:///fw.db"\n\n'
        "[receiver]\nlat = 53.93\nlon = 27.60\n",  # Minsk: surface positions need a reference
        encoding="utf-8",
    )
    return config, chosen


def test_replay_alerts_once_for_the_watched_arrival_only(
    scenario: tuple[Path, list[Flight]],
) -> None:
    config, chosen = scenario
    settings = load_settings(config)
    capture = config.parent / "arrival.tsv"
    summary = replay_files(settings, [capture])
    assert summary.aircraft == 3 and summary.bad_crc == 0

    engine = connect(settings.database_url)
    alerts = query_alerts(engine)
    assert [a.icao for a in alerts if a.icao != WATCHED] == []
    assert [a.kind for a in alerts] == ["approaching", "enter", "landed"]
    approaching, enter, landed = alerts

    belarus = Geofence.from_file(CONFIG / "geofences" / "belarus.geojson")
    crossed = first_inside(chosen[0], belarus)
    assert enter.geofence == "belarus"
    assert crossed <= enter.time <= crossed + timedelta(seconds=30)
    assert approaching.time < crossed
    assert approaching.details["eta_s"] > 0

    touchdown = datetime.fromtimestamp(chosen[0].touchdown_time or 0, UTC)
    assert (landed.airport, landed.geofence) == ("UMMS", "belarus")
    assert touchdown <= landed.time <= touchdown + timedelta(seconds=30)

    for alert in alerts:
        assert alert.registration == "RA-96016" and alert.callsign == "RSD016"
        assert (alert.matched_by, alert.confidence) == ("icao", "high")
        assert alert.sources == ("local/replay:arrival.tsv",)  # as its positions are stored
        assert alert.details["group"] == "RU_STATE_TRANSPORT_RSD"

    again = replay_files(settings, [capture])
    assert again.frames == summary.frames
    assert [a.kind for a in query_alerts(engine)] == ["approaching", "enter", "landed"]


def test_a_restart_does_not_repeat_an_alert_within_its_cooldown(tmp_path: Path) -> None:
    """The cooldown outlives the process: alerts already in the database count."""
    from datetime import UTC, datetime, timedelta

    from flightwatch.daemon.alerting import build_alerting
    from flightwatch.daemon.pipeline import build_pipeline
    from flightwatch.db import connect
    from flightwatch.decoder import Frame
    from flightwatch.settings import load_settings
    from tools.simulate import Flight, Rates, frames

    config = tmp_path / "fw.toml"
    config.write_text('[database]\nurl = "sqlite:///fw.db"\n')
    settings = load_settings(config, env={})
    start = datetime(2020, 8, 19, 9, 0, tzinfo=UTC)

    def run(begin: datetime) -> list[str]:
        engine = connect(settings.database_url)
        pipeline = build_pipeline(settings, engine, alerting=build_alerting(settings, engine))
        flight = Flight(
            "157710", "RSD016", [(53.95, 27.9, 12000, 300), (53.95, 27.5, 12000, 300)], begin
        )
        for t, hex_ in frames([flight], Rates()):
            if t > begin.timestamp() + 60:
                break
            pipeline.feed(Frame(hex_, t, "beast"))
        assert pipeline.close()
        from flightwatch.db.alert_queries import query_alerts

        return [a.kind for a in query_alerts(engine)]

    assert run(start) == ["first_seen_inside"]
    # "Restarted" ten minutes later, the aircraft still inside: nothing new.
    assert run(start + timedelta(minutes=10)) == ["first_seen_inside"]


@pytest.mark.integration
def test_replay_sends_each_alert_once_to_chat_and_mqtt(
    scenario: tuple[Path, list[Flight]], tmp_path: Path, httpserver, mosquitto, mqtt_subscriber,
) -> None:
    """The shipped path: settings -> build_alerting -> outbox -> Apprise and a real broker."""
    config, _chosen = scenario
    httpserver.expect_request("/chat").respond_with_data("ok")
    broker = mosquitto()
    subscriber = mqtt_subscriber(broker.port, "fw/alerts")
    chat_config = tmp_path / "flightwatch.toml"
    chat_config.write_text(
        config.read_text(encoding="utf-8")
        + f'\n[alerts.apprise]\nurls = ["json://127.0.0.1:{httpserver.port}/chat"]\n'
        f'\n[alerts.mqtt]\nhost = "127.0.0.1"\nport = {broker.port}\ntopic = "fw/alerts"\n',
        encoding="utf-8",
    )
    summary = replay_files(load_settings(chat_config), [config.parent / "arrival.tsv"])
    assert (summary.notifications_sent, summary.notifications_pending) == (6, 0)

    titles = [request.get_json()["title"] for request, _response in httpserver.log]
    aircraft = "RA-96016 Ilyushin IL-96-300PU (Russia Special Flight Detachment)"
    assert titles == [f"{aircraft} approaching Belarus", f"{aircraft} entered Belarus",
                      f"{aircraft} landed at UMMS (Belarus)"]
    landed = httpserver.log[2][0].get_json()["message"]
    assert "Where: Belarus, at UMMS Minsk National Airport" in landed
    assert "Minsk)" in landed.splitlines()[0]  # the local time of the fence
    messages = subscriber.wait_for(3, "fw/alerts")
    assert [m.json()["kind"] for m in messages] == ["approaching", "enter", "landed"]
