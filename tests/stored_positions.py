"""Stored positions read back as rows, for assertions: what a positions table held.

Positions live in compressed blocks (db/positions.py); tests that used to run SQL on a
positions table read them here instead, through the product's reader, whichever of the
log and the chunks they are in. The block codec itself is tested against known values
in tests/db/test_blocks.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from flightwatch.db.blocks import GROUND_VALUES
from flightwatch.db.position_reader import tracks
from flightwatch.db.reader import EngineReader, Reader, SqliteReader

#: (icao as stored, epoch second, lat, lon, altitude, speed, track, rate, on_ground,
#: source id): the columns and stored integers of the old positions table.
Row = tuple[Any, ...]


def _reader(where: Path | str | Engine) -> Reader:
    if isinstance(where, Engine):
        return EngineReader(where)
    return SqliteReader(str(where))


def stored_rows(where: Path | str | Engine, **query: Any) -> list[Row]:
    """Every stored position (of ``tracks``' filters) by aircraft then time."""
    reader = _reader(where)
    try:
        return [(icao, t, lat, lon, alt, speed, track, rate, GROUND_VALUES[ground],
                 source or None)
                for icao, columns in tracks(reader, **query)
                for t, lat, lon, alt, speed, track, rate, ground, source in zip(*columns,
                                                                                 strict=True)]
    finally:
        reader.close()


def stored_count(where: Path | str | Engine, **query: Any) -> int:
    return len(stored_rows(where, **query))
