"""MQTT alerts against a real mosquitto on loopback, delivered by the outbox worker."""

from __future__ import annotations

import json
import logging
import re
import time
from datetime import timedelta

import pytest

from flightwatch.alerts.notify import (
    Backoff,
    DeliveryError,
    MqttNotifier,
    MqttSettings,
    OutboxWorker,
    PhoneFormat,
)
from flightwatch.db.alert_queries import pending_count
from flightwatch.db.alerts import dedupe_key, outbox_status, record_alert

pytestmark = pytest.mark.integration

S = timedelta(seconds=1)
TOPIC = "flightwatch/alerts"
CONFIG_TOPIC = re.compile(r"^homeassistant/sensor/[A-Za-z0-9_-]+/[A-Za-z0-9_-]+/config$")


def notifier(port: int, **changes: object) -> MqttNotifier:
    settings = MqttSettings(host="127.0.0.1", port=port, client_id="flightwatch-test",
                            timeout=3.0, **changes)  # type: ignore[arg-type]
    return MqttNotifier(settings, PhoneFormat(track_url="https://globe.example/?icao={icao}"))


def test_an_alert_arrives_once_with_the_cli_field_names(engine, mosquitto, mqtt_subscriber,
                                                        make_alert, t0):
    broker = mosquitto()
    subscriber = mqtt_subscriber(broker.port, f"{TOPIC}/#")
    alert = make_alert()
    alert_id = record_alert(engine, alert, ["mqtt"], now=t0)
    mqtt = notifier(broker.port)
    worker = OutboxWorker(engine, {"mqtt": mqtt})

    assert worker.deliver_due(t0) == (1, 0)
    assert worker.deliver_due(t0 + 3600 * S) == (0, 0)
    time.sleep(0.5)  # time for a duplicate to show up, if there were one
    mqtt.close()

    [message] = subscriber.wait_for(1, TOPIC)
    assert not message.retain
    data = message.json()
    assert {k: data[k] for k in ("time", "icao", "registration", "callsign", "kind",
                                 "geofence", "lat", "lon", "altitude_ft", "matched_by")} == {
        "time": "2026-11-25T10:15:30Z", "icao": "157710", "registration": "RA-96016",
        "callsign": "RSD016", "kind": "enter", "geofence": "belarus", "lat": 53.90123,
        "lon": 27.55, "altitude_ft": 12000.0, "matched_by": "icao"}
    assert data["sources"] == ["beast:127.0.0.1:30005"]
    assert data["dedupe_key"] == dedupe_key(alert)
    assert data["title"] == "RA-96016 Il-96-300PU (Rossiya) entered Belarus"
    assert data["track_url"] == "https://globe.example/?icao=157710"
    [latest] = subscriber.wait_for(1, f"{TOPIC}/157710")
    assert latest.json() == data
    assert outbox_status(engine, alert_id) == {"mqtt": ("sent", 1)}


def test_broker_down_the_alert_waits_and_goes_once_when_it_is_back(
        engine, mosquitto, mqtt_subscriber, make_alert, t0, caplog):
    caplog.set_level(logging.INFO, logger="flightwatch.alerts.notify")
    broker = mosquitto()
    subscriber = mqtt_subscriber(broker.port, TOPIC)
    mqtt = notifier(broker.port)
    worker = OutboxWorker(engine, {"mqtt": mqtt}, backoff=Backoff(first=30))
    record_alert(engine, make_alert(), ["mqtt"], now=t0)
    assert worker.deliver_due(t0) == (1, 0)  # a connection is open when the broker goes

    broker.stop()
    later = make_alert(time=make_alert().time + 600 * S, kind="exit")
    later_id = record_alert(engine, later, ["mqtt"], now=t0)
    assert worker.deliver_due(t0 + 1 * S) == (0, 1)
    assert worker.deliver_due(t0 + 20 * S) == (0, 0)  # held for the backoff
    assert pending_count(engine) == 1

    broker.start()
    assert subscriber.connected.wait(10)
    time.sleep(0.3)  # the subscription is re-made on reconnect
    assert worker.deliver_due(t0 + 31 * S) == (1, 0)
    assert worker.deliver_due(t0 + 3600 * S) == (0, 0)
    time.sleep(0.5)
    mqtt.close()

    kinds = [m.json()["kind"] for m in subscriber.on(TOPIC)]
    assert kinds.count("exit") == 1, kinds
    assert outbox_status(engine, later_id) == {"mqtt": ("sent", 2)}
    lines = [r.getMessage() for r in caplog.records if r.name.endswith("outbox")]
    assert len(lines) == 2, lines
    assert "mqtt notifications failing" in lines[0]
    assert f"MQTT 127.0.0.1:{broker.port}" in lines[0]
    assert "mqtt notifications recovered" in lines[1]


