"""``flightwatch import``: historical archives (traces, snapshots, OpenSky, captures)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from flightwatch.cli.common import (
    EXIT_FAILURE,
    EXIT_OK,
    UsageError,
    add_capture_options,
    add_config,
    settings_from,
    time_arg,
)

# Kept here (not imported from collector) so ``flightwatch --help`` stays fast.
FORMATS = (
    "auto", "trace", "globe-history", "aircraft-json", "opensky-csv", "opensky-parquet", "sbs",
    "beast", "avr", "csv", "tsv",
)  # fmt: skip
ALERT_MODES = ("none", "store", "notify")


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "import", help="import historical archives into the history, flights and alerts",
        description="Import readsb/tar1090 traces, aircraft.json snapshot archives, OpenSky "
                    "state-vector CSV or Parquet and captures (files, folders or tarballs, "
                    "gzip or not) through the same tracker, flights and alert rules as live data.",
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="FILE|DIR")
    parser.add_argument("--format", default="auto", choices=FORMATS,
                        help="format of the files (default: detected per file)")
    parser.add_argument("--since", type=time_arg, metavar="T",
                        help="only positions at or after T (ISO time or 24h, 7d)")
    parser.add_argument("--until", type=time_arg, metavar="T", help="only positions before T")
    parser.add_argument(
        "--alerts", default="store", choices=ALERT_MODES,
        help="store: run the rules and store the alerts marked retrospective, send nothing "
             "(default); notify: send them too; none: no rules",
    )
    add_capture_options(parser)
    add_config(parser)
    parser.set_defaults(handler=cmd_import)


def cmd_import(args: argparse.Namespace) -> int:
    from flightwatch.daemon.importer import import_archives

    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        raise UsageError(f"no such file or folder: {', '.join(missing)}")
    if args.since and args.until and args.since >= args.until:
        raise UsageError("--since must be before --until")
    settings = settings_from(args)
    summary = import_archives(
        settings, args.paths, fmt=args.format, since=args.since, until=args.until,
        start=args.start, alerts=args.alerts,
        progress=not args.no_progress and sys.stderr.isatty(),
    )
    print(summary.render())
    return EXIT_FAILURE if summary.interrupted else EXIT_OK
