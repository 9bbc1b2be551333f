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
    ROW_FORMATS,
    add_output,
    add_time_window,
    output_columns,
    reader_for,
    settings_from,
)
from flightwatch.output.columns import Columns
from flightwatch.settings import ALERT_KINDS

# The output contract (ARCHITECTURE.md): more fields may be added, none renamed.
ALERT_FIELDS = (
    "time", "icao", "registration", "callsign", "kind", "geofence", "airport", "lat", "lon",
    "altitude_ft", "matched_by", "sources", "evidence", "retrospective",
    "id",  # the stored row: its picture is /api/alerts/ID/map.png
)

PENDING_FIELDS = ("channel", "pending", "oldest", "next_attempt", "attempts", "last_error")

ALERT_COLUMNS = Columns(ALERT_FIELDS, compact=(
    "time", "icao", "registration", "callsign", "kind", "geofence", "airport", "evidence"))
PENDING_COLUMNS = Columns(PENDING_FIELDS, compact=PENDING_FIELDS)


def register(commands: Any) -> None:
    """Add the ``alerts`` command to the CLI's subparsers."""
    alerts = commands.add_parser("alerts", help="alerts raised so far")
    add_time_window(alerts)
    alerts.add_argument("--icao", metavar="HEX", help="only this aircraft")
    alerts.add_argument("--kind", choices=ALERT_KINDS, metavar="K",
                        help=f"only this kind: {', '.join(ALERT_KINDS)}")
    alerts.add_argument("--pending", action="store_true",
                        help="notifications waiting per channel, with the latest error")
    add_output(alerts, ALERT_COLUMNS, ROW_FORMATS, to_file=False)
    alerts.set_defaults(handler=cmd_alerts)


def cmd_alerts(args: argparse.Namespace) -> int:
    from flightwatch.db.alert_queries import pending_by_channel, query_alerts
    from flightwatch.decoder import normalise_icao
    from flightwatch.output.formats import write

    fields, style = output_columns(args, PENDING_COLUMNS if args.pending else ALERT_COLUMNS)
    icao = None
    if args.icao is not None:
        icao = normalise_icao(args.icao)
        if icao is None:
            print(f"flightwatch: --icao {args.icao!r}: not a 24-bit ICAO address (6 hex digits)",
                  file=sys.stderr)
            return EXIT_USAGE
    with reader_for(settings_from(args)) as reader:
        if args.pending:
            write(pending_by_channel(reader), sys.stdout, args.format, fields, style)
            return EXIT_OK
        rows = query_alerts(reader, since=args.since, until=args.until, icao=icao,
                            kind=args.kind)
    write(rows, sys.stdout, args.format, fields, style)
    return EXIT_OK
