"""MQTT: each alert as JSON to a topic, QoS 1, optionally announced to Home Assistant.

Delivered means PUBACK: ``send`` returns only once the broker acknowledged the
alert, so the outbox guarantee holds (a broker that is down leaves the row
pending). The session is persistent (fixed client id, clean_session false).
After any failure the client is thrown away with its in-memory queue, so paho
never re-sends behind the outbox's back; the one duplicate QoS 1 allows (PUBACK
lost) carries the same ``dedupe_key`` as the first copy.

Topics: every alert on ``topic`` (not retained); the latest live alert per aircraft,
retained, on ``topic/<icao>`` (an alert from imported history is no aircraft's state).
With ``discovery`` on, Home Assistant gets one
``flightwatch`` device with a "Last alert" sensor, and one device per aircraft
that raised an alert, with a sensor whose state is the latest alert's kind and
whose attributes are the alert's fields (discovery config messages retained).
"""

from __future__ import annotations

import json
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flightwatch.alerts.notify.outbox import DeliveryError
from flightwatch.alerts.notify.phone import PhoneFormat
from flightwatch.db.alert_record import Alert
from flightwatch.db.alerts import dedupe_key

MQTT_PASSWORD_ENV = "FLIGHTWATCH_MQTT_PASSWORD"
HUB_ID = "flightwatch"
KEEPALIVE_S = 60


@dataclass(frozen=True, slots=True)
class MqttSettings:
    """The ``[alerts.mqtt]`` section, with the password taken from the environment."""

    host: str
    port: int = 1883
    topic: str = "flightwatch/alerts"
    client_id: str = "flightwatch"
    username: str | None = None
    password: str | None = None
    tls: bool = False
    ca_file: Path | None = None
    timeout: float = 10.0
    discovery: bool = False
    discovery_prefix: str = "homeassistant"


def alert_payload(alert: Alert, phone: PhoneFormat) -> dict[str, Any]:
    """The alert's fields (as ``flightwatch alerts --format json``, texts as received) plus
    the title a dashboard shows (texts made safe to show) and the track link."""
    return {**alert.to_dict(), "id": alert.id, "dedupe_key": dedupe_key(alert),
            "title": phone.title(alert.for_display()), "track_url": phone.track_link(alert)}


def _hub_device() -> dict[str, Any]:
    return {"identifiers": [HUB_ID], "name": "flightwatch", "manufacturer": "flightwatch",
            "model": "ADS-B watch"}


def hub_discovery(s: MqttSettings) -> tuple[str, dict[str, Any]]:
    """The "Last alert" sensor of the flightwatch device: its config topic and payload."""
    return f"{s.discovery_prefix}/sensor/{HUB_ID}/last_alert/config", {
        "name": "Last alert",
        "unique_id": f"{HUB_ID}_last_alert",
        "state_topic": s.topic,
        "value_template": "{{ value_json.title[:255] }}",
        "json_attributes_topic": s.topic,
        "icon": "mdi:airplane-alert",
        "device": _hub_device(),
        "origin": {"name": "flightwatch"},
    }


def aircraft_discovery(s: MqttSettings, alert: Alert) -> tuple[str, dict[str, Any]]:
    """A device and sensor for one aircraft; state: kind of its latest alert."""
    icao = alert.icao.lower()
    details = alert.details
    name = alert.registrations()[0] or alert.icao
    operator = details.get("operator")
    model = details.get("aircraft_type") or details.get("type")
    device: dict[str, Any] = {
        "identifiers": [f"{HUB_ID}_{icao}"],
        "name": f"{name} ({operator})" if operator else name,
        "via_device": HUB_ID,
    }
    if model:
        device["model"] = str(model)
    return f"{s.discovery_prefix}/sensor/{HUB_ID}/{icao}/config", {
        "name": "Latest alert",
        "unique_id": f"{HUB_ID}_{icao}_alert",
        "state_topic": f"{s.topic}/{icao}",
        "value_template": "{{ value_json.kind }}",
        "json_attributes_topic": f"{s.topic}/{icao}",
        "icon": "mdi:airplane",
        "device": device,
        "origin": {"name": "flightwatch"},
    }


