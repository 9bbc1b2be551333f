"""The outbox worker: delivers stored notifications, retrying each channel with backoff.

Delivery guarantee. Each notification is an ``outbox`` row written with its
alert in one transaction. The worker counts an attempt and schedules the retry
*before* sending (``claim``), sends, and marks the row sent in its own commit
right after the channel accepted it. So:

- nothing is lost: a channel that is down, a restart or a kill -9 leaves the
  row pending, and it goes out when the channel answers again;
- no duplicates in any run without a crash: a row is sent only after a
  successful claim, and marked sent straight after the channel accepted it;
- a channel that takes pictures (mail, most chat apps) gets the one stored with the
  alert when it was raised: every retry attaches the same picture;
- a crash (or a lost database) in the few milliseconds between the channel
  accepting and the commit of ``sent`` sends that one notification again after
  the restart: at-least-once at the transport level. Receivers can drop the
  copy: the mail has the same Message-ID, the webhook the same Idempotency-Key
  and a mail file the same file name, all derived from the alert's dedupe key.

A row may carry a ready-made mail instead of an alert (the daily digest): it goes to
the channels that carry mail (:class:`MailNotifier`) under the same guarantee.

A channel that fails is held (not tried for its other rows) until its next
retry time, so one dead SMTP server costs one connection attempt per backoff
step, never blocks another channel, and logs one line when it starts failing
and one when it recovers. A channel that rejects notifications for good (a
revoked chat token) logs the first rejection, then only at debug level until
it delivers again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from flightwatch.db import alerts as store
from flightwatch.db.alert_record import Alert
from flightwatch.decoder.redaction import redact

log = logging.getLogger(__name__)


class Notifier(Protocol):
    """One delivery channel. ``send`` returns once the far end accepted the alert."""

    channel: str

    def send(self, alert: Alert) -> None:
        """Deliver ``alert``; raise on failure (PermanentDeliveryError: do not retry)."""
        ...


@runtime_checkable
class PictureNotifier(Notifier, Protocol):
    """A channel that can carry the alert's picture (mail, chat apps that take files)."""

    @property
    def takes_pictures(self) -> bool:
        """Whether this channel attaches pictures (an Apprise service may not)."""
        ...

    def send_with_picture(self, alert: Alert, picture: bytes) -> None:
        """Deliver ``alert`` with its picture (PNG) attached; raise as ``send`` does."""
        ...


@runtime_checkable
class MailNotifier(Notifier, Protocol):
    """A channel that carries a ready-made mail (SMTP, the mail folder)."""

    def send_mail(self, name: str, message: bytes) -> None:
        """Deliver the mail (RFC 5322 bytes; ``name``: its file name in a mail folder);
        raise as ``send`` does."""
        ...


class DeliveryError(Exception):
    """The channel did not accept the notification; it will be retried."""


class PermanentDeliveryError(DeliveryError):
    """The channel rejected the notification for good (retrying cannot help)."""


@dataclass(frozen=True, slots=True)
class Backoff:
    """Retry delays: ``first`` seconds, doubling up to ``cap``; give up after ``give_up_after``."""

    first: float = 30.0
    cap: float = 3600.0
    give_up_after: float = 7 * 86400.0

    def delay(self, attempt: int) -> timedelta:
        """Wait before retry number ``attempt`` (1 = after the first failure)."""
        exponent = min(max(attempt - 1, 0), 32)
        return timedelta(seconds=min(self.first * 2**exponent, self.cap))


