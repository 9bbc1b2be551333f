"""Times on the command line: ISO 8601 (UTC unless it says otherwise) or relative (24h, 7d)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from flightwatch.settings import parse_duration

_RELATIVE = re.compile(r"^\s*\d+(\.\d+)?\s*(s|m|min|h|d|w)\s*$")


def parse_time(text: str, now: datetime | None = None) -> datetime:
    """``7d`` means seven days before ``now``; a date or date-time is taken as UTC when naive."""
    now = now or datetime.now(UTC)
    if _RELATIVE.match(text):
        return now - timedelta(seconds=parse_duration(text))
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{text!r} is not a time: use ISO 8601 (2020-08-19, 2020-08-19T14:30Z) "
            f"or a relative time (90m, 24h, 7d)"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
