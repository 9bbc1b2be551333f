"""The ``flightwatch`` command.

Exit codes: 0 ok, 1 runtime failure, 2 bad usage or configuration.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from flightwatch import __version__
from flightwatch.cli_common import (
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    add_config,
    engine_for,
    settings_from,
    time_arg,
)
from flightwatch.selection import add_selection_arguments, selection_from
from flightwatch.settings import ConfigError

log = logging.getLogger("flightwatch")

HISTORY_FIELDS = (
    "icao", "time", "lat", "lon", "altitude_ft", "ground_speed_kt", "track_deg",
    "vertical_rate_fpm", "callsign", "on_ground", "source",
)

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flightwatch",
        description="Watch ADS-B for state aircraft over a geofence; keep and query the history.",
    )
    parser.add_argument("--version", action="version", version=f"flightwatch {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="the daemon: all enabled sources, alerts, storage")
    add_config(run)
    run.set_defaults(handler=cmd_run)

    replay = commands.add_parser("replay", help="push recorded captures through the pipeline")
    replay.add_argument("files", nargs="+", type=Path, metavar="FILE")
    replay.add_argument(
        "--format", default="auto", choices=("auto", "beast", "avr", "sbs", "csv", "tsv"),
        help="capture format (default: detected)",
    )
    replay.add_argument("--realtime", action="store_true", help="pace frames by the capture clock")
    replay.add_argument(
        "--start", type=time_arg, default=None, metavar="TIME",
        help="wall-clock time of the first frame, for formats with a relative clock "
             "(Beast, AVR); default: the file's modification time",
    )
    replay.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_config(replay)
    replay.set_defaults(handler=cmd_replay)

    history = commands.add_parser("history", help="stored positions of aircraft")
    add_selection_arguments(history)
    history.add_argument(
        "--format", default="table", choices=("table", "csv", "json", "geojson", "kml"),
    )
    history.add_argument("--out", type=Path, metavar="FILE", help="write here, not stdout")
    add_config(history)
    history.set_defaults(handler=cmd_history)

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = db_commands.add_parser("upgrade", help="apply schema migrations")
    add_config(upgrade)
    upgrade.set_defaults(handler=cmd_db_upgrade)
    from flightwatch import cmd_db_copy  # here: like the command modules below
    cmd_db_copy.register(db_commands)

    check = commands.add_parser("check-config", help="validate the configuration")
    add_config(check)
    check.set_defaults(handler=cmd_check_config)
    from flightwatch import cmd_alerts, cmd_watchlist  # here: they import this module
    cmd_watchlist.register(commands)
    cmd_alerts.register(commands)
    from flightwatch import cmd_airports, cmd_flights
    cmd_flights.register(commands)
    cmd_airports.register(commands)
    from flightwatch import cmd_map
    cmd_map.register(commands)
    from flightwatch import cmd_status
    cmd_status.register(commands)
    return parser


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from flightwatch.db import open_engine, upgrade

    settings = settings_from(args)
    applied = upgrade(open_engine(settings.database_url))
    print(f"applied: {', '.join(applied)}" if applied else "database is up to date")
    return EXIT_OK


def cmd_check_config(args: argparse.Namespace) -> int:
    from flightwatch.checks import check

    settings = settings_from(args)
    problems, lines = check(settings)
    for line in lines:
        print(line)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return EXIT_USAGE if problems else EXIT_OK


def cmd_replay(args: argparse.Namespace) -> int:
    from flightwatch.replay import replay_files

    settings = settings_from(args)
    show_progress = not args.no_progress and sys.stderr.isatty()
    summary = replay_files(
        settings, args.files, fmt=args.format, start=args.start, realtime=args.realtime,
        progress=show_progress,
    )
    print(summary.render())
    return EXIT_OK


def cmd_history(args: argparse.Namespace) -> int:
    from flightwatch.formats import write

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


def cmd_run(args: argparse.Namespace) -> int:
    from flightwatch.daemon import run_daemon

    return run_daemon(settings_from(args))


def _setup_logging(verbosity: int) -> None:
    level = logging.DEBUG if verbosity > 1 else logging.INFO
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%Y-%m-%dT%H:%M:%S",
        stream=sys.stderr,
    )
    if verbosity < 2:
        logging.getLogger("alembic").setLevel(logging.WARNING)
        logging.getLogger("apscheduler").setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args.verbose)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"flightwatch: configuration error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    except UsageError as exc:
        print(f"flightwatch: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("flightwatch: interrupted", file=sys.stderr)
        return EXIT_FAILURE
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:
        from flightwatch.errors import user_error

        message, code = user_error(exc)
        if message is None:
            raise
        print(f"flightwatch: {message}", file=sys.stderr)
        return code


if __name__ == "__main__":
    sys.exit(main())
