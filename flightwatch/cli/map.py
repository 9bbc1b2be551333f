"""``flightwatch map``: stored tracks, geofences, airports and alerts as one offline HTML map.

Positions are chosen exactly as ``flightwatch history`` chooses them (aircraft,
registration, callsign, time window, geofence). The alerts shown are those of the
aircraft drawn, in the same time window.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from flightwatch.cli.common import EXIT_OK, engine_for, settings_from
from flightwatch.cli.selection import Selection, add_selection_arguments, selection_from
from flightwatch.settings import bundled


def register(commands: Any) -> None:
    """Add the ``map`` command to the CLI's subparsers."""
    cmd = commands.add_parser(
        "map", help="tracks, geofences, airports and alerts as an HTML map that works offline",
    )
    add_selection_arguments(cmd)
    cmd.add_argument("--out", type=Path, required=True, metavar="FILE", help="the HTML file")
    cmd.set_defaults(handler=cmd_map)


def _alerts_for(engine: Any, icaos: Iterable[str], selection: Selection) -> list[Any]:
    from flightwatch.db.alert_queries import query_alerts

    found = [
        alert for icao in sorted(icaos)
        for alert in query_alerts(engine, since=selection.since, until=selection.until, icao=icao)
    ]
    return sorted(found, key=lambda alert: alert.time)


def cmd_map(args: argparse.Namespace) -> int:
    from flightwatch.alerts.engine import load_fences
    from flightwatch.db.airports import read_airports
    from flightwatch.output.map import render_map

    settings = settings_from(args)
    engine = engine_for(settings, create=False)
    fences = load_fences(settings.geofences)
    selection = selection_from(args, settings, engine, fences)
    positions = list(selection.positions(engine))
    drawn = {row.icao for row in positions}
    alerts = _alerts_for(engine, drawn, selection)
    paths = settings["detection"]["airports"] or [bundled("airports.csv")]
    airports = [airport for path in paths for airport in read_airports(path)]
    page = render_map(positions, fences=fences, airports=airports, alerts=alerts)
    args.out.write_text(page, encoding="utf-8")
    if not positions:
        print("no stored positions match; the map shows the geofences only", file=sys.stderr)
    print(f"{args.out}: {len(drawn)} aircraft, {len(positions):,} positions, "
          f"{len(alerts)} alerts")
    return EXIT_OK
