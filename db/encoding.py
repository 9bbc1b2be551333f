"""How the column types of :mod:`db.types` look in the database, for SQL without SQLAlchemy.

:mod:`db.reader`'s queries bind and decode values here exactly as the SQLAlchemy types
do, on SQLite (text times, 0/1 booleans) and PostgreSQL (native values) alike.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, overload

#: Decimals kept of positions' coordinates (1e-5 degrees: about a metre) and tracks.
COORDINATE_DECIMALS = 5
TRACK_DECIMALS = 1
COORDINATE_SCALE = 10**COORDINATE_DECIMALS
TRACK_SCALE = 10**TRACK_DECIMALS


def sqlite_time(value: datetime) -> str:
    """A UTC time as SQLAlchemy writes a DateTime on SQLite (naive, microseconds): the
    text a bound value must have to compare with stored ones."""
    return (f"{value.year:04d}-{value.month:02d}-{value.day:02d} "
            f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}.{value.microsecond:06d}")


@overload
def utc(value: str | datetime) -> datetime: ...
@overload
def utc(value: None) -> None: ...
def utc(value: str | datetime | None) -> datetime | None:
    """A :class:`db.types.UTCDateTime` value: SQLite's text or PostgreSQL's timestamptz."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


@overload
def epoch(value: int) -> datetime: ...
@overload
def epoch(value: None) -> None: ...
def epoch(value: int | None) -> datetime | None:
    """A :class:`db.types.EpochSeconds` value (whole Unix seconds)."""
    return None if value is None else datetime.fromtimestamp(value, UTC)


def aware_utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive time is refused (whose clock would it be?)."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: flightwatch stores UTC-aware times only")
    return value.astimezone(UTC)


def seconds(value: datetime) -> int:
    """``value`` bound against an :class:`db.types.EpochSeconds` column."""
    return int(aware_utc(value).timestamp())


def flag(value: Any) -> bool | None:
    """A Boolean column: SQLite's 0/1 or PostgreSQL's bool."""
    return None if value is None else bool(value)