class MqttNotifier:
    """Publishes alerts to one broker; one connection kept open between alerts."""

    channel = "mqtt"

    def __init__(self, settings: MqttSettings, phone: PhoneFormat, *,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.settings = settings
        self.phone = phone
        # The context is a seam for tests (a self-signed broker); default: system CAs.
        self._ssl_context = ssl_context
        self._client: Any = None
        self._announced: set[str] = set()
        self._lock = threading.Lock()

    @property
    def where(self) -> str:
        return f"MQTT {self.settings.host}:{self.settings.port}"

    def send(self, alert: Alert) -> None:
        with self._lock:
            try:
                self._send(alert)
            except DeliveryError:
                self._drop()
                raise

    def close(self) -> None:
        with self._lock:
            self._drop()

    def _send(self, alert: Alert) -> None:
        s = self.settings
        client = self._connected()
        payload = alert_payload(alert, self.phone)
        icao = alert.icao.lower()
        # Neither notify-test's message nor an alert from imported history is the
        # aircraft's latest state: no device, no retained per-aircraft message for them.
        if alert.kind != "test" and not alert.retrospective:
            if s.discovery and icao not in self._announced:
                self._publish(client, *aircraft_discovery(s, alert), retain=True)
                self._announced.add(icao)
            self._publish(client, f"{s.topic}/{icao}", payload, retain=True)
        # Last: once this is acknowledged the alert is delivered, nothing can fail after it.
        self._publish(client, s.topic, payload, retain=False)

    def _connected(self) -> Any:
        if self._client is not None and self._client.is_connected():
            return self._client
        self._drop()
        client = self._connect()
        self._client = client
        self._announced.clear()  # a broker without persistence forgot the retained configs
        if self.settings.discovery:
            self._publish(client, *hub_discovery(self.settings), retain=True)
        return client

    def _connect(self) -> Any:
        from paho.mqtt.client import CallbackAPIVersion, Client, MQTTProtocolVersion

        s = self.settings
        client = Client(CallbackAPIVersion.VERSION2, client_id=s.client_id, clean_session=False,
                        protocol=MQTTProtocolVersion.MQTTv311)
        client.connect_timeout = s.timeout
        if s.username:
            client.username_pw_set(s.username, s.password)
        if s.tls:
            context = self._ssl_context or ssl.create_default_context(
                cafile=str(s.ca_file) if s.ca_file else None)
            client.tls_set_context(context)
        answered = threading.Event()
        outcome: list[Any] = []

        def on_connect(_client: Any, _userdata: Any, _flags: Any, reason: Any,
                       _properties: Any) -> None:
            outcome.append(reason)
            answered.set()

        client.on_connect = on_connect
        try:
            client.connect(s.host, s.port, KEEPALIVE_S)
        except (OSError, ValueError) as exc:
            raise DeliveryError(f"{self.where}: {exc}") from exc
        client.loop_start()
        self._client = client  # so that _drop stops its thread if the CONNACK never comes
        if not answered.wait(s.timeout):
            raise DeliveryError(f"{self.where}: no CONNACK within {s.timeout:g} s")
        if outcome[0].is_failure:
            raise DeliveryError(f"{self.where}: connection refused: {outcome[0]}")
        return client

    def _publish(self, client: Any, topic: str, payload: dict[str, Any], *,
                 retain: bool) -> None:
        from paho.mqtt.client import MQTT_ERR_SUCCESS, error_string

        data = json.dumps(payload, ensure_ascii=False, sort_keys=True)
        info = client.publish(topic, data, qos=1, retain=retain)
        if info.rc != MQTT_ERR_SUCCESS:
            raise DeliveryError(f"{self.where}: publish to {topic}: {error_string(info.rc)}")
        try:
            info.wait_for_publish(self.settings.timeout)
        except (RuntimeError, ValueError) as exc:
            raise DeliveryError(f"{self.where}: publish to {topic}: {exc}") from exc
        if not info.is_published():
            raise DeliveryError(
                f"{self.where}: no PUBACK for {topic} within {self.settings.timeout:g} s")

    def _drop(self) -> None:
        """Forget the client and whatever paho still queues for it."""
        client, self._client = self._client, None
        if client is not None:
            client.disconnect()
            client.loop_stop()
