"""What every command module shares: exit codes, common options, settings and engine."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from flightwatch.settings import Settings, load_settings

if TYPE_CHECKING:
    from flightwatch.output.columns import Columns, TableStyle

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
ROW_FORMATS = ("table", "csv", "json")
ALL_FORMATS = (*ROW_FORMATS, "geojson", "kml")


class UsageError(Exception):
    """Bad arguments or configuration: exit 2 with the message."""


def time_arg(text: str) -> datetime:
    """A time where a window starts (``--since``, ``--start``): a month or day is its first
    instant."""
    from flightwatch.timeparse import parse_time

    try:
        return parse_time(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def until_arg(text: str) -> datetime:
    """A time where a window ends, exclusive (``--until``): a month or day is its end, so
    ``--since 2020-08 --until 2020-08`` is the whole month."""
    from flightwatch.timeparse import parse_time

    try:
        return parse_time(text, end=True)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_time_window(
    parser: argparse.ArgumentParser, since_help: str = "from T: 2020-08, 2020-08-19, ISO "
    "time, or 24h, 7d ago", until_help: str = "before T (a month or day: up to its end)",
) -> None:
    """``--since`` and ``--until``, which every command reads the same way."""
    parser.add_argument("--since", type=time_arg, metavar="T", help=since_help)
    parser.add_argument("--until", type=until_arg, metavar="T", help=until_help)


def add_output(
    parser: argparse.ArgumentParser, columns: Columns, formats: Sequence[str] = ALL_FORMATS,
    to_file: bool = True,
) -> None:
    """``--format``, ``--wide``, ``--columns`` (and ``--out``) of the commands that print
    ``columns`` (:mod:`output.columns`)."""
    parser.add_argument("--format", default="table", choices=formats)
    if to_file:
        parser.add_argument("--out", type=Path, metavar="FILE", help="write here, not stdout")
    parser.add_argument("--wide", action="store_true",
                        help="table: every field, times in full (as CSV and JSON have them)")
    parser.add_argument(
        "--columns", metavar="A,B,...",
        help=f"only these fields, in this order: {', '.join(columns.fields)} (or the "
             "table's short headings)")


def output_columns(args: argparse.Namespace, columns: Columns) -> tuple[
        tuple[str, ...], TableStyle]:
    """The fields to write and the table's style, from ``--format/--wide/--columns``;
    called before anything is read or any file opened, so a bad name costs nothing."""
    from flightwatch.output.columns import UnknownColumn

    if args.columns is not None and args.format not in ROW_FORMATS:
        raise UsageError("--columns applies to --format table, csv or json, "
                         f"not --format {args.format}")
    try:
        return columns.choose(args.format, wide=args.wide, names=args.columns)
    except UnknownColumn as exc:
        raise UsageError(str(exc)) from None


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


def engine_for(settings: Settings, *, create: bool = True) -> Any:
    """The database, upgraded; ``create=False`` for commands that only read it, which
    stop with a usage error where there is no database (:mod:`cli.no_database`)."""
    from flightwatch.cli.no_database import require_database
    from flightwatch.db import connect

    if not create:
        require_database(settings)
    return connect(settings.database_url)


def reader_for(settings: Settings) -> Any:
    """What the query commands read through: no SQLAlchemy on a current SQLite database
    (``db.reader``); an older one is upgraded as by ``engine_for``, none is created."""
    from flightwatch.cli.no_database import require_database
    from flightwatch.db.reader import open_reader

    require_database(settings)
    return open_reader(settings.database_url)