def test_home_assistant_discovery_is_retained_and_well_formed(mosquitto, mqtt_subscriber,
                                                               make_alert):
    broker = mosquitto()
    mqtt = notifier(broker.port, discovery=True)
    mqtt.send(make_alert())
    mqtt.send(make_alert(kind="landed", airport="UMMS", time=make_alert().time + 900 * S))
    mqtt.close()

    # A Home Assistant started later still finds everything: the configs are retained.
    late = mqtt_subscriber(broker.port, "homeassistant/#", f"{TOPIC}/+")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and len(late.messages) < 3:
        time.sleep(0.02)
    configs = {m.topic: m for m in late.messages if m.topic.startswith("homeassistant/")}
    assert set(configs) == {"homeassistant/sensor/flightwatch/last_alert/config",
                            "homeassistant/sensor/flightwatch/157710/config"}
    for topic, message in configs.items():
        assert message.retain, topic
        assert CONFIG_TOPIC.match(topic)
        config = message.json()
        assert {"name", "unique_id", "state_topic", "value_template", "device"} <= set(config)
        assert config["device"]["identifiers"]
        assert "{{ value_json." in config["value_template"]
    hub = configs["homeassistant/sensor/flightwatch/last_alert/config"].json()
    aircraft = configs["homeassistant/sensor/flightwatch/157710/config"].json()
    assert hub["state_topic"] == TOPIC
    assert aircraft["device"]["via_device"] in hub["device"]["identifiers"]
    assert aircraft["device"]["name"] == "RA-96016 (Rossiya)"
    assert aircraft["device"]["model"] == "Il-96-300PU"
    assert hub["unique_id"] != aircraft["unique_id"]
    # The aircraft sensor's state topic holds its latest alert, retained.
    [state] = [m for m in late.messages if m.topic == aircraft["state_topic"]]
    assert state.retain
    assert state.json()["kind"] == "landed"
    assert json.loads(state.payload)["airport"] == "UMMS"


def test_an_alert_from_imported_history_is_no_aircraft_state(mosquitto, mqtt_subscriber,
                                                             make_alert):
    """Importing 2020 must not overwrite what Home Assistant shows as today's last alert."""
    broker = mosquitto()
    mqtt = notifier(broker.port, discovery=True)
    mqtt.send(make_alert(kind="landed", airport="UMMS", retrospective=True))
    mqtt.close()
    late = mqtt_subscriber(broker.port, "homeassistant/#", f"{TOPIC}/+")
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and not late.messages:
        time.sleep(0.02)
    # only the hub's retained config: no aircraft device, no retained per-aircraft state
    assert [m.topic for m in late.messages] == [
        "homeassistant/sensor/flightwatch/last_alert/config"]


def test_username_and_password(mosquitto, make_alert):
    broker = mosquitto(users={"fw": "s3cret-pass"})
    notifier(broker.port, username="fw", password="s3cret-pass").send(make_alert())
    wrong = notifier(broker.port, username="fw", password="wrong")
    with pytest.raises(DeliveryError, match="connection refused") as refused:
        wrong.send(make_alert())
    assert "wrong" not in str(refused.value)


def test_tls_with_a_ca_file_and_an_untrusted_broker(mosquitto, tls, make_alert):
    broker = mosquitto(users={"fw": "s3cret-pass"}, tls=(tls.cert_file, tls.key_file))
    notifier(broker.port, tls=True, ca_file=tls.cert_file, username="fw",
             password="s3cret-pass").send(make_alert())
    untrusting = notifier(broker.port, tls=True, username="fw", password="s3cret-pass")
    with pytest.raises(DeliveryError, match="CERTIFICATE_VERIFY_FAILED"):
        untrusting.send(make_alert())


def test_nobody_listening_is_a_delivery_error(free_port, make_alert):
    with pytest.raises(DeliveryError, match=r"MQTT 127\.0\.0\.1:\d+: .*refused"):
        notifier(free_port()).send(make_alert())


def test_settings_from_the_config_file(tmp_path):
    from flightwatch.alerts.notify import MQTT_PASSWORD_ENV, NotifierConfigError, build_notifiers
    from flightwatch.settings import load_settings

    config = tmp_path / "fw.toml"
    config.write_text('[alerts.mqtt]\nhost = "broker.lan"\nusername = "fw"\n'
                      'topic = "home/flightwatch/"\ndiscovery = true\n', encoding="utf-8")
    settings = load_settings(config, env={})
    with pytest.raises(NotifierConfigError, match=MQTT_PASSWORD_ENV):
        build_notifiers(settings, env={})
    mqtt = build_notifiers(settings, env={MQTT_PASSWORD_ENV: "pw"})["mqtt"]
    assert isinstance(mqtt, MqttNotifier)
    assert (mqtt.settings.host, mqtt.settings.port, mqtt.settings.topic) == (
        "broker.lan", 1883, "home/flightwatch")
    assert (mqtt.settings.username, mqtt.settings.password) == ("fw", "pw")
    assert (mqtt.settings.discovery, mqtt.settings.client_id) == (True, "flightwatch")


@pytest.mark.parametrize("topic", ["flightwatch/#", "a/+/b", "/"])
def test_a_topic_one_cannot_publish_to_is_a_config_error(tmp_path, topic):
    from flightwatch.alerts.notify import NotifierConfigError, build_notifiers
    from flightwatch.settings import load_settings

    config = tmp_path / "fw.toml"
    config.write_text(f'[alerts.mqtt]\nhost = "broker.lan"\ntopic = "{topic}"\n',
                      encoding="utf-8")
    with pytest.raises(NotifierConfigError, match=r"alerts\.mqtt\.topic"):
        build_notifiers(load_settings(config, env={}), env={})
