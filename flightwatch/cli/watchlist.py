"""``flightwatch watchlist import FILE | list | add HEX... | remove HEX...``.

These commands change the watchlist table; ``flightwatch run`` adds the configured
``[watchlist] files`` to it at start and on reload (SIGHUP). Entries added by hand
win over files and imports; see ``db/watchlist.py`` for who may change which row.

Exit codes: 0 done; 1 ``remove`` of an address that is not in the watchlist (like
``rm`` of a missing file: the caller asked for something that did not happen);
2 a bad address or option, or a file that cannot be imported (the message names it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from flightwatch.cli.common import (
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_USAGE,
    ROW_FORMATS,
    add_output,
    engine_for,
    output_columns,
    reader_for,
    settings_from,
)
from flightwatch.output.columns import Columns

LIST_FIELDS = (
    "icao", "registration", "operator", "aircraft_type", "category", "group", "origin",
    "updated",
)
LIST_COLUMNS = Columns(LIST_FIELDS, compact=(
    "icao", "registration", "operator", "aircraft_type", "group"))


def register(commands: Any) -> None:
    """Add the ``watchlist`` command and its actions to the CLI's subparsers."""
    watchlist = commands.add_parser("watchlist", help="show and change the watched aircraft")
    actions = watchlist.add_subparsers(dest="watchlist_command", required=True, metavar="ACTION")

    imp = actions.add_parser(
        "import", help="import a watchlist CSV (flightwatch or plane-alert-db format)"
    )
    imp.add_argument("file", type=Path, metavar="FILE",
                     help="watchlist CSV: flightwatch's columns or plane-alert-db's")
    imp.add_argument("--no-progress", action="store_true", help="no progress bar")
    imp.set_defaults(handler=cmd_import)

    show = actions.add_parser("list", help="the watched aircraft and where each came from")
    add_output(show, LIST_COLUMNS, ROW_FORMATS, to_file=False)
    show.add_argument("--group", metavar="G", help="only this group, e.g. RU_MOD")
    show.set_defaults(handler=cmd_list)

    add = actions.add_parser("add", help="watch aircraft by ICAO address (added by hand)")
    add.add_argument("icaos", nargs="+", metavar="HEX", help="24-bit ICAO address, 6 hex digits")
    add.add_argument("--registration", metavar="R", help="e.g. RA-96016 (one HEX only)")
    add.add_argument("--operator", metavar="O")
    add.add_argument("--type", dest="aircraft_type", metavar="T", help="aircraft type")
    add.add_argument("--category", metavar="C")
    add.add_argument("--group", metavar="G", help="why it is watched, e.g. RU_MOD")
    add.set_defaults(handler=cmd_add)

    remove = actions.add_parser("remove", help="stop watching aircraft")
    remove.add_argument("icaos", nargs="+", metavar="HEX",
                        help="24-bit ICAO address, 6 hex digits")
    remove.set_defaults(handler=cmd_remove)


def _usage(message: str) -> int:
    print(f"flightwatch: {message}", file=sys.stderr)
    return EXIT_USAGE


def _addresses(values: list[str]) -> list[str] | str:
    """Normalised addresses, or the message naming the first bad one."""
    from flightwatch.decoder import normalise_icao

    found = []
    for value in values:
        icao = normalise_icao(value)
        if icao is None:
            return f"{value!r} is not a 24-bit ICAO address (6 hex digits, e.g. 15002B)"
        found.append(icao)
    return found


class _ProgressBar:
    """A tqdm bar on stderr, shown only on a terminal and only if the write takes a while."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit="rows", desc="importing", delay=0.5,
                             file=sys.stderr)
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def cmd_import(args: argparse.Namespace) -> int:
    from flightwatch.db.watchlist import import_file

    engine = engine_for(settings_from(args))
    bar = _ProgressBar(not args.no_progress and sys.stderr.isatty())
    try:
        report = import_file(engine, args.file, progress=bar)
    finally:
        bar.close()
    for problem in report.problems:
        print(problem, file=sys.stderr)
    for note in report.clipped:
        print(f"{args.file}: {note}", file=sys.stderr)
    if report.imported + report.kept == 0:
        return _usage(f"{args.file}: no usable rows to import")
    summary = (
        f"{args.file} ({report.format} format): {report.imported} entries imported "
        f"({report.added} added, {report.updated} updated, {report.unchanged} unchanged)"
    )
    if report.kept:
        summary += f"; {report.kept} left as they were added by hand"
    if report.problems:
        summary += f"; {len(report.problems)} rows skipped or merged (listed on stderr)"
    print(summary)
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    from flightwatch.db.watchlist_queries import stored_entries
    from flightwatch.output.formats import write

    fields, style = output_columns(args, LIST_COLUMNS)
    with reader_for(settings_from(args)) as reader:
        rows = stored_entries(reader, group=args.group)
    write(rows, sys.stdout, args.format, fields, style)
    return EXIT_OK


def cmd_add(args: argparse.Namespace) -> int:
    icaos = _addresses(args.icaos)
    if isinstance(icaos, str):
        return _usage(icaos)
    if args.registration and len(icaos) > 1:
        return _usage("--registration names one airframe: give a single HEX with it")
    from flightwatch.db.watchlist import add

    engine = engine_for(settings_from(args))
    for icao in icaos:
        new = add(
            engine, icao, registration=args.registration, operator=args.operator,
            aircraft_type=args.aircraft_type, category=args.category, group=args.group,
        )
        print(f"{'added' if new else 'updated'} {icao} (by hand: files and imports leave it)")
    return EXIT_OK


def cmd_remove(args: argparse.Namespace) -> int:
    icaos = _addresses(args.icaos)
    if isinstance(icaos, str):
        return _usage(icaos)
    from flightwatch.db.watchlist import is_file_owned, remove
    from flightwatch.db.watchlist_queries import get

    engine = engine_for(settings_from(args), create=False)
    missing = 0
    for icao in icaos:
        stored = get(engine, icao)
        if stored is None or not remove(engine, icao):
            print(f"flightwatch: {icao} is not in the watchlist", file=sys.stderr)
            missing += 1
            continue
        print(f"removed {icao}")
        if stored.origin and is_file_owned(stored.origin):
            print(
                f"flightwatch: {icao} comes from {stored.origin}; it returns when the daemon "
                f"next loads that file unless you delete it there",
                file=sys.stderr,
            )
    return EXIT_FAILURE if missing else EXIT_OK
