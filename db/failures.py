"""One warning when writes start failing and one when they work again, not one per retry.

A database locked by another process can refuse every retry for minutes; the
positions writer, the flights writer and the alert sink all keep their rows and
retry, and a user reading the log needs the start and the end of it, nothing between.
"""

from __future__ import annotations

import logging


class FailureStreak:
    """Tracks whether the last write failed, and logs only the changes."""

    def __init__(self, logger: logging.Logger, recovered: str) -> None:
        self._log = logger
        self._recovered = recovered
        self.failing = False

    def failed(self, message: str, *args: object) -> None:
        """A write failed: ``message`` (a logging format) is logged if it is the first."""
        if not self.failing:
            self.failing = True
            self._log.warning(message, *args)

    def succeeded(self) -> None:
        """A write worked: the recovery is logged if writes were failing."""
        if self.failing:
            self.failing = False
            self._log.warning(self._recovered)
