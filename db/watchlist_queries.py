"""Reading the watchlist table: ``flightwatch watchlist list`` and the rule engine's
entries. SQL text on a :class:`db.reader.Reader` (an engine works too); who may change
which row is :mod:`db.watchlist`'s job."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flightwatch.db.encoding import utc
from flightwatch.db.reader import Reader, as_reader
from flightwatch.decoder import normalise_icao

if TYPE_CHECKING:
    from sqlalchemy import Engine


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """A watchlist row as stored: the entry plus where it came from and when it changed."""

    icao: str
    registration: str | None
    operator: str | None
    aircraft_type: str | None
    category: str | None
    group: str | None
    origin: str | None
    updated: datetime


_SELECT = ("SELECT icao, registration, operator, aircraft_type, category, group_name, origin,"
           " updated FROM watchlist")


def _entries(source: Reader | Engine, condition: str, params: dict[str, Any]) -> list[StoredEntry]:
    rows = as_reader(source).rows(f"{_SELECT}{condition} ORDER BY icao", params)
    return [StoredEntry(icao, registration, operator, aircraft_type, category, group, origin,
                        utc(updated))
            for icao, registration, operator, aircraft_type, category, group, origin, updated
            in rows]


def get(source: Reader | Engine, icao: str) -> StoredEntry | None:
    """The row of one address; None if it is not watched (or not an address)."""
    address = normalise_icao(icao)
    if address is None:
        return None
    found = _entries(source, " WHERE icao = :icao", {"icao": address})
    return found[0] if found else None


def stored_entries(source: Reader | Engine, group: str | None = None) -> list[StoredEntry]:
    """Rows by ICAO address, optionally of one group (case-insensitive), for listing."""
    if group is None:
        return _entries(source, "", {})
    return _entries(source, " WHERE UPPER(group_name) = :group", {"group": group.upper()})
