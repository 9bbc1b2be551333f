"""Notifications: every alert is logged, stored, and delivered through the outbox.

The rule engine calls :meth:`AlertSink.raise_alert`; that logs the one line and
stores the alert with a pending outbox row per configured channel in one
transaction. The daemon's :class:`OutboxWorker` job delivers those rows (email,
webhook, mail files, Apprise URLs, MQTT) and retries them; see ``alerts.notify.outbox`` for the
delivery guarantee. Nothing here sends anything on the caller's thread, so a
slow or dead channel never holds up decoding.

Errors: ``DeliveryError`` (retried), ``PermanentDeliveryError`` (not retried),
``NotifierConfigError`` (settings unusable; message names the key).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from flightwatch.alerts.notify.chat import AppriseConfigError, build_apprise
from flightwatch.alerts.notify.email import EmailNotifier, SmtpSettings
from flightwatch.alerts.notify.log import alert_line, log_alert
from flightwatch.alerts.notify.mailfile import MailFileNotifier
from flightwatch.alerts.notify.mqtt import MQTT_PASSWORD_ENV, MqttNotifier, MqttSettings
from flightwatch.alerts.notify.outbox import (
    Backoff,
    DeliveryError,
    Notifier,
    OutboxWorker,
    PermanentDeliveryError,
)
from flightwatch.alerts.notify.phone import PhoneFormat, zones_of
from flightwatch.alerts.notify.webhook import WebhookNotifier
from flightwatch.db.airports import AirportIndex
from flightwatch.db.alert_record import Alert
from flightwatch.db.alerts import record_alert
from flightwatch.db.failures import FailureStreak
from flightwatch.decoder.redaction import EnvReferenceError, expand_env, remember_secret

__all__ = [
    "MQTT_PASSWORD_ENV",
    "PASSWORD_ENV",
    "AlertSink",
    "Backoff",
    "DeliveryError",
    "EmailNotifier",
    "MailFileNotifier",
    "MqttNotifier",
    "MqttSettings",
    "Notifier",
    "NotifierConfigError",
    "OutboxWorker",
    "PermanentDeliveryError",
    "PhoneFormat",
    "SmtpSettings",
    "WebhookNotifier",
    "alert_line",
    "build_notifiers",
]

log = logging.getLogger(__name__)

PASSWORD_ENV = "FLIGHTWATCH_SMTP_PASSWORD"


class NotifierConfigError(Exception):
    """The notification settings cannot work; the message names the key to fix."""


class Sections(Protocol):
    """What ``build_notifiers`` reads: ``flightwatch.settings.Settings``."""

    def __getitem__(self, section: str) -> Mapping[str, Any]: ...

    @property
    def geofences(self) -> Sequence[Mapping[str, Any]]: ...


def build_notifiers(
    sections: Sections, env: Mapping[str, str] | None = None, *,
    airports: AirportIndex | None = None,
) -> dict[str, Notifier]:
    """The configured channels: ``email`` if ``alerts.email.host`` is set, ``webhook`` if
    ``alerts.webhook.url`` is, ``mailfile`` if ``alerts.outbox_dir`` is and there is no SMTP,
    ``apprise:<scheme>`` per ``alerts.apprise.urls`` entry, ``mqtt`` if ``alerts.mqtt.host``
    is set. ``airports`` name the nearest airfield in chat messages.
    """
    env = os.environ if env is None else env
    notifiers = _mail_and_webhook(sections, env)
    phone = PhoneFormat(sections["alerts"]["track_url"], zones_of(sections.geofences), airports)
    try:
        notifiers.update(build_apprise(sections["alerts.apprise"]["urls"], env, phone))
    except AppriseConfigError as exc:
        raise NotifierConfigError(str(exc)) from None
    mqtt = sections["alerts.mqtt"]
    if mqtt.get("host"):
        password = _password("alerts.mqtt", mqtt, env, MQTT_PASSWORD_ENV, "MQTT")
        for key in ("topic", "discovery_prefix"):
            if not mqtt[key].strip("/") or any(c in mqtt[key] for c in "#+\0"):
                raise NotifierConfigError(f"alerts.mqtt.{key}: {mqtt[key]!r} is not a topic "
                                          "to publish to (empty, or with # or +)")
        notifiers["mqtt"] = MqttNotifier(MqttSettings(
            host=mqtt["host"], port=mqtt["port"], topic=mqtt["topic"].rstrip("/"),
            client_id=mqtt["client_id"], username=mqtt.get("username"), password=password,
            tls=mqtt["tls"], ca_file=mqtt.get("ca_file"), timeout=mqtt["timeout"],
            discovery=mqtt["discovery"], discovery_prefix=mqtt["discovery_prefix"].rstrip("/"),
        ), phone)
    return notifiers


def _password(section: str, values: Mapping[str, Any], env: Mapping[str, str],
              variable: str, service: str) -> str | None:
    """The password from env ``variable`` (masked in every output from now on); a config
    error when a username needs one."""
    password = env.get(variable)
    if values.get("username") and not password:
        raise NotifierConfigError(
            f"{section}.username is set but env {variable} is empty; "
            f"export the {service} password or remove the username"
        )
    remember_secret(password)
    return password


def _mail_and_webhook(sections: Sections, env: Mapping[str, str]) -> dict[str, Notifier]:
    email = sections["alerts.email"]
    webhook = sections["alerts.webhook"]
    outbox_dir = sections["alerts"].get("outbox_dir")
    notifiers: dict[str, Notifier] = {}
    recipients = tuple(email.get("recipients") or ())
    if email.get("host"):
        if not recipients:
            raise NotifierConfigError("alerts.email.recipients: empty; say who gets the mail")
        password = _password("alerts.email", email, env, PASSWORD_ENV, "SMTP")
        smtp = SmtpSettings(
            host=email["host"], port=email["port"], security=email["security"],
            username=email.get("username"), password=password, sender=email["sender"],
            recipients=recipients, timeout=email["timeout"],
            allow_plaintext_auth=email["allow_plaintext_auth"],
        )
        problem = smtp.plaintext_auth_problem()
        if problem is not None:
            raise NotifierConfigError(problem)
        notifiers["email"] = EmailNotifier(smtp)
        if outbox_dir:
            log.info("alerts.outbox_dir ignored: alerts.email.host is set, mail goes by SMTP")
    elif outbox_dir:
        notifiers["mailfile"] = MailFileNotifier(outbox_dir, email["sender"], recipients)
    if webhook.get("url"):
        try:
            url, secrets = expand_env(webhook["url"], env, "alerts.webhook.url")
        except EnvReferenceError as exc:
            raise NotifierConfigError(str(exc)) from None
        notifiers["webhook"] = WebhookNotifier(url, webhook["timeout"], secrets=secrets)
    return notifiers


class AlertSink:
    """What the rule engine calls: log the alert, then store it with its notifications
    and its picture.

    ``picture`` draws the alert's map (PNG bytes, or None): once, here, so that every
    channel and every retry sends the same one. A database that is locked or down does
    not lose the alert: it is kept in memory and stored by the next :meth:`raise_alert`
    or :meth:`flush` (the daemon calls ``flush`` from the outbox job). Never raises.
    """

    def __init__(self, engine: Engine, channels: Iterable[str],
                 picture: Callable[[Alert], bytes | None] | None = None) -> None:
        self.engine = engine
        self.channels = tuple(channels)
        self.picture = picture
        self._unrecorded: list[tuple[Alert, bytes | None]] = []
        self._lock = threading.Lock()
        self._writes = FailureStreak(log, "storing alerts again")

    def raise_alert(self, alert: Alert) -> int | None:
        """Log and store ``alert``; its id, or None (already stored, or kept for later)."""
        log_alert(alert)
        png = self.picture(alert) if self.picture is not None else None
        with self._lock:
            self._unrecorded.append((alert, png))
            ids = self._record_kept()
        return ids.get(id(alert))

    def flush(self) -> int:
        """Store alerts kept after a database failure; return how many are still waiting."""
        with self._lock:
            self._record_kept()
            return len(self._unrecorded)

    def _record_kept(self) -> dict[int, int | None]:
        ids: dict[int, int | None] = {}
        while self._unrecorded:
            alert, png = self._unrecorded[0]
            try:
                ids[id(alert)] = record_alert(self.engine, alert, self.channels, picture=png)
            except SQLAlchemyError as exc:
                self._writes.failed("cannot store alerts, keeping %d in memory: %s",
                                    len(self._unrecorded), exc)
                break
            self._unrecorded.pop(0)
            self._writes.succeeded()
        return ids
