"""Apprise: chat apps and push services (Telegram, Signal, Matrix, ntfy, Discord, Mastodon...).

Each configured URL is its own outbox channel, ``apprise:<scheme>`` (``apprise:tgram``,
``apprise:ntfy``; ``-2``, ``-3``... for a second URL of the same scheme), so one
dead service is retried on its own and never holds up another.

Secrets: ``${NAME}`` in a URL is replaced by the environment variable NAME when
the notifiers are built. The URL is shown only in Apprise's privacy form, and
every error and log line this module writes goes through the one redaction
(decoder/redaction.py), told also what Apprise masks. Apprise's own log
records are kept away from the application log: at debug level they print
whole request URLs, tokens included.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from flightwatch.alerts.notify.email import picture_name
from flightwatch.alerts.notify.outbox import DeliveryError, PermanentDeliveryError
from flightwatch.alerts.notify.phone import PhoneFormat
from flightwatch.db.alert_record import Alert
from flightwatch.decoder.redaction import EnvReferenceError, expand_env, redact

_URL_PARTS = re.compile(r"[/:@?&=#,;+]+")
_STATUS = re.compile(r"\berror=(\d{3})\b")
# 4xx answers that say "not now" rather than "never".
_RETRYABLE_4XX = frozenset({408, 409, 423, 425, 429})


class AppriseConfigError(ValueError):
    """An Apprise URL that cannot be used; the message is safe to show."""


def channel_names(urls: Iterable[str]) -> list[str]:
    """``apprise:<scheme>``, numbered from the second URL of a scheme on."""
    seen: Counter[str] = Counter()
    names = []
    for url in urls:
        scheme = url.partition("://")[0].lower() if "://" in url else "url"
        seen[scheme] += 1
        count = seen[scheme]
        names.append(f"apprise:{scheme}" if count == 1 else f"apprise:{scheme}-{count}")
    return names


def _display_url(private_url: str) -> str:
    """The privacy URL without its query string of defaults: ``tgram://1...u/-1002003``."""
    return private_url.partition("?")[0].rstrip("/")


class _Captured(logging.Handler):
    """Apprise's warnings during one send: they carry the HTTP status and the reason."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _quiet_apprise_logger() -> logging.Logger:
    apprise_log = logging.getLogger("apprise")
    apprise_log.propagate = False
    if not any(isinstance(h, logging.NullHandler) for h in apprise_log.handlers):
        apprise_log.addHandler(logging.NullHandler())
    return apprise_log


class AppriseNotifier:
    """One Apprise URL: each alert as a title and a phone-sized body.

    Apprise answers only True/False; the reason is in its log, where most plugins
    write ``error=<HTTP status>``. A 4xx (other than 408/409/423/425/429) means the
    service refused this message for good: PermanentDeliveryError. Anything else
    (5xx, no answer, no status) is retried.
    """

    def __init__(self, channel: str, url: str, phone: PhoneFormat,
                 secrets: Iterable[str] = ()) -> None:
        self._log = _quiet_apprise_logger()  # before the import: apprise logs while loading
        import apprise

        self.channel = channel
        self.phone = phone
        plugin = apprise.Apprise.instantiate(url)
        if plugin is None:
            scheme = url.partition("://")[0] if "://" in url else "(no scheme)"
            raise AppriseConfigError(f"Apprise does not understand this {scheme}:// URL")
        shown = _display_url(plugin.url(privacy=True))
        hidden = [part for part in _URL_PARTS.split(url.partition("://")[2])
                  if part and part not in shown]
        self._secrets = [*secrets, *hidden]
        self.display_url = self.redact(shown)
        # Telegram, Discord, Signal, Matrix, ntfy, mail, JSON/form webhooks... take files;
        # the others get the text (and its track link) alone.
        self.takes_pictures = bool(getattr(plugin, "attachment_support", False))
        self._apprise = apprise.Apprise()
        self._apprise.add(plugin)

    def redact(self, text: str) -> str:
        """``text`` fit to show: the one redaction, told this URL's secrets too."""
        return redact(text, self._secrets)

    def send(self, alert: Alert) -> None:
        shown = alert.for_display()  # a chat app shows what it gets: no control characters
        self.send_text(self.phone.title(shown), self.phone.body(shown))

    def send_with_picture(self, alert: Alert, picture: bytes) -> None:
        """The text with the alert's map attached (a PNG held in memory, never a file)."""
        import apprise
        from apprise.attachment.memory import AttachMemory

        attachment = apprise.AppriseAttachment()
        attachment.add(AttachMemory(content=picture, name=picture_name(alert),
                                    mimetype="image/png"))
        shown = alert.for_display()
        self.send_text(self.phone.title(shown), self.phone.body(shown), attachment)

    def send_text(self, title: str, body: str, attachment: Any = None) -> None:
        captured = _Captured()
        self._log.addHandler(captured)
        # urllib3's debug lines carry request paths, where services put tokens (Telegram).
        requests_log = logging.getLogger("urllib3.connectionpool")
        level = requests_log.level
        requests_log.setLevel(max(level, logging.INFO))
        try:
            delivered = bool(self._apprise.notify(body=body, title=title, attach=attachment))
        except Exception as exc:  # a plugin bug must read like a failed delivery
            raise DeliveryError(self.redact(f"{self.display_url}: {exc}")) from None
        finally:
            requests_log.setLevel(level)
            self._log.removeHandler(captured)
        if delivered:
            return
        reason = "; ".join(captured.messages) or "Apprise reported a failure"
        text = self.redact(f"{self.display_url}: {' '.join(reason.split())}")
        codes = {int(code) for code in _STATUS.findall(reason)}
        if codes and all(400 <= c < 500 and c not in _RETRYABLE_4XX for c in codes):
            raise PermanentDeliveryError(text)
        raise DeliveryError(text)


def build_apprise(urls: Iterable[str], env: Mapping[str, str],
                  phone: PhoneFormat) -> dict[str, AppriseNotifier]:
    """Channel name -> notifier for ``[alerts.apprise] urls``; AppriseConfigError names the URL."""
    urls = list(urls)
    notifiers: dict[str, AppriseNotifier] = {}
    for i, (name, raw) in enumerate(zip(channel_names(urls), urls, strict=True)):
        where = f"alerts.apprise.urls[{i}] ({name})"
        try:
            url, secrets = expand_env(raw, env, where)
        except EnvReferenceError as exc:
            raise AppriseConfigError(str(exc)) from None
        try:
            notifiers[name] = AppriseNotifier(name, url, phone, secrets)
        except AppriseConfigError as exc:
            raise AppriseConfigError(f"{where}: {exc}") from None
    return notifiers
