"""What every command module shares: exit codes, common options, settings and engine."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from flightwatch.settings import Settings, load_settings

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2

class UsageError(Exception):
    """Bad arguments or configuration: exit 2 with the message."""


def time_arg(text: str) -> datetime:
    from flightwatch.timeparse import parse_time

    try:
        return parse_time(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=Path, default=None, metavar="FILE",
        help="TOML configuration (default: built-in defaults)",
    )


def add_output(parser: argparse.ArgumentParser) -> None:
    """``--format`` and ``--out`` of the commands that print rows or tracks."""
    parser.add_argument(
        "--format", default="table", choices=("table", "csv", "json", "geojson", "kml"),
    )
    parser.add_argument("--out", type=Path, metavar="FILE", help="write here, not stdout")


@contextmanager
def output_to(path: Path | None) -> Iterator[TextIO]:
    """The ``--out`` file, or stdout (left open) without one."""
    if path is None:
        yield sys.stdout
        return
    with open(path, "w", encoding="utf-8") as out:
        yield out


def add_capture_options(parser: argparse.ArgumentParser) -> None:
    """``--start`` and ``--no-progress``, for the commands that read captures."""
    parser.add_argument(
        "--start", type=time_arg, default=None, metavar="TIME",
        help="wall-clock time of the first frame, for formats with a relative clock "
             "(Beast, AVR); default: the file's modification time",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def settings_from(args: argparse.Namespace) -> Settings:
    return load_settings(args.config)


def engine_for(settings: Settings) -> Any:
    from flightwatch.db import connect

    return connect(settings.database_url)


def reader_for(settings: Settings) -> Any:
    """What the query commands read through: no SQLAlchemy on a current SQLite database
    (``db.reader``); a new or older one is created or upgraded as by ``engine_for``."""
    from flightwatch.db.reader import open_reader

    return open_reader(settings.database_url)


