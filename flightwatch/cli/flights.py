"""``flightwatch flights``: flights with takeoff and landing airports, as a table, CSV,
JSON Lines, or tracks (GeoJSON LineStrings, KML ``gx:Track``) per flight."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from flightwatch.cli.common import (
    EXIT_OK,
    UsageError,
    add_output,
    add_time_window,
    output_columns,
    output_to,
    reader_for,
    settings_from,
)
from flightwatch.output.columns import Columns

# The output contract (ARCHITECTURE.md): more fields may be added, none renamed.
FLIGHT_FIELDS = (
    "icao", "registration", "callsign", "departure_airport", "departure_time",
    "arrival_airport", "arrival_time", "first_seen", "last_seen", "max_altitude_ft",
    "positions", "geofence_seconds", "departure_evidence", "arrival_evidence", "turnaround_s",
    "departure_uncertainty_s", "arrival_uncertainty_s", "departure_reason", "arrival_reason",
    "departure_candidates", "arrival_candidates",
)
# Who, when first heard (the only time an overflight has), from and to where, when it
# landed and how that is known (the takeoff time: --wide, or --columns departed).
FLIGHT_COLUMNS = Columns(FLIGHT_FIELDS, compact=(
    "icao", "registration", "callsign", "first_seen", "departure_airport", "arrival_airport",
    "arrival_time", "arrival_evidence"))
# What a track export carries per flight.
_EXPORTED = (*FLIGHT_FIELDS[:10], *FLIGHT_FIELDS[12:])


def register(commands: Any) -> None:
    """Add the ``flights`` command to the CLI's subparsers."""
    flights = commands.add_parser(
        "flights", help="flights: takeoff and landing airports and times, max altitude",
    )
    flights.add_argument("--icao", action="append", metavar="HEX", help="ICAO address (repeat)")
    flights.add_argument("--registration", metavar="R", help="e.g. RA-96016")
    flights.add_argument("--callsign", metavar="C", help="e.g. RSD016; * is a wildcard")
    flights.add_argument(
        "--airport", metavar="CODE",
        help="departed from or landed at this airport (ICAO code such as UMMS); with "
             "--since/--until the departure or landing falls in that time",
    )
    flights.add_argument("--watched", action="store_true", help="only aircraft on the watchlist")
    flights.add_argument("--geofence", metavar="NAME", help="only flights that were inside it")
    add_time_window(flights)
    add_output(flights, FLIGHT_COLUMNS)
    flights.set_defaults(handler=cmd_flights)


def cmd_flights(args: argparse.Namespace) -> int:
    from flightwatch.airports import airport_index
    from flightwatch.cli.selection import selected_icaos
    from flightwatch.db.flight_queries import airport_known, query_flights
    from flightwatch.output.formats import TRACK_FORMATS, write

    fields, style = output_columns(args, FLIGHT_COLUMNS)
    settings = settings_from(args)
    if args.geofence is not None:
        known = [f["name"] for f in settings.geofences]
        if args.geofence not in known:
            raise UsageError(f"--geofence {args.geofence!r}: no such geofence in the "
                             f"configuration (known: {', '.join(known)})")
    with reader_for(settings) as reader:
        icaos = selected_icaos(args, reader)
        flights = query_flights(
            reader, icaos=icaos, callsign=args.callsign, airport=args.airport,
            watched=args.watched, geofence=args.geofence, since=args.since, until=args.until,
        )
        if not flights and args.airport and not airport_known(reader, args.airport,
                                                              airport_index(settings)):
            print(f"note: {args.airport} is not a known airport code (see `flightwatch "
                  "airports list`; add more with `flightwatch airports import FILE`)",
                  file=sys.stderr)
        with output_to(args.out) as out:
            if args.format in TRACK_FORMATS:
                write_tracks(reader, flights, out, args.format)
            else:
                write(flights, out, args.format, fields, style)
    return EXIT_OK


def write_tracks(source: Any, flights: list[Any], out: Any, fmt: str) -> int:
    """One track per flight: its stored positions from first to last seen."""
    from flightwatch.db.queries import history
    from flightwatch.output.formats import write_geojson, write_kml

    def points() -> Iterator[dict[str, Any]]:
        for flight in flights:
            for row in history(source, icaos=[flight.icao], since=flight.first_seen,
                               until=flight.last_seen):
                point = asdict(row)
                point["flight"] = flight.key
                yield point

    extra = {
        f.key: {"flight": f.key, **{name: getattr(f, name) for name in _EXPORTED}}
        for f in flights
    }
    writer = write_geojson if fmt == "geojson" else write_kml
    return writer(points(), out, key="flight", extra=extra)
