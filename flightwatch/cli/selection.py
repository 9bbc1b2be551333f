"""Which stored positions a history-style command reads (history, map, ...).

``--icao/--registration/--callsign/--since/--until/--geofence``, checked and
resolved once, so every command selects aircraft the same way.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flightwatch.cli.common import UsageError, add_time_window
from flightwatch.settings import Settings


def add_selection_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--icao", action="append", metavar="HEX", help="ICAO address (repeat)")
    parser.add_argument("--registration", metavar="R", help="e.g. RA-96016")
    parser.add_argument("--callsign", metavar="C", help="e.g. RSD016; * is a wildcard")
    add_time_window(parser)
    parser.add_argument("--geofence", metavar="NAME", help="only positions inside this fence")


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

    def positions(self, source: Any) -> Iterable[Any]:
        """The stored positions chosen, ordered by aircraft then time, streamed."""
        from flightwatch.db.queries import history

        if self.icaos == []:
            return iter(())
        rows = history(
            source, icaos=self.icaos, callsign=self.callsign, since=self.since,
            until=self.until, bbox=self.fence.bounds if self.fence is not None else None,
        )
        fence = self.fence
        if fence is None:
            return rows
        return (row for row in rows if fence.contains(row.lat, row.lon))


def selected_icaos(args: argparse.Namespace, source: Any) -> list[str] | None:
    """``--icao`` and ``--registration`` as addresses; None selects every aircraft and an
    empty list none (a registration nobody is known by)."""
    from flightwatch.db.queries import icaos_for_registration
    from flightwatch.decoder import normalise_icao

    icaos: list[str] | None = None
    if args.icao:
        icaos = []
        for value in args.icao:
            icao = normalise_icao(value)
            if icao is None:
                raise UsageError(f"--icao {value!r}: not a 24-bit ICAO address (6 hex digits)")
            icaos.append(icao)
    if args.registration:
        found = icaos_for_registration(source, args.registration)
        if not found:
            print(f"no aircraft known with registration {args.registration}", file=sys.stderr)
        icaos = sorted(set(found) & set(icaos)) if icaos is not None else found
    return icaos


def selection_from(
    args: argparse.Namespace, settings: Settings, source: Any,
    fences: Sequence[Any] | None = None,
) -> Selection:
    """The arguments as a Selection; ``fences`` are the loaded geofences (else loaded here)."""
    icaos = selected_icaos(args, source)
    fence = None
    if args.geofence:
        if fences is None:
            from flightwatch.alerts.engine import load_fences

            fences = load_fences(s for s in settings.geofences if s["name"] == args.geofence)
        fence = next((f for f in fences if f.name == args.geofence), None)
        if fence is None:
            known = ", ".join(f["name"] for f in settings.geofences)
            raise UsageError(
                f"--geofence {args.geofence!r}: no such geofence in the configuration "
                f"(known: {known})"
            )
    return Selection(icaos, args.callsign, args.since, args.until, fence)


