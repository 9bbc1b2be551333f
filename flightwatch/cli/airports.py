"""``flightwatch airports``: import OurAirports (or flightwatch) airports CSVs into the
database, where takeoff/landing detection and ``flights --airport`` find them; list them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from flightwatch.cli.common import (
    EXIT_OK,
    ROW_FORMATS,
    UsageError,
    add_output,
    engine_for,
    output_columns,
    settings_from,
)
from flightwatch.output.columns import Columns

AIRPORT_FIELDS = ("ident", "icao", "iata", "name", "type", "lat", "lon", "elevation_ft",
                  "municipality")
AIRPORT_COLUMNS = Columns(AIRPORT_FIELDS, compact=(
    "ident", "icao", "iata", "name", "type", "municipality"))


def register(commands: Any) -> None:
    """Add the ``airports`` command to the CLI's subparsers."""
    airports = commands.add_parser("airports", help="airports for takeoff and landing detection")
    actions = airports.add_subparsers(dest="airports_command", required=True, metavar="ACTION")
    imp = actions.add_parser(
        "import", help="add airports from an OurAirports airports.csv (any country) "
                       "or a flightwatch airports CSV",
    )
    imp.add_argument("file", type=Path, metavar="FILE")
    imp.set_defaults(handler=cmd_import)
    listing = actions.add_parser("list", help="airports in the database")
    add_output(listing, AIRPORT_COLUMNS, ROW_FORMATS, to_file=False)
    listing.set_defaults(handler=cmd_list)


def cmd_import(args: argparse.Namespace) -> int:
    from flightwatch.db.airports import AirportsError, read_airports
    from flightwatch.db.flights import import_airports

    try:
        airports = read_airports(args.file)
    except AirportsError as exc:
        raise UsageError(str(exc)) from None
    engine = engine_for(settings_from(args))
    count = import_airports(engine, airports, str(args.file.resolve()))
    print(f"imported {count} airports from {args.file}; a running daemon uses them after "
          "a restart")
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    from flightwatch.db.flights import stored_airports
    from flightwatch.output.formats import write

    fields, style = output_columns(args, AIRPORT_COLUMNS)
    engine = engine_for(settings_from(args), create=False)
    write(stored_airports(engine), sys.stdout, args.format, fields, style)
    return EXIT_OK
