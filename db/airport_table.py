"""The ``airports`` table: a user's airports (``alerts.airports`` files, ``airports import``).

The bundled world set never goes into the table: it is read from its file. The
configured files are synced at the daemon's start by difference, so an unchanged
configuration writes nothing (an SD card is not rewritten at every start); imported
rows stay and win over configured ones with the same ident.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Table, select

from flightwatch.db.airports import Airport
from flightwatch.db.models import AirportRecord
from flightwatch.db.store import dialect_insert

_AIRPORTS: Table = AirportRecord.__table__  # type: ignore[assignment]
CONFIG_ORIGIN = "config"
IMPORT_PREFIX = "import:"


def _airport_row(airport: Airport, origin: str) -> dict[str, Any]:
    return {
        "ident": airport.ident, "icao": airport.icao or None, "iata": airport.iata or None,
        "name": airport.name, "type": airport.type, "lat": airport.lat, "lon": airport.lon,
        "elevation_ft": airport.elevation_ft, "municipality": airport.municipality or None,
        "longest_runway_ft": airport.longest_runway_ft, "runways": airport.runways or None,
        "origin": origin,
    }


@dataclass(frozen=True)
class SyncReport:
    """What a sync changed: rows added, changed, removed (all 0: nothing was written)."""

    added: int = 0
    changed: int = 0
    removed: int = 0

    @property
    def wrote(self) -> bool:
        return bool(self.added or self.changed or self.removed)


def sync_configured_airports(engine: Engine, airports: Iterable[Airport]) -> SyncReport:
    """Make the configured airports the table's ``config`` rows, writing only the rows
    that differ; imported rows stay and win (a configured row of the same ident is not
    added)."""
    wanted: dict[str, dict[str, Any]] = {}
    for airport in airports:
        wanted.setdefault(airport.ident, _airport_row(airport, CONFIG_ORIGIN))
    with engine.connect() as conn:
        stored = {r.ident: dict(r._mapping) for r in conn.execute(select(_AIRPORTS))}
    configured = {ident for ident, row in stored.items() if row["origin"] == CONFIG_ORIGIN}
    gone = sorted(configured - set(wanted))
    new = [row for ident, row in wanted.items() if ident not in stored]
    changed = [row for ident, row in wanted.items()
               if ident in configured and stored[ident] != row]
    if not (gone or new or changed):
        return SyncReport()
    with engine.begin() as conn:
        if gone:
            conn.execute(_AIRPORTS.delete().where(_AIRPORTS.c.ident.in_(gone)))
        for row in changed:
            conn.execute(_AIRPORTS.update().where(_AIRPORTS.c.ident == row["ident"]), row)
        if new:
            conn.execute(dialect_insert(engine, _AIRPORTS).on_conflict_do_nothing(), new)
    return SyncReport(len(new), len(changed), len(gone))


def import_airports(engine: Engine, airports: Iterable[Airport], origin: str) -> int:
    """Add or replace airports from an imported file (``origin`` names the file)."""
    rows = [_airport_row(a, f"{IMPORT_PREFIX}{origin}") for a in airports]
    if not rows:
        return 0
    stmt = dialect_insert(engine, _AIRPORTS)
    with engine.begin() as conn:
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[_AIRPORTS.c.ident],
                set_={c.name: stmt.excluded[c.name] for c in _AIRPORTS.c if c.name != "ident"},
            ),
            rows,
        )
    return len(rows)
