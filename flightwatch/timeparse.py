"""Times on the command line and in the web API: a month, a day, ISO 8601 (UTC unless it
says otherwise) or relative to now (24h, 7d), between 1970 and 2199.

A month (``2020-08``) or a day (``2020-08-19``) names a period. As a start (``--since``)
it means the period's first instant; as an end (``--until``, exclusive) it means the
instant just after the period, so ``--since 2020-08 --until 2020-08`` is the whole of
August, as a person reading it would expect.

Whatever the text, the answer is a time or a ValueError that says why: a relative time
reaching before year 1, an offset pushing 0001-01-01 out of the calendar or a number of
5,000 digits once escaped as OverflowError (a traceback, an API's 500).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from flightwatch.settings import parse_duration

_RELATIVE = re.compile(r"^\s*\d+(\.\d+)?\s*(s|m|min|h|d|w)\s*$", re.ASCII)
_MONTH = re.compile(r"^\s*(\d{4})-(\d{2})\s*$", re.ASCII)
_DAY = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})\s*$", re.ASCII)
#: Positions are stored as Unix seconds; nothing was heard before 1970, and a time past
#: 2199 is a typing error (queries add margins to times: they must stay in the calendar).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
FORMS = "2020-08, 2020-08-19, 2020-08-19T14:30Z, or relative: 90m, 24h, 7d"


def parse_time(text: str, now: datetime | None = None, *, end: bool = False) -> datetime:
    """``7d`` means seven days before ``now``; a date-time is taken as UTC when naive.

    With ``end`` a month or a day means the end of that period (the first instant after
    it): the end of an exclusive window such as ``--until``.
    """
    now = now or datetime.now(UTC)
    try:
        value = _parse(text, now, end)
    except OverflowError:
        value = None
    # an end may be the first instant after 2199 (``--until 2199-12``), a time may not
    if value is None or not (EARLIEST <= value < LATEST or (end and value == LATEST)):
        raise ValueError(f"{_shown(text)} is out of range: use a time from "
                         f"{EARLIEST:%Y-%m-%d} to {LATEST - timedelta(days=1):%Y-%m-%d}")
    return value


def _parse(text: str, now: datetime, end: bool) -> datetime:
    period = _period(text)
    if period is not None:
        start, after = period
        return after if end else start
    if _RELATIVE.match(text):
        return now - timedelta(seconds=parse_duration(text))
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{_shown(text)} is not a time: use {FORMS}") from None
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
        raise ValueError(f"{_shown(text)} is not a time: {exc}") from None
    return None


def _shown(text: str) -> str:
    """The text in a message: quoted, and cut when it is absurdly long."""
    return repr(text) if len(text) <= 60 else f"{text[:40]!r}... ({len(text):,} characters)"
