"""What a poll of an aggregator can fail with: one tree, so the scheduler and each
source's health tell a provider's fault from the daemon's own stop.

Every message says what to do next::

    AggregatorError              a poll failed; the scheduler logs it at DEBUG and tries later
     ├── AuthError               401/403: credentials missing or wrong
     ├── RateLimited             429, or still inside the wait a 429 asked for
     ├── SourceUnavailable       connection error, timeout or 5xx after all retries
     │    └── DeadlineExceeded   the whole request outlasted its deadline
     ├── BadResponse             not JSON, or JSON of an unexpected shape
     │    └── BodyTooLarge       the body passed ``max_body_bytes``: refused, not parsed
     ├── BackingOff              skipped: the source keeps failing and is waiting
     └── Cancelled               the daemon is stopping: the request was abandoned
"""

from __future__ import annotations


class AggregatorError(Exception):
    """A poll failed after the source's own retries; the next scheduled poll tries again."""


class AuthError(AggregatorError):
    """The provider refused the credentials (HTTP 401/403)."""


class RateLimited(AggregatorError):
    """The provider asked us to wait (HTTP 429); ``retry_at`` is on the client's clock."""

    def __init__(self, message: str, retry_at: float) -> None:
        super().__init__(message)
        self.retry_at = retry_at


class SourceUnavailable(AggregatorError):
    """Connection errors, timeouts or 5xx answers outlasted the retries."""


class BadResponse(AggregatorError):
    """The answer was not JSON or not shaped as the provider documents it."""


class BodyTooLarge(BadResponse):
    """The body is larger than the cap: refused after reading at most the cap."""


class DeadlineExceeded(SourceUnavailable):
    """The whole request (retries included) outlasted ``deadline`` seconds."""


class BackingOff(AggregatorError):
    """Skipped without a request: the source failed repeatedly and waits before retrying."""


class Cancelled(AggregatorError):
    """``HttpClient.cancel()`` was called (the daemon stops): the request is abandoned."""
