"""Webhook: POST each alert as JSON (``Alert.to_dict()``); any 2xx answer is delivery."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flightwatch.alerts.notify.outbox import DeliveryError, PermanentDeliveryError
from flightwatch.db.alert_record import Alert
from flightwatch.db.alerts import dedupe_key

# Answers that reject this payload itself, so sending it again cannot help. Others
# (401, 404, 5xx, ...) are usually the endpoint or its settings and may be fixed.
_PAYLOAD_REJECTED = frozenset({400, 413, 415, 422})

if TYPE_CHECKING:
    import requests


class WebhookNotifier:
    """Posts alerts to ``url``.

    The ``Idempotency-Key`` header (the alert's dedupe key) lets a receiver drop
    the rare second copy sent after a crash between its 2xx and our commit.
    """

    channel = "webhook"

    def __init__(self, url: str, timeout: float = 10.0,
                 session: requests.Session | None = None) -> None:
        import requests  # only with a webhook configured: 16 MB a Pi need not load

        self.url = url
        self.timeout = timeout
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
            raise DeliveryError(f"POST {self.url}: {exc}") from exc
        status = response.status_code
        if 200 <= status < 300:
            return
        reason = f"POST {self.url}: HTTP {status} {response.text[:200]!r}"
        if status in _PAYLOAD_REJECTED:
            raise PermanentDeliveryError(reason)
        raise DeliveryError(reason)
