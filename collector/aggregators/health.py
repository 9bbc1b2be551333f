"""A source's health: one log line per state change, backing off while it fails, and
the counters of what its polls received and refused.

Kept apart from the HTTP client: a source reading a file or a socket fails, recovers
and counts the same way.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import TypeVar

from flightwatch.collector.aggregators.errors import AggregatorError, BackingOff, Cancelled
from flightwatch.collector.plausible import Rejections, source_stats

log = logging.getLogger(__name__)

T = TypeVar("T")


class SourceHealth:
    """Logs one line per state change (ok → failing → recovered), and backs off.

    After ``n`` consecutive failures the source skips polls for
    ``min(base_delay * 2**(n-1), max_delay)`` seconds, then tries again by itself.
    """

    def __init__(self, name: str, base_delay: float, max_delay: float = 600.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._clock = clock
        self.failures = 0
        self.retry_at = 0.0
        self._failing_since = 0.0
        self._received = 0
        self._rejected: Counter[str] = Counter()
        #: The source's counters (``source_stats``); replaced whole after each poll, so
        #: the status job may read it from its own thread.
        self.stats: Mapping[str, int] = source_stats(0, {})

    def count(self, received: int, rejections: Rejections) -> None:
        """Add one poll's items, and those refused by reason, to :attr:`stats`."""
        self._received += received
        self._rejected.update(rejections.counts)
        self.stats = source_stats(self._received, self._rejected)

    def run(self, poll: Callable[[], T]) -> T:
        """Run one poll through the health gate; re-raise its :class:`AggregatorError`."""
        now = self._clock()
        if self.failures and now < self.retry_at:
            raise BackingOff(
                f"{self.name}: skipped, backing off after {self.failures} failures; "
                f"next try in {self.retry_at - now:.0f} s"
            )
        try:
            result = poll()
        except Cancelled:
            raise  # the daemon stops: not the source's fault
        except AggregatorError as exc:
            self._failed(exc)
            raise
        self._ok()
        return result

    def _failed(self, exc: AggregatorError) -> None:
        now = self._clock()
        if self.failures == 0:
            self._failing_since = now
            log.warning("%s: failing: %s", self.name, exc)
        self.failures += 1
        delay = min(self.base_delay * 2 ** (self.failures - 1), self.max_delay)
        retry_at = getattr(exc, "retry_at", 0.0)
        self.retry_at = max(now + delay, retry_at)

    def _ok(self) -> None:
        if self.failures:
            log.info("%s: recovered after %d failed polls (%.0f s)", self.name,
                        self.failures, self._clock() - self._failing_since)
        self.failures = 0
        self.retry_at = 0.0
