"""``flightwatch map``: stored tracks, geofences, airports and alerts as one offline HTML map.

Positions are chosen exactly as ``flightwatch history`` chooses them (aircraft,
registration, callsign, time window, geofence). The alerts shown are those of the
aircraft drawn, in the same time window.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from flightwatch.cli_common import (
    EXIT_OK,
    UsageError,
    add_config,
    engine_for,
    settings_from,
    time_arg,
)
from flightwatch.settings import Settings, bundled


def register(commands: Any) -> None:
    """Add the ``map`` command to the CLI's subparsers."""
    cmd = commands.add_parser(
        "map", help="tracks, geofences, airports and alerts as an HTML map that works offline",
    )
    cmd.add_argument("--icao", action="append", metavar="HEX", help="ICAO address (repeat)")
    cmd.add_argument("--registration", metavar="R", help="e.g. RA-96016")
    cmd.add_argument("--callsign", metavar="C", help="e.g. RSD016; * is a wildcard")
    cmd.add_argument("--since", type=time_arg, metavar="T", help="ISO time or 24h, 7d")
    cmd.add_argument("--until", type=time_arg, metavar="T", help="ISO time or 24h, 7d")
    cmd.add_argument("--geofence", metavar="NAME", help="only positions inside this fence")
    cmd.add_argument("--out", type=Path, required=True, metavar="FILE", help="the HTML file")
    add_config(cmd)
    cmd.set_defaults(handler=cmd_map)


@dataclass(frozen=True)
class Selection:
    """Which positions a history-style command reads: its arguments, checked and resolved.

    ``icaos`` is None for every aircraft; an empty list matches none (a registration
    nobody is known by).
    """

    icaos: list[str] | None
    callsign: str | None
    since: datetime | None
    until: datetime | None
    fence: Any  # alerts.geofence.Geofence | None

    def positions(self, engine: Any) -> Iterable[Any]:
        """The stored positions chosen, ordered by aircraft then time, streamed."""
        from db.queries import history

        if self.icaos == []:
            return iter(())
        rows = history(
            engine, icaos=self.icaos, callsign=self.callsign, since=self.since,
            until=self.until, bbox=self.fence.bounds if self.fence is not None else None,
        )
        fence = self.fence
        if fence is None:
            return rows
        return (row for row in rows if fence.contains(row.lat, row.lon))


def selection_from(
    args: argparse.Namespace, settings: Settings, engine: Any, fences: Sequence[Any]
) -> Selection:
    """``--icao/--registration/--callsign/--since/--until/--geofence`` as a Selection."""
    from db.queries import icaos_for_registration
    from decoder import normalise_icao

    icaos: list[str] | None = None
    if args.icao:
        icaos = []
        for value in args.icao:
            icao = normalise_icao(value)
            if icao is None:
                raise UsageError(f"--icao {value!r}: not a 24-bit ICAO address (6 hex digits)")
            icaos.append(icao)
    if args.registration:
        found = icaos_for_registration(engine, args.registration)
        if not found:
            print(f"no aircraft known with registration {args.registration}", file=sys.stderr)
        icaos = sorted(set(found) & set(icaos)) if icaos is not None else found
    fence = None
    if args.geofence:
        fence = next((f for f in fences if f.name == args.geofence), None)
        if fence is None:
            known = ", ".join(f["name"] for f in settings.geofences)
            raise UsageError(
                f"--geofence {args.geofence!r}: no such geofence in the configuration "
                f"(known: {known})"
            )
    return Selection(icaos, args.callsign, args.since, args.until, fence)


def _alerts_for(engine: Any, icaos: Iterable[str], selection: Selection) -> list[Any]:
    from db.alerts import query_alerts

    found = [
        alert for icao in sorted(icaos)
        for alert in query_alerts(engine, since=selection.since, until=selection.until, icao=icao)
    ]
    return sorted(found, key=lambda alert: alert.time)


def cmd_map(args: argparse.Namespace) -> int:
    from alerts.engine import load_airports, load_fences
    from flightwatch.map import render_map

    settings = settings_from(args)
    engine = engine_for(settings)
    fences = load_fences(settings.geofences)
    selection = selection_from(args, settings, engine, fences)
    positions = list(selection.positions(engine))
    drawn = {row.icao for row in positions}
    alerts = _alerts_for(engine, drawn, selection)
    airports = list(load_airports(settings["alerts"]["airports"] or [bundled("airports.csv")]))
    page = render_map(positions, fences=fences, airports=airports, alerts=alerts)
    args.out.write_text(page, encoding="utf-8")
    if not positions:
        print("no stored positions match; the map shows the geofences only", file=sys.stderr)
    print(f"{args.out}: {len(drawn)} aircraft, {len(positions):,} positions, "
          f"{len(alerts)} alerts")
    return EXIT_OK
