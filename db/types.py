"""Column types that keep times as timezone-aware UTC across SQLite and PostgreSQL, store
addresses and coordinates compactly, and make received text fit its column."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect, Integer, String
from sqlalchemy.types import TypeDecorator

from flightwatch.db.encoding import aware_utc, epoch, seconds, utc


class UTCDateTime(TypeDecorator[datetime]):
    """A datetime stored in UTC and always read back timezone-aware.

    SQLite has no time zone type; without this, values come back naive.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else aware_utc(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return utc(value)


class EpochSeconds(TypeDecorator[datetime]):
    """A UTC datetime stored as whole Unix seconds.

    Positions are the bulk of the database: an integer takes 4 bytes where an
    ISO string takes 26, and one-second resolution is all a track needs.
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> int | None:
        return None if value is None else seconds(value)

    def process_result_value(self, value: int | None, dialect: Dialect) -> datetime | None:
        return epoch(value)


class IcaoAddress(TypeDecorator[str]):
    """A 24-bit ICAO address ("4CA2D1") stored as the integer it spells.

    Three or four bytes in a SQLite record instead of seven, in the positions
    table and again in its time index: the bulk of a long history.
    """

    impl = Integer
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> int | None:
        return None if value is None else int(value, 16)

    def process_result_value(self, value: int | None, dialect: Dialect) -> str | None:
        return None if value is None else f"{value:06X}"


class ScaledInteger(TypeDecorator[float]):
    """A float kept to a fixed number of decimals, stored as an integer of that unit.

    ``ScaledInteger(5)`` keeps 1e-5 degrees (about a metre) in three or four bytes
    where a REAL takes eight. Values read back equal ``round(value, decimals)``.
    """

    impl = Integer
    cache_ok = True

    def __init__(self, decimals: int) -> None:
        super().__init__()
        self.decimals = decimals
        self._scale = 10**decimals

    def process_bind_param(self, value: float | None, dialect: Dialect) -> int | None:
        return None if value is None else round(value * self._scale)

    def process_result_value(self, value: int | None, dialect: Dialect) -> float | None:
        return None if value is None else value / self._scale


#: What ends a text cut to fit its column: a reader sees it was longer.
CUT_MARKER = "\u2026"  # …
#: NUL is the one character PostgreSQL cannot store in text; SQLite can. Both store this.
NUL_STAND_IN = "\ufffd"


def fit_text(text: str, length: int) -> str:
    """``text`` as a column of ``length`` characters holds it: NUL replaced by U+FFFD and,
    when too long, cut to ``length - 1`` characters and :data:`CUT_MARKER`."""
    if "\x00" in text:
        text = text.replace("\x00", NUL_STAND_IN)
    return text if len(text) <= length else text[: length - 1] + CUT_MARKER


class FittedText(TypeDecorator[str]):
    """Text from the air, an aggregator or an archive's file names, in a ``VARCHAR(n)``.

    Anyone on the frequency or behind an aggregator decides these values. PostgreSQL
    refuses a value longer than its column, and one refused row fails the whole batch
    of positions it was written with; SQLite stores anything. So every value bound to
    such a column, written or compared, goes through :func:`fit_text` here, the one
    place that decides how it fits, the same on both backends.
    """

    impl = String
    cache_ok = True

    def __init__(self, length: int) -> None:
        super().__init__(length)
        self.length = length

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else fit_text(value, self.length)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return value


#: Types whose database value is a plain integer: bulk paths (copy, retention) move
#: the raw integers instead of converting every row to Python values and back.
INTEGER_ENCODED = (EpochSeconds, IcaoAddress, ScaledInteger)
