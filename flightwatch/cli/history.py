"""``flightwatch history``: stored positions of the selected aircraft, in any output format."""

from __future__ import annotations

import argparse
from typing import Any

from flightwatch.cli.common import (
    EXIT_OK,
    add_config,
    add_output,
    output_to,
    reader_for,
    settings_from,
)
from flightwatch.cli.selection import add_selection_arguments, selection_from

HISTORY_FIELDS = (
    "icao", "time", "lat", "lon", "altitude_ft", "ground_speed_kt", "track_deg",
    "vertical_rate_fpm", "callsign", "on_ground", "source",
)


def register(commands: Any) -> None:
    history = commands.add_parser("history", help="stored positions of aircraft")
    add_selection_arguments(history)
    add_output(history)
    add_config(history)
    history.set_defaults(handler=cmd_history)


def cmd_history(args: argparse.Namespace) -> int:
    from flightwatch.output.formats import write

    settings = settings_from(args)
    with reader_for(settings) as reader:
        rows = selection_from(args, settings, reader).positions(reader)
        with output_to(args.out) as out:
            write(rows, out, args.format, HISTORY_FIELDS)
    return EXIT_OK
