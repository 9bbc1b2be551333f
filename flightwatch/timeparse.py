"""Times on the command line and in the web API: a month, a day, ISO 8601 (UTC unless it
says otherwise) or relative to now (24h, 7d).

A month (``2020-08``) or a day (``2020-08-19``) names a period. As a start (``--since``)
it means the period's first instant; as an end (``--until``, exclusive) it means the
instant just after the period, so ``--since 2020-08 --until 2020-08`` is the whole of
August, as a person reading it would expect.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from flightwatch.settings import parse_duration

_RELATIVE = re.compile(r"^\s*\d+(\.\d+)?\s*(s|m|min|h|d|w)\s*$")
_MONTH = re.compile(r"^\s*(\d{4})-(\d{2})\s*$")
_DAY = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})\s*$")

FORMS = "2020-08, 2020-08-19, 2020-08-19T14:30Z, or relative: 90m, 24h, 7d"


def parse_time(text: str, now: datetime | None = None, *, end: bool = False) -> datetime:
    """``7d`` means seven days before ``now``; a date-time is taken as UTC when naive.

    With ``end`` a month or a day means the end of that period (the first instant after
    it): the end of an exclusive window such as ``--until``.
    """
    period = _period(text)
    if period is not None:
        start, after = period
        return after if end else start
    if _RELATIVE.match(text):
        return (now or datetime.now(UTC)) - timedelta(seconds=parse_duration(text))
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not a time: use {FORMS}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _period(text: str) -> tuple[datetime, datetime] | None:
    """(first instant, first instant after) of a month or day in UTC; None for other text."""
    try:
        if month := _MONTH.match(text):
            year, number = int(month[1]), int(month[2])
            start = datetime(year, number, 1, tzinfo=UTC)
            after = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=UTC)
            return start, after
        if day := _DAY.match(text):
            start = datetime(int(day[1]), int(day[2]), int(day[3]), tzinfo=UTC)
            return start, start + timedelta(days=1)
    except ValueError as exc:  # 2020-13, 2020-02-30
        raise ValueError(f"{text!r} is not a time: {exc}") from None
    return None
