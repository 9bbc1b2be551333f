"""Watchlist files: flightwatch's own CSV and plane-alert-db's, read, validated, merged, written.

Two CSV formats are read, told apart by their header row:

- flightwatch's own ``icao,registration,operator,type,category,group``
  (``config/watchlist.csv``);
- plane-alert-db's ``$ICAO,$Registration,$Operator,$Type,$ICAO Type,#CMPG,...,Category,...``
  (``$``/``#`` column markers ignored; ``#watch_group`` read as the group when present).

Every row is validated. A bad row never raises: it is skipped and reported as a
:class:`RowProblem` (file, line, reason) next to the good entries. Only a file that
cannot be read or has no recognisable header raises :class:`WatchlistError`.

Duplicates (the same ICAO address twice, within a file or across files) are merged:
the **first** occurrence wins and later ones only fill fields it left empty. Put the
file whose values should win first in ``[watchlist] files``.

Here in db/ because the watchlist table stores these entries; the matcher in
:mod:`flightwatch.alerts.watchlist` builds on them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Literal, NamedTuple

from flightwatch.decoder import normalise_icao

FLIGHTWATCH_COLUMNS = ("icao", "registration", "operator", "type", "category", "group")

# Header name (lower case, ``$``/``#`` markers stripped) -> WatchlistEntry field.
_COLUMN_FIELDS = {
    "icao": "icao",
    "registration": "registration",
    "operator": "operator",
    "type": "aircraft_type",
    "category": "category",
    "group": "group",
    "watch_group": "group",
}


class WatchlistError(Exception):
    """A watchlist file that cannot be used at all (unreadable, no recognisable header)."""


@dataclass(frozen=True, slots=True)
class WatchlistEntry:
    """One watched airframe. Text fields are ``""`` when the source does not say."""

    icao: str  # six upper-case hex digits
    registration: str = ""
    operator: str = ""
    aircraft_type: str = ""
    category: str = ""
    group: str = ""  # why it is watched, e.g. RU_MOD, RU_STATE_TRANSPORT_RSD, BY_GOV


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A row that was skipped or merged, with where it is and why."""

    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


class LoadResult(NamedTuple):
    entries: list[WatchlistEntry]
    problems: list[RowProblem]
    format: Literal["flightwatch", "plane-alert-db"]


_REG_DROP = str.maketrans("", "", "- ./")


def normalise_registration(value: str) -> str:
    """Upper case without dashes, dots, slashes and blanks: ``ra-96016`` -> ``RA96016``."""
    return value.translate(_REG_DROP).upper()


def matchable_registration(norm: str) -> bool:
    """Whether a normalised registration is specific enough to match on.

    Bare military serials (``927``, ``3403``) are shared by many air forces, and
    placeholders like ``????`` name nothing, so neither is indexed.
    """
    return len(norm) >= 3 and norm.isalnum() and not norm.isdigit()


def _icao_reason(raw: str) -> str:
    text = raw.strip()
    if not text:
        return "ICAO address is empty"
    if "E+" in text.upper() or "." in text:
        return f"ICAO address {text!r} is not 6 hex digits (a spreadsheet turned it into a number)"
    if len(text) < 6 and all(c in "0123456789abcdefABCDEF" for c in text):
        return (
            f"ICAO address {text!r} has {len(text)} hex digits, not 6 "
            f"(leading zeros lost? it may be {text.zfill(6).upper()})"
        )
    return f"ICAO address {text!r} is not 6 hex digits"


def _header_fields(header: Sequence[str]) -> dict[int, str] | None:
    """Column index -> entry field, or None when ``header`` is not a watchlist header."""
    mapping: dict[int, str] = {}
    for index, cell in enumerate(header):
        name = cell.strip().lstrip("$#").strip().lower()
        field_name = _COLUMN_FIELDS.get(name)
        if field_name and field_name not in mapping.values():
            mapping[index] = field_name
    if "icao" not in mapping.values() or "registration" not in mapping.values():
        return None
    return mapping


def parse_watchlist(text: str, source: str) -> LoadResult:
    """Entries and row problems from CSV ``text``; ``source`` names it in messages."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    columns = _header_fields(header) if header else None
    if header is None or columns is None:
        raise WatchlistError(
            f"{source}: no watchlist header found (expected "
            f"'{','.join(FLIGHTWATCH_COLUMNS)}' or plane-alert-db's '$ICAO,$Registration,...')"
        )
    fmt: Literal["flightwatch", "plane-alert-db"] = (
        "plane-alert-db" if header[0].strip().startswith("$") else "flightwatch"
    )
    width = max(columns) + 1
    entries: list[WatchlistEntry] = []
    lines: list[int] = []
    problems: list[RowProblem] = []
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < width:
            problems.append(
                RowProblem(source, line, f"row has {len(row)} fields, the header needs {width}")
            )
            continue
        values = {name: row[index].strip() for index, name in columns.items()}
        icao = normalise_icao(values["icao"])
        if icao is None or icao == "000000":
            reason = _icao_reason(values["icao"]) if icao is None else "ICAO address 000000"
            problems.append(RowProblem(source, line, reason))
            continue
        values["icao"] = icao
        entries.append(WatchlistEntry(**values))
        lines.append(line)
    merged, duplicates = merge_entries([(source, entries, lines)])
    return LoadResult(merged, sorted(problems + duplicates, key=lambda p: p.line), fmt)


def read_watchlist(path: str | Path) -> LoadResult:
    """Read one watchlist file (either format, UTF-8, BOM allowed)."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise WatchlistError(f"{path}: cannot read watchlist: {exc}") from exc
    return parse_watchlist(text, str(path))


def merge_entries(
    sources: Iterable[tuple[str, Sequence[WatchlistEntry], Sequence[int]]],
) -> tuple[list[WatchlistEntry], list[RowProblem]]:
    """One entry per ICAO address: the first seen wins, later ones fill its empty fields.

    ``sources`` is (name, entries, line of each entry); each duplicate is reported.
    """
    by_icao: dict[str, WatchlistEntry] = {}
    first_at: dict[str, str] = {}
    problems: list[RowProblem] = []
    for source, entries, lines in sources:
        for entry, line in zip(entries, lines, strict=True):
            kept = by_icao.get(entry.icao)
            if kept is None:
                by_icao[entry.icao] = entry
                first_at[entry.icao] = f"{source}:{line}"
                continue
            filled = {
                f.name: getattr(entry, f.name)
                for f in fields(WatchlistEntry)
                if not getattr(kept, f.name) and getattr(entry, f.name)
            }
            if filled:
                by_icao[entry.icao] = replace(kept, **filled)
            problems.append(
                RowProblem(
                    source,
                    line,
                    f"duplicate ICAO address {entry.icao}: merged into the row at "
                    f"{first_at[entry.icao]}, which wins",
                )
            )
    return list(by_icao.values()), problems


def write_watchlist(path: str | Path, entries: Iterable[WatchlistEntry]) -> None:
    """Write entries in flightwatch's own format, sorted by ICAO address."""
    with Path(path).open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(FLIGHTWATCH_COLUMNS)
        for e in sorted(entries, key=lambda e: e.icao):
            writer.writerow(
                (e.icao, e.registration, e.operator, e.aircraft_type, e.category, e.group)
            )
