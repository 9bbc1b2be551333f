"""``flightwatch history``: stored positions of the selected aircraft, in any output format."""

from __future__ import annotations

import argparse
from typing import Any

from flightwatch.cli.common import (
    EXIT_OK,
    add_output,
    output_columns,
    output_to,
    reader_for,
    settings_from,
)
from flightwatch.cli.selection import add_selection_arguments, selection_from
from flightwatch.output.columns import Columns

HISTORY_FIELDS = (
    "icao", "time", "lat", "lon", "altitude_ft", "ground_speed_kt", "track_deg",
    "vertical_rate_fpm", "callsign", "on_ground", "source",
)
# Positions a few seconds apart: the table shows their seconds.
HISTORY_COLUMNS = Columns(
    HISTORY_FIELDS,
    compact=("icao", "time", "lat", "lon", "altitude_ft", "ground_speed_kt", "track_deg",
             "callsign", "on_ground"),
    timespec="seconds",
)


def register(commands: Any) -> None:
    history = commands.add_parser("history", help="stored positions of aircraft")
    add_selection_arguments(history)
    add_output(history, HISTORY_COLUMNS)
    history.set_defaults(handler=cmd_history)


def cmd_history(args: argparse.Namespace) -> int:
    from flightwatch.output.formats import write

    fields, style = output_columns(args, HISTORY_COLUMNS)
    settings = settings_from(args)
    with reader_for(settings) as reader:
        rows = selection_from(args, settings, reader).positions(reader)
        with output_to(args.out) as out:
            write(rows, out, args.format, fields, style)
    return EXIT_OK
