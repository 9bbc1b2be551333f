"""``flightwatch alerts``: the alerts raised so far, oldest first, as a table, CSV or JSON Lines.

``--pending`` shows instead what the outbox still has to deliver, per channel.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from flightwatch.cli.common import (
    EXIT_OK,
    EXIT_USAGE,
    add_config,
    reader_for,
    settings_from,
    time_arg,
)
from flightwatch.settings import ALERT_KINDS

# The output contract (ARCHITECTURE.md): more fields may be added, none renamed.
ALERT_FIELDS = (
    "time", "icao", "registration", "callsign", "kind", "geofence", "airport", "lat", "lon",
    "altitude_ft", "matched_by", "sources", "evidence", "retrospective",
    "id",  # the stored row: its picture is /api/alerts/ID/map.png
)

PENDING_FIELDS = ("channel", "pending", "oldest", "next_attempt", "attempts", "last_error")


def register(commands: Any) -> None:
    """Add the ``alerts`` command to the CLI's subparsers."""
    alerts = commands.add_parser("alerts", help="alerts raised so far")
    alerts.add_argument("--since", type=time_arg, metavar="T", help="ISO time or 24h, 7d")
    alerts.add_argument("--until", type=time_arg, metavar="T", help="ISO time or 24h, 7d")
    alerts.add_argument("--icao", metavar="HEX", help="only this aircraft")
    alerts.add_argument("--kind", choices=ALERT_KINDS, metavar="K",
                        help=f"only this kind: {', '.join(ALERT_KINDS)}")
    alerts.add_argument("--pending", action="store_true",
                        help="notifications waiting per channel, with the latest error")
    alerts.add_argument("--format", default="table", choices=("table", "csv", "json"))
    add_config(alerts)
    alerts.set_defaults(handler=cmd_alerts)


def cmd_alerts(args: argparse.Namespace) -> int:
    from flightwatch.db.alert_queries import pending_by_channel, query_alerts
    from flightwatch.decoder import normalise_icao
    from flightwatch.output.formats import write

    icao = None
    if args.icao is not None:
        icao = normalise_icao(args.icao)
        if icao is None:
            print(f"flightwatch: --icao {args.icao!r}: not a 24-bit ICAO address (6 hex digits)",
                  file=sys.stderr)
            return EXIT_USAGE
    with reader_for(settings_from(args)) as reader:
        if args.pending:
            write(pending_by_channel(reader), sys.stdout, args.format, PENDING_FIELDS)
            return EXIT_OK
        rows = query_alerts(reader, since=args.since, until=args.until, icao=icao,
                            kind=args.kind)
    write(rows, sys.stdout, args.format, ALERT_FIELDS)
    return EXIT_OK