def describe(exc: BaseException) -> str:
    """One line for logs, ``outbox.last_error`` and ``notify-test``, secrets redacted (a
    library's error may quote the URL it failed on); a notifier bug also names its type."""
    text = redact(" ".join(str(exc).split()))
    if isinstance(exc, DeliveryError) and text:
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class OutboxWorker:
    """Delivers due outbox rows through the configured notifiers.

    The daemon calls :meth:`resume` once at start and :meth:`deliver_due` from a
    scheduler job every few seconds. Neither raises: a broken notifier or a
    locked database is logged and tried again on the next call.
    """

    def __init__(
        self,
        engine: Engine,
        notifiers: Mapping[str, Notifier],
        *,
        backoff: Backoff | None = None,
        batch: int = 50,
    ) -> None:
        self.engine = engine
        self.notifiers = dict(notifiers)
        self.backoff = backoff or Backoff()
        self.batch = batch
        self._held_until: dict[str, datetime] = {}
        self._failing: set[str] = set()
        self._rejecting: set[str] = set()
        self._unconfigured_logged: set[str] = set()
        # Delivered, but the database refused the "sent" mark: never send these again.
        self._unmarked: dict[int, datetime] = {}

    def resume(self, now: datetime | None = None) -> tuple[int, int]:
        """At start: make everything pending due now and deliver it.

        Rows waiting out a backoff from before the restart go now, because the
        restart may be the user fixing the channel's settings.
        """
        now = now or datetime.now(UTC)
        try:
            store.reschedule_pending(self.engine, now)
        except SQLAlchemyError as exc:
            log.warning("outbox: cannot read pending notifications, will retry: %s", exc)
            return 0, 0
        return self.deliver_due(now)

    def deliver_due(self, now: datetime | None = None) -> tuple[int, int]:
        """Try every due notification once; return (sent, failed attempts)."""
        now = now or datetime.now(UTC)
        sent = failed = 0
        try:
            self._mark_unmarked()
            for item in self._due(now):
                if self._held(item.channel, now) or item.id in self._unmarked:
                    continue
                outcome = self._deliver(item, now)
                sent += outcome is True
                failed += outcome is False
        except SQLAlchemyError as exc:
            log.warning("outbox: database unavailable, will retry: %s", exc)
        return sent, failed

    def _due(self, now: datetime) -> list[store.OutboxItem]:
        # Held channels are left out of the query so their backlog cannot fill the
        # batch and starve a working channel.
        held = [channel for channel in self._held_until if self._held(channel, now)]
        return store.due_outbox(self.engine, now, self.batch, exclude_channels=held)

    def _held(self, channel: str, now: datetime) -> bool:
        until = self._held_until.get(channel)
        return until is not None and now < until

    def _deliver(self, item: store.OutboxItem, now: datetime) -> bool | None:
        """True sent, False failed, None skipped (claimed elsewhere)."""
        notifier = self.notifiers.get(item.channel)
        if notifier is None:
            self._drop_unconfigured(item)
            return False
        if now - item.created_at > timedelta(seconds=self.backoff.give_up_after):
            store.mark_failed(self.engine, item.id, f"gave up after {item.attempts} attempts")
            log.warning("outbox: gave up on %s notification %d of %s after %d attempts",
                        item.channel, item.id, item.what, item.attempts)
            return False
        retry_at = now + self.backoff.delay(item.attempts + 1)
        if not store.claim(self.engine, item, retry_at):
            return None
        try:
            self._send(notifier, item)
        except Exception as exc:  # any notifier bug must not stop the others
            self._failed(item, exc, retry_at)
            return False
        self._unmarked[item.id] = datetime.now(UTC)
        self._mark_unmarked()
        self._held_until.pop(item.channel, None)
        self._rejecting.discard(item.channel)
        if item.channel in self._failing:
            self._failing.discard(item.channel)
            log.warning("%s notifications recovered: delivered %s after %d attempts",
                        item.channel, item.what, item.attempts + 1)
        return True

    def _send(self, notifier: Notifier, item: store.OutboxItem) -> None:
        """Send the alert, with the picture stored with it where the channel takes one:
        the picture drawn when the alert was raised, so a retry sends the same. A mail
        row goes out as it was stored."""
        if item.mail is not None:
            if not isinstance(notifier, MailNotifier):
                raise PermanentDeliveryError(f"{item.channel} does not carry mail")
            notifier.send_mail(item.mail_name or "mail.eml", item.mail)
            return
        assert item.alert is not None  # a row carries an alert or a mail
        if isinstance(notifier, PictureNotifier) and notifier.takes_pictures:
            picture = (None if item.alert_id is None
                       else store.alert_picture(self.engine, item.alert_id))
            if picture is not None:
                notifier.send_with_picture(item.alert, picture)
                return
        notifier.send(item.alert)

    def _mark_unmarked(self) -> None:
        for outbox_id, sent_at in list(self._unmarked.items()):
            store.mark_sent(self.engine, outbox_id, sent_at)
            del self._unmarked[outbox_id]

    def _failed(self, item: store.OutboxItem, exc: Exception, retry_at: datetime) -> None:
        error = describe(exc)
        if isinstance(exc, PermanentDeliveryError):
            store.mark_failed(self.engine, item.id, error)
            if item.channel in self._rejecting:
                log.debug("%s notification of %s rejected for good: %s",
                          item.channel, item.what, error)
            else:
                self._rejecting.add(item.channel)
                log.warning("%s notification of %s rejected for good (further "
                            "rejections are logged at debug level until one is delivered): %s",
                            item.channel, item.what, error)
            return
        store.mark_retry(self.engine, item.id, retry_at, error)
        self._held_until[item.channel] = retry_at
        if item.channel not in self._failing:
            self._failing.add(item.channel)
            log.warning("%s notifications failing, retrying with backoff (up to %ds): %s",
                        item.channel, self.backoff.cap, error)
        else:
            log.debug("%s notification %d failed again: %s", item.channel, item.id, error)

    def _drop_unconfigured(self, item: store.OutboxItem) -> None:
        error = f"channel {item.channel!r} is no longer configured"
        store.mark_failed(self.engine, item.id, error)
        if item.channel not in self._unconfigured_logged:
            self._unconfigured_logged.add(item.channel)
            log.warning("outbox: %s; its pending notifications are marked failed", error)
