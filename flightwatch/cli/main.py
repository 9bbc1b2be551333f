"""The ``flightwatch`` command.

Exit codes: 0 ok, 1 runtime failure, 2 bad usage or configuration.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from flightwatch.cli import (
    airports,
    alerts,
    check_config,
    flights,
    history,
    imports,
    notify_test,
    serve,
    status,
    watchlist,
)
from flightwatch.cli import db as db_cli
from flightwatch.cli import map as map_cli
from flightwatch.cli import run as run_cli
from flightwatch.cli.common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError
from flightwatch.settings import ConfigError

log = logging.getLogger("flightwatch")

# In the order ``flightwatch --help`` lists them. Each module's ``register(commands)`` adds
# its subcommands; each module imports what its command needs only when it runs.
COMMANDS = (
    run_cli, imports, history, db_cli, check_config, watchlist, alerts, notify_test, flights,
    airports, map_cli, serve, status,
)


class _Version(argparse.Action):
    """``--version``, with the version looked up only when asked for."""

    def __call__(self, parser: argparse.ArgumentParser, *_args: object, **_kw: object) -> None:
        import flightwatch

        parser.exit(message=f"flightwatch {flightwatch.__version__}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flightwatch",
        description="Watch ADS-B for state aircraft over a geofence; keep and query the history.",
    )
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version and exit")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.register(commands)
    return parser


class RedactingFormatter(logging.Formatter):
    """Every log line, traceback included, through the one redaction: a library's error
    may quote a URL with its password or token (decoder/redaction.py)."""

    def format(self, record: logging.LogRecord) -> str:
        from flightwatch.decoder.redaction import redact

        return redact(super().format(record))


def _setup_logging(verbosity: int) -> None:
    level = logging.DEBUG if verbosity > 1 else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%Y-%m-%dT%H:%M:%S"))
    logging.basicConfig(level=level, handlers=[handler])
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
        from flightwatch.decoder.redaction import redact

        print(f"flightwatch: {redact(message)}", file=sys.stderr)
        return code

