"""``flightwatch db upgrade`` and ``flightwatch db copy --to URL`` (SQLite -> PostgreSQL)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from flightwatch.cli.common import EXIT_OK, EXIT_USAGE, settings_from


def register(commands: Any) -> None:
    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = db_commands.add_parser("upgrade", help="apply schema migrations")
    upgrade.set_defaults(handler=cmd_db_upgrade)

    copy = db_commands.add_parser(
        "copy", help="copy every table into another database (upgraded first)",
        description="Copy the whole database into another one, in batches. The target is "
                    "upgraded to the current schema first and must be empty unless --merge. "
                    "Safe to run again with --merge after an interruption.",
    )
    copy.add_argument("--to", required=True, metavar="URL", dest="target",
                      help="target database, e.g. postgresql+psycopg://user@host/flightwatch")
    copy.add_argument("--from", metavar="URL", dest="source",
                      help="source database (default: database.url of the configuration)")
    copy.add_argument("--merge", action="store_true",
                      help="copy into a database that already holds rows, keeping them")
    copy.add_argument("--batch", type=int, default=None, metavar="ROWS",
                      help="rows per transaction (default 10000)")
    copy.add_argument("--no-progress", action="store_true", help="no progress bar")
    copy.set_defaults(handler=cmd_db_copy)


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from flightwatch.db import open_engine, upgrade

    settings = settings_from(args)
    applied = upgrade(open_engine(settings.database_url))
    print(f"applied: {', '.join(applied)}" if applied else "database is up to date")
    return EXIT_OK


def cmd_db_copy(args: argparse.Namespace) -> int:
    from flightwatch.cli.no_database import require_database
    from flightwatch.db.copy import DEFAULT_BATCH_ROWS, TargetNotEmpty, copy_database

    source = args.source
    if source is None:
        settings = settings_from(args)
        require_database(settings)  # copying it would create it, to copy nothing
        source = settings.database_url
    batch = args.batch if args.batch is not None else DEFAULT_BATCH_ROWS
    if batch < 1:
        print("flightwatch: --batch must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    try:
        report = copy_database(
            source, args.target, merge=args.merge, batch_rows=batch,
            progress=not args.no_progress and sys.stderr.isatty(),
        )
    except TargetNotEmpty as exc:
        print(f"flightwatch: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(report.render())
    return EXIT_OK
