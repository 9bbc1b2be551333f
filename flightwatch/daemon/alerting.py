"""Alert delivery for one process: the sink the rules raise into, and the outbox worker."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine

from flightwatch.airports import airport_index
from flightwatch.alerts.notify import AlertSink, Backoff, OutboxWorker, build_notifiers
from flightwatch.db.airport_queries import stored_airports
from flightwatch.db.airports import AirportIndex
from flightwatch.db.alert_queries import pending_count
from flightwatch.db.alert_record import Alert
from flightwatch.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Alerting:
    sink: AlertSink
    worker: OutboxWorker
    engine: Engine

    def deliver(self) -> tuple[int, int]:
        """Store alerts the sink still holds (database was locked), then send what is due."""
        self.sink.flush()
        return self.worker.deliver_due()

    def pending(self) -> int:
        return pending_count(self.engine)


def chat_airports(settings: Settings, engine: Engine) -> AirportIndex | None:
    """The airports that name the nearest airfield in chat and MQTT alerts (None when no
    such channel is configured): the process's one index (its world part is shared)."""
    if not (settings["alerts.apprise"]["urls"] or settings["alerts.mqtt"]["host"]):
        return None
    return airport_index(settings, stored_airports(engine))


def build_alerting(settings: Settings, engine: Engine) -> Alerting:
    """Raises ``NotifierConfigError`` (exit 2) when a channel is misconfigured."""
    notifiers = build_notifiers(settings, airports=chat_airports(settings, engine))
    alerts = settings["alerts"]
    backoff = Backoff(first=alerts["retry_first"], cap=alerts["retry_max"],
                      give_up_after=alerts["give_up_after"])
    if notifiers:
        log.info("alert channels: %s", ", ".join(sorted(notifiers)))
    return Alerting(AlertSink(engine, notifiers, picture=pictures_of(settings)),
                    OutboxWorker(engine, notifiers, backoff=backoff), engine)


def pictures_of(settings: Settings) -> Callable[[Alert], bytes | None] | None:
    """What draws each alert's picture (``alerts.pictures``), or None."""
    if not settings["alerts"]["pictures"]:
        return None
    from flightwatch.output.alert_picture import alert_pictures

    return alert_pictures(settings)
