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
    add_time_window,
    settings_from,
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
                    "gzip or not), or OpenSky's historical database, through the same tracker, "
                    "flights and alert rules as live data.",
    )
    parser.add_argument("paths", nargs="*", type=Path, metavar="FILE|DIR",
                        help="files, folders (read recursively, in name order) or tarballs")
    parser.add_argument(
        "--opensky-history", action="store_true",
        help="instead of files, ask OpenSky's historical database (an OpenSky account with "
             "access to it; needs --since, --until and --icao or --watched)",
    )
    parser.add_argument("--icao", action="append", default=[], metavar="HEX",
                        help="--opensky-history: an aircraft to ask for (repeatable)")
    parser.add_argument("--watched", action="store_true",
                        help="--opensky-history: ask for every aircraft on the watchlist")
    parser.add_argument("--format", default="auto", choices=FORMATS,
                        help="format of the files (default: detected per file)")
    add_time_window(parser, since_help="only positions at or after T (2020-08, 2020-08-19, "
                    "ISO time, or 24h, 7d ago)",
                    until_help="only positions before T (a month or day: up to its end)")
    parser.add_argument(
        "--alerts", default="store", choices=ALERT_MODES,
        help="store: run the rules and store the alerts marked retrospective, send nothing "
             "(default); notify: send them too; none: no rules",
    )
    add_capture_options(parser)
    parser.set_defaults(handler=cmd_import)


def cmd_import(args: argparse.Namespace) -> int:
    if args.since and args.until and args.since >= args.until:
        raise UsageError("--since must be before --until")
    if args.opensky_history:
        return _import_history(args)
    if args.icao or args.watched:
        raise UsageError("--icao and --watched go with --opensky-history")
    if not args.paths:
        raise UsageError("name the files or folders to import (or use --opensky-history)")
    from flightwatch.daemon.importer import import_archives

    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        raise UsageError(f"no such file or folder: {', '.join(missing)}")
    settings = settings_from(args)
    summary = import_archives(
        settings, args.paths, fmt=args.format, since=args.since, until=args.until,
        start=args.start, alerts=args.alerts, progress=_progress(args),
    )
    print(summary.render())
    return EXIT_FAILURE if summary.interrupted or not summary.saved else EXIT_OK


def _import_history(args: argparse.Namespace) -> int:
    if args.paths:
        raise UsageError("--opensky-history takes no files")
    if args.since is None or args.until is None:
        raise UsageError("--opensky-history needs --since and --until (OpenSky's database "
                         "is asked one day at a time)")
    if not args.icao and not args.watched:
        raise UsageError("--opensky-history needs --icao HEX (repeatable) or --watched")
    from flightwatch.daemon.importer import import_opensky_history

    summary = import_opensky_history(
        settings_from(args), args.icao, since=args.since, until=args.until,
        watched=args.watched, alerts=args.alerts, progress=_progress(args),
    )
    print(summary.render())
    return EXIT_FAILURE if summary.interrupted or summary.bad or not summary.saved else EXIT_OK


def _progress(args: argparse.Namespace) -> bool:
    return not args.no_progress and sys.stderr.isatty()
