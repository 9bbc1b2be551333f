"""``flightwatch history``: stored positions of the selected aircraft, in any output format."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from flightwatch.cli.common import EXIT_OK, add_config, engine_for, settings_from
from flightwatch.cli.selection import add_selection_arguments, selection_from

HISTORY_FIELDS = (
    "icao", "time", "lat", "lon", "altitude_ft", "ground_speed_kt", "track_deg",
    "vertical_rate_fpm", "callsign", "on_ground", "source",
)


def register(commands: Any) -> None:
    history = commands.add_parser("history", help="stored positions of aircraft")
    add_selection_arguments(history)
    history.add_argument(
        "--format", default="table", choices=("table", "csv", "json", "geojson", "kml"),
    )
    history.add_argument("--out", type=Path, metavar="FILE", help="write here, not stdout")
    add_config(history)
    history.set_defaults(handler=cmd_history)


def cmd_history(args: argparse.Namespace) -> int:
    from flightwatch.output.formats import write

    settings = settings_from(args)
    engine = engine_for(settings)
    rows = selection_from(args, settings, engine).positions(engine)
    out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout  # noqa: SIM115
    try:
        write(rows, out, args.format, HISTORY_FIELDS)
    finally:
        if args.out:
            out.close()
    return EXIT_OK
