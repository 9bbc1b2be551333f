"""``flightwatch map``: stored tracks, geofences, airports and alerts as one offline HTML map.

Positions are chosen exactly as ``flightwatch history`` chooses them (aircraft,
registration, callsign, time window, geofence). The alerts shown are those of the
aircraft drawn, in the same time window.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flightwatch.cli.common import EXIT_OK, engine_for, settings_from
from flightwatch.cli.selection import Selection, add_selection_arguments, selection_from
from flightwatch.settings import bundled

if TYPE_CHECKING:
    from flightwatch.alerts.geofence import Geofence
    from flightwatch.db.airports import Airport, AirportIndex
    from flightwatch.output.map import MapPosition


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


class _Around:
    """The tiles, borders and places of the map's view (``render_map``'s
    ``surroundings``): airports and towns within the view and a margin, for panning."""

    def __init__(self, settings: Any, engine: Any, airports: list[Any]) -> None:
        self.settings, self.engine, self.airports = settings, engine, airports

    def __call__(self, view: list[list[float]] | None) -> Any:
        import json

        from flightwatch.db.coverage import receiver_outlines
        from flightwatch.output.map import Surroundings
        from flightwatch.output.places import (
            airports_within,
            padded,
            places_json,
            read_places,
            receiver_of,
            towns_within,
        )

        bounds = (-90.0, -180.0, 90.0, 180.0)
        if view is not None:
            (south, west), (north, east) = view
            bounds = padded((south, west, north, east), 0.5)
        everything = 99  # all zoom levels: the page shows each from its own
        towns = towns_within(read_places(), bounds, everything)
        web = self.settings["web"]
        return Surroundings(
            tiles_url=web["tiles_url"], tiles_attribution=web["tiles_attribution"],
            borders=json.loads(bundled("borders.geojson").read_text(encoding="utf-8")),
            places=places_json(towns, (), receiver_of(self.settings),
                               receiver_outlines(self.engine)),
            airports=airports_within(self.airports, bounds, everything),
        )


def cmd_map(args: argparse.Namespace) -> int:
    from flightwatch.airports import airport_index
    from flightwatch.alerts.engine import load_fences
    from flightwatch.output.map import render_map

    settings = settings_from(args)
    engine = engine_for(settings, create=False)
    fences = load_fences(settings.geofences)
    selection = selection_from(args, settings, engine, fences)
    positions = list(selection.positions(engine))
    drawn = {row.icao for row in positions}
    alerts = _alerts_for(engine, drawn, selection)
    airports = airports_in_view(airport_index(settings), positions, fences)
    page = render_map(positions, fences=fences, airports=airports, alerts=alerts,
                      surroundings=_Around(settings, engine, airports))
    args.out.write_text(page, encoding="utf-8")
    if not positions:
        print("no stored positions match; the map shows the geofences only", file=sys.stderr)
    print(f"{args.out}: {len(drawn)} aircraft, {len(positions):,} positions, "
          f"{len(alerts)} alerts")
    return EXIT_OK


# Airports this far outside the drawn tracks (or fences) are still drawn.
MAP_MARGIN_KM = 30.0


def airports_in_view(index: AirportIndex, positions: Sequence[MapPosition],
                     fences: Sequence[Geofence]) -> list[Airport]:
    """The airports around what the map shows (the tracks, else the fences), not all
    28,000 of the world's."""
    from flightwatch.db.airports import haversine_km

    if positions:
        lats, lons = [p.lat for p in positions], [p.lon for p in positions]
        box = min(lats), min(lons), max(lats), max(lons)
    elif fences:
        bounds = [f.bounds for f in fences]  # (min_lon, min_lat, max_lon, max_lat)
        box = (min(b[1] for b in bounds), min(b[0] for b in bounds),
               max(b[3] for b in bounds), max(b[2] for b in bounds))
    else:
        return []
    south, west, north, east = box
    centre = (south + north) / 2, (west + east) / 2
    reach = haversine_km(*centre, north, east) + MAP_MARGIN_KM
    margin = MAP_MARGIN_KM / 111.0
    return [a for _km, a in index.within(*centre, reach)
            if south - margin <= a.lat <= north + margin]
