"""Webhook: POST each alert as JSON (``Alert.to_dict()``); any 2xx answer is delivery."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from flightwatch.alerts.notify.outbox import DeliveryError, PermanentDeliveryError
from flightwatch.db.alert_record import Alert
from flightwatch.db.alerts import dedupe_key
from flightwatch.decoder.redaction import redact

# Answers that reject this payload itself, so sending it again cannot help. Others
# (401, 404, 5xx, ...) are usually the endpoint or its settings and may be fixed.
_PAYLOAD_REJECTED = frozenset({400, 413, 415, 422})

if TYPE_CHECKING:
    import requests


class WebhookNotifier:
    """Posts alerts to ``url``.

    The ``Idempotency-Key`` header (the alert's dedupe key) lets a receiver drop
    the rare second copy sent after a crash between its 2xx and our commit. The URL
    may hold secrets (``user:password@``, ``?token=``, what ``${NAME}`` put in:
    ``secrets``): errors name it as :attr:`display_url`, redacted.
    """

    channel = "webhook"

    def __init__(self, url: str, timeout: float = 10.0,
                 session: requests.Session | None = None, secrets: Sequence[str] = ()) -> None:
        import requests  # only with a webhook configured: 16 MB a Pi need not load

        self.url = url
        self.timeout = timeout
        self._secrets = tuple(secrets)
        self.display_url = redact(url, self._secrets)
        self._session = session or requests.Session()

    def send(self, alert: Alert) -> None:
        import requests

        try:
            response = self._session.post(
                self.url,
                json=alert.to_dict(),
                timeout=self.timeout,
                allow_redirects=False,
                headers={"Idempotency-Key": dedupe_key(alert), "User-Agent": "flightwatch"},
            )
        except requests.RequestException as exc:
            raise DeliveryError(redact(f"POST {self.display_url}: {exc}", self._secrets)
                                ) from None
        status = response.status_code
        if 200 <= status < 300:
            return
        reason = redact(f"POST {self.display_url}: HTTP {status} {response.text[:200]!r}",
                        self._secrets)
        if status in _PAYLOAD_REJECTED:
            raise PermanentDeliveryError(reason)
        raise DeliveryError(reason)
