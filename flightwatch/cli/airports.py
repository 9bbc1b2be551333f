"""``flightwatch airports``: import OurAirports (or flightwatch) airports CSVs into the
database, where takeoff/landing detection and ``flights --airport`` find them; list the
airports flightwatch knows (the bundled world set, the configured files and the
imported ones), all of them or those near a point."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
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
                  "municipality", "country", "tz", "longest_runway_ft")
AIRPORT_COLUMNS = Columns(AIRPORT_FIELDS, compact=(
    "ident", "icao", "iata", "name", "type", "municipality"))
NEAR_FIELDS = ("distance_km", *AIRPORT_FIELDS)
NEAR_COLUMNS = Columns(NEAR_FIELDS, compact=(
    "distance_km", "ident", "name", "type", "elevation_ft", "longest_runway_ft"))
DEFAULT_WITHIN_KM = 50.0


def lat_lon(text: str) -> tuple[float, float]:
    """``53.88,28.03`` as (latitude, longitude), or argparse's usage error (exit 2)."""
    parts = text.replace(" ", "").split(",")
    try:
        lat, lon = (float(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected LAT,LON in decimal degrees, e.g. 53.88,28.03") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise argparse.ArgumentTypeError(
            f"{text!r}: latitude must be within -90..90 and longitude within -180..180")
    return lat, lon


def distance_km(text: str) -> float:
    try:
        km = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected kilometres, e.g. 50") from None
    if not 0 < km <= 20_100:
        raise argparse.ArgumentTypeError(f"{text!r}: must be more than 0 and at most 20100 km")
    return km


def register(commands: Any) -> None:
    """Add the ``airports`` command to the CLI's subparsers."""
    airports = commands.add_parser("airports", help="airports for takeoff and landing detection")
    actions = airports.add_subparsers(dest="airports_command", required=True, metavar="ACTION")
    imp = actions.add_parser(
        "import", help="add airports from an OurAirports airports.csv (any country) "
                       "or a flightwatch airports CSV",
    )
    imp.add_argument("file", type=Path, metavar="FILE",
                     help="airports CSV: OurAirports' airports.csv or flightwatch's columns")
    imp.set_defaults(handler=cmd_import)
    listing = actions.add_parser(
        "list", help="the airports flightwatch knows: the bundled world set, the "
                     "configured files and the imported ones (yours win), by code")
    listing.add_argument("--near", type=lat_lon, metavar="LAT,LON",
                         help="only those near this point, closest first, with their distance "
                              "(a negative latitude takes '=': --near=-33.95,151.18)")
    listing.add_argument("--within", type=distance_km, default=DEFAULT_WITHIN_KM, metavar="KM",
                         help=f"with --near: this far at most (default {DEFAULT_WITHIN_KM:g})")
    add_output(listing, AIRPORT_COLUMNS, ROW_FORMATS, to_file=False)
    listing.set_defaults(handler=cmd_list)


def cmd_import(args: argparse.Namespace) -> int:
    from flightwatch.db.airport_table import import_airports
    from flightwatch.db.airports import AirportsError, read_airports

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
    """Every airport known, or (``--near``) those near a point. The bundled ones need no
    database; the imported ones are read from it when there is one."""
    from flightwatch.airports import airport_index
    from flightwatch.cli.no_database import database_missing
    from flightwatch.db.airport_queries import stored_airports
    from flightwatch.db.reader import open_reader
    from flightwatch.output.formats import as_mapping, write

    columns = NEAR_COLUMNS if args.near is not None else AIRPORT_COLUMNS
    fields, style = output_columns(args, columns)
    settings = settings_from(args)
    stored = []
    if not database_missing(settings):
        with open_reader(settings.database_url) as reader:
            stored = stored_airports(reader)
    index = airport_index(settings, stored)
    if args.near is None:
        write(index.by_code(), sys.stdout, args.format, fields, style)
        return EXIT_OK
    lat, lon = args.near

    def near() -> Iterator[dict[str, Any]]:
        for km, airport in index.within(lat, lon, args.within):
            yield {"distance_km": round(km, 1), **as_mapping(airport)}

    write(near(), sys.stdout, args.format, fields, style)
    return EXIT_OK
