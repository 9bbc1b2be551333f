"""The airports a configuration sees, in one place for the daemon and the commands.

The bundled world set (``config/world_airports.tsv.gz``, ``world_runways.tsv.gz``),
refined by the bundled Belarus file from OurAirports (``airports.csv``, ``runways.csv``:
its types, fields without an ICAO code, every runway), then the user's: the rows of the
``airports`` table (``detection.airports`` files synced at the daemon's start, and
``airports import``), and the ``detection.airports``/``detection.runways`` files themselves
for commands that read the configuration. Later sources win for the same ICAO code or
ident. The world set is read once per process, and only by commands that need it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from flightwatch.settings import Settings, bundled

if TYPE_CHECKING:
    from flightwatch.db.airports import Airport, AirportIndex

WORLD_FILES = ("world_airports.tsv.gz", "world_runways.tsv.gz")


def world_paths() -> tuple[Path, Path]:
    return bundled(WORLD_FILES[0]), bundled(WORLD_FILES[1])


def airport_index(settings: Settings | None = None,
                  stored: Iterable[Airport] = ()) -> AirportIndex:
    """Bundled world and Belarus airports, then ``settings``' ``detection.airports`` files,
    then ``stored`` (the ``airports`` table's rows), with ``detection.runways`` runway ends
    over the bundled ones."""
    from flightwatch.db.airports import load_airport_index

    section = (settings["detection"] if settings is not None
               else {"airports": None, "runways": None})
    return load_airport_index(
        [bundled("airports.csv"), *(section["airports"] or [])],
        [bundled("runways.csv"), *(section["runways"] or [])],
        world=world_paths(),
        imported=stored,
    )
