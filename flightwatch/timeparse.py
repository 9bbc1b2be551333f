"""Times on the command line and in the web API: ISO 8601 (UTC unless it says otherwise) or
relative (24h, 7d), between 1970 and 2199.

Whatever the text, the answer is a time or a ValueError that says why: a relative time
reaching before year 1, an offset pushing 0001-01-01 out of the calendar or a number of
5,000 digits once escaped as OverflowError (a traceback, an API's 500).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from flightwatch.settings import parse_duration

_RELATIVE = re.compile(r"^\s*\d+(\.\d+)?\s*(s|m|min|h|d|w)\s*$", re.ASCII)
#: Positions are stored as Unix seconds; nothing was heard before 1970, and a time past
#: 2199 is a typing error (queries add margins to times: they must stay in the calendar).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
_FORMS = "use ISO 8601 (2020-08-19, 2020-08-19T14:30Z) or a relative time (90m, 24h, 7d)"


def parse_time(text: str, now: datetime | None = None) -> datetime:
    """``7d`` means seven days before ``now``; a date or date-time is taken as UTC when naive."""
    now = now or datetime.now(UTC)
    try:
        value = _parse(text, now)
    except OverflowError:
        value = None
    if value is None or not EARLIEST <= value < LATEST:
        raise ValueError(f"{_shown(text)} is out of range: use a time from "
                         f"{EARLIEST:%Y-%m-%d} to {LATEST - timedelta(days=1):%Y-%m-%d}")
    return value


def _parse(text: str, now: datetime) -> datetime:
    if _RELATIVE.match(text):
        return now - timedelta(seconds=parse_duration(text))
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{_shown(text)} is not a time: {_FORMS}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _shown(text: str) -> str:
    """The text in a message: quoted, and cut when it is absurdly long."""
    return repr(text) if len(text) <= 60 else f"{text[:40]!r}... ({len(text):,} characters)"
