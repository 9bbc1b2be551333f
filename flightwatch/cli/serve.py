"""``flightwatch serve``: the web pages and JSON API over the database, without the daemon
(``flightwatch run`` serves the same site itself when ``[web] listen`` is set)."""

from __future__ import annotations

import argparse
from typing import Any

from flightwatch.cli.common import EXIT_FAILURE, EXIT_OK, engine_for, settings_from

DEFAULT_LISTEN = "127.0.0.1:8080"


def register(commands: Any) -> None:
    """Add the ``serve`` command to the CLI's subparsers."""
    serve = commands.add_parser(
        "serve", help="web pages: aircraft now, alerts, history search (read-only)",
    )
    serve.add_argument(
        "--listen", metavar="HOST:PORT", default=None,
        help=f"address to serve on (default: [web] listen, else {DEFAULT_LISTEN})",
    )
    serve.set_defaults(handler=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    from flightwatch.db import close
    from flightwatch.settings import ConfigError, parse_listen
    from flightwatch.web.live import DatabaseView
    from flightwatch.web.server import marker_for, serve_forever

    settings = settings_from(args)
    listen = args.listen or settings["web"]["listen"] or DEFAULT_LISTEN
    try:
        parse_listen(listen)
    except ValueError as exc:
        raise ConfigError([f"--listen: {exc}"]) from None
    engine = engine_for(settings, create=False)
    # A daemon in another process commits positions every database.batch_seconds: look
    # back that much further than the tracker would remember an aircraft.
    window = settings["tracker"]["expire_after"] + settings["database"]["batch_seconds"]
    live = DatabaseView(engine, marker_for(settings, engine), window)
    try:
        return EXIT_OK if serve_forever(settings, engine, live, listen) else EXIT_FAILURE
    finally:
        close(engine)  # the pages' reads leave a -wal file otherwise
