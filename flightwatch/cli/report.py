"""``flightwatch report``: one aircraft's evidence report over a period (HTML, Markdown or
JSON), written to a folder: a timeline of its flights, fence entries and exits, landings
and take-offs with their grades and reasons, time on the ground, alerts and gaps, each line
with its source and figures, a map per flight, and the methods in plain words.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flightwatch.cli.common import EXIT_OK, UsageError, settings_from, time_arg

FORMATS = ("html", "md", "json")


def register(commands: Any) -> None:
    """Add the ``report`` command to the CLI's subparsers."""
    cmd = commands.add_parser(
        "report", help="an aircraft's evidence report: timeline, grades, sources, maps",
    )
    cmd.add_argument("--registration", metavar="R", help="e.g. RA-64523")
    cmd.add_argument("--icao", action="append", metavar="HEX",
                     help="ICAO address (repeat); with --registration, only these of its")
    cmd.add_argument("--since", type=time_arg, metavar="T",
                     help="from T: 2020-08, 2020-08-19, ISO time, or 24h, 7d ago")
    cmd.add_argument("--until", type=time_arg, metavar="T",
                     help="before T: ISO time, or 24h, 7d ago (a month or day: its first "
                          "instant, unlike the other commands)")
    cmd.add_argument("--format", default="html", choices=FORMATS,
                     help="html: one self-contained file (pictures inline); md: Markdown "
                          "with the PNGs beside it; json: for machines")
    cmd.add_argument("--out", type=Path, default=Path("."), metavar="DIR",
                     help="folder to write into (default: the current one)")
    cmd.set_defaults(handler=cmd_report)


def report_name(args: argparse.Namespace) -> str:
    """``report-RA-64523-2020-08-18-2020-08-27``: the file name, safe on any system."""
    who = args.registration or "-".join(args.icao or [])
    parts = [who] + [f"{t:%Y-%m-%d}" for t in (args.since, args.until) if t is not None]
    return "report-" + re.sub(r"[^A-Za-z0-9.-]+", "_", "-".join(parts))


def cmd_report(args: argparse.Namespace) -> int:
    from flightwatch.alerts.engine import load_fences
    from flightwatch.cli.common import engine_for
    from flightwatch.cli.selection import selected_icaos
    from flightwatch.output.alert_picture import map_layers
    from flightwatch.output.files import write_atomically
    from flightwatch.output.report import (
        read_report,
        report_html,
        report_json,
        report_markdown,
    )

    if not args.registration and not args.icao:
        raise UsageError("name the aircraft: --registration R or --icao HEX")
    settings = settings_from(args)
    engine = engine_for(settings, create=False)  # a report reads: it creates no database
    icaos = selected_icaos(args, engine) or []
    layers = map_layers(settings, engine) if args.format != "json" else None
    report = read_report(
        engine, registration=args.registration, icaos=icaos, since=args.since,
        until=args.until, fences=layers.fences if layers else load_fences(settings.geofences),
        layers=layers, generated=datetime.now(UTC))
    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / f"{report_name(args)}.{args.format}"
    if args.format == "html":
        text = report_html(report)
    elif args.format == "json":
        text = report_json(report)
    else:
        text = report_markdown(report)
        for story in report.flights:
            if story.picture:
                write_atomically(args.out / story.picture_name, story.picture)
    write_atomically(target, text.encode("utf-8"))
    print(f"{target}: {len(report.flights)} flights, {len(report.lines)} lines, "
          f"{len(report.alerts)} alerts", file=sys.stdout)
    return EXIT_OK
