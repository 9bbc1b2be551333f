"""Reading the ``airports`` table (a user's configured and imported airports) through
``db.reader``: ``airports list`` and the daemon read it alike, and on a current SQLite
database without loading SQLAlchemy."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flightwatch.db.airports import Airport
from flightwatch.db.reader import Reader, as_reader

if TYPE_CHECKING:
    from sqlalchemy import Engine

_COLUMNS = ("ident, icao, name, type, lat, lon, elevation_ft, iata, municipality, "
            "longest_runway_ft, runways")


def stored_airports(source: Reader | Engine) -> list[Airport]:
    """Every airport in the table (configured and imported), by ident."""
    return [
        Airport(ident=ident, icao=icao or "", name=name, type=kind, lat=lat, lon=lon,
                elevation_ft=elevation_ft, iata=iata or "", municipality=municipality or "",
                longest_runway_ft=longest, runways=runways or "")
        for (ident, icao, name, kind, lat, lon, elevation_ft, iata, municipality, longest,
             runways) in as_reader(source).rows(f"SELECT {_COLUMNS} FROM airports ORDER BY ident")
    ]
