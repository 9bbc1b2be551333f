"""The ``flightwatch`` command.

Exit codes: 0 ok, 1 runtime failure, 2 bad usage or configuration.

The global options (``--config``, ``-v``) are taken before or after the command, as git,
kubectl and gh take theirs: every command's parser is a :class:`CommandParser`, which
adds them itself, so a command added later has them without a line of its own. Given on
both sides, the one after the command wins.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from flightwatch.cli import (
    airports,
    alerts,
    check_config,
    flights,
    history,
    imports,
    notify_test,
    report,
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
    airports, map_cli, report, serve, status,
)


class _Version(argparse.Action):
    """``--version``, with the version looked up only when asked for."""

    def __call__(self, parser: argparse.ArgumentParser, *_args: object, **_kw: object) -> None:
        import flightwatch

        parser.exit(message=f"flightwatch {flightwatch.__version__}\n")


def add_global_options(parser: argparse.ArgumentParser, *, after_command: bool) -> None:
    """``--config`` and ``-v``. After the command their defaults are SUPPRESS: argparse
    then sets them only when given, over what was given before the command."""
    config_default, verbose_default = ((argparse.SUPPRESS, argparse.SUPPRESS)
                                       if after_command else (None, 0))
    parser.add_argument("--config", type=Path, default=config_default, metavar="FILE",
                        help="TOML configuration (default: built-in defaults)")
    parser.add_argument("-v", "--verbose", action="count", default=verbose_default,
                        help="more log output")


class CommandParser(argparse.ArgumentParser):
    """The parser of a command (and of its actions): the global options, and an unknown
    option answered with this command's usage and the option it resembles."""

    def __init__(self, **kwargs: Any) -> None:
        self.option_names: list[str] = []  # filled by add_argument, -h first
        super().__init__(**kwargs)
        add_global_options(self, after_command=True)
        self.set_defaults(command_parser=self)  # the innermost command parsed sets it last

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        action = super().add_argument(*args, **kwargs)
        self.option_names += action.option_strings
        return action

    def reject(self, extras: Sequence[str]) -> NoReturn:
        """Exit 2 with this command's usage, naming ``extras`` and, for a mistyped
        option, the closest one this command has."""
        import difflib

        message = f"unrecognized arguments: {' '.join(extras)}"
        for extra in extras:
            if not extra.startswith("-"):
                continue
            close = difflib.get_close_matches(extra.partition("=")[0], self.option_names, n=1)
            if close:
                message += f" (did you mean {close[0]}?)"
                break
        self.error(message)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flightwatch",
        description="Watch ADS-B for state aircraft over a geofence; keep and query the history.",
        epilog="--config and -v go before or after the command.",
    )
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version and exit")
    add_global_options(parser, after_command=False)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     parser_class=CommandParser)
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
    args, extras = parser.parse_known_args(argv)
    if extras:
        command_parser: CommandParser = args.command_parser
        command_parser.reject(extras)
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

