"""The watchlist: which airframes we care about, read from CSV and matched per observation.

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

:class:`Watchlist` is the matcher the pipeline calls for every observation; it only
does dictionary lookups and integer comparisons.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Literal, NamedTuple

from flightwatch.decoder import normalise_icao

log = logging.getLogger(__name__)

MatchedBy = Literal["icao", "registration", "callsign_prefix", "address_block"]
Confidence = Literal["high", "low"]

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


@dataclass(frozen=True, slots=True)
class Match:
    """Why an observation matched: by what, which entry, and how sure we are."""

    matched_by: MatchedBy
    entry: WatchlistEntry
    confidence: Confidence


@dataclass(frozen=True, slots=True)
class IdentityAnomaly:
    """A watched registration (or a callsign spelling one) heard from another address."""

    registration: str  # as in the watchlist
    seen_icao: str
    expected_icaos: tuple[str, ...]
    seen_as: Literal["registration", "callsign"]
    entry: WatchlistEntry


@dataclass(frozen=True, slots=True)
class CallsignPrefix:
    """A 3-letter ICAO operator designator whose callsigns are watched."""

    prefix: str
    operator: str = ""
    group: str = ""
    confidence: str = "high"  # as the designator table says: high | medium | low


@dataclass(frozen=True, slots=True)
class AddressBlock:
    """A range of 24-bit addresses a state allocates; matches are only ``low`` confidence."""

    start: int
    end: int  # inclusive
    country: str


# ICAO Annex 10 allocations (icao_address_blocks_ru_by.csv). Belarus: tar1090's 510000-5107FF,
# a superset of dump1090's 510000-5103FF; no other state holds 510400-5107FF in either table.
DEFAULT_ADDRESS_BLOCKS = (
    AddressBlock(0x100000, 0x1FFFFF, "RU"),
    AddressBlock(0x510000, 0x5107FF, "BY"),
)

_REG_DROP = str.maketrans("", "", "- ./")


def normalise_registration(value: str) -> str:
    """Upper case without dashes, dots, slashes and blanks: ``ra-96016`` -> ``RA96016``."""
    return value.translate(_REG_DROP).upper()


def _matchable_registration(norm: str) -> bool:
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


def read_callsign_prefixes(path: str | Path) -> list[CallsignPrefix]:
    """The operator-designator table (``config/callsign_prefixes.csv``)."""
    try:
        with Path(path).open(encoding="utf-8-sig", newline="") as src:
            rows = list(csv.DictReader(src))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise WatchlistError(f"{path}: cannot read callsign prefixes: {exc}") from exc
    prefixes = []
    for line, row in enumerate(rows, start=2):
        prefix = (row.get("prefix") or "").strip().upper()
        if len(prefix) != 3 or not prefix.isalpha():
            raise WatchlistError(f"{path}:{line}: prefix {prefix!r} is not 3 letters")
        prefixes.append(
            CallsignPrefix(
                prefix,
                (row.get("operator") or "").strip(),
                (row.get("group") or "").strip(),
                (row.get("confidence") or "").strip().lower() or "low",
            )
        )
    return prefixes


def default_prefixes(table: Iterable[CallsignPrefix]) -> list[str]:
    """The prefixes watched unless configured otherwise: the high-confidence ones."""
    return [p.prefix for p in table if p.confidence == "high"]


class Watchlist:
    """In-memory indexes over watchlist entries; :meth:`match` runs on every observation.

    Matching order: ICAO address, registration, callsign prefix, address block (only
    when ``address_blocks`` is given; off by default because the Russian block also
    holds every Russian civil aircraft).

    Callsign rule: the callsign (blanks and ``_`` padding stripped, upper case) starts
    with a watched 3-letter designator followed by 1-5 letters or digits. A digit
    after the designator (``RSD016``) is the ICAO flight-number form and matches with
    the designator's own confidence; a letter (``RSDX``, ``RSDA12``) is not the usual
    form for these operators and may be an unrelated callsign, so it matches with
    ``low`` confidence. The bare designator (``RSD``) does not match.
    """

    def __init__(
        self,
        entries: Iterable[WatchlistEntry],
        callsign_prefixes: Iterable[CallsignPrefix | str] = (),
        address_blocks: Sequence[AddressBlock] = (),
    ) -> None:
        self._by_icao: dict[str, WatchlistEntry] = {}
        self._by_registration: dict[str, list[WatchlistEntry]] = {}
        for entry in entries:
            self._by_icao.setdefault(entry.icao, entry)
            norm = normalise_registration(entry.registration)
            if _matchable_registration(norm):
                self._by_registration.setdefault(norm, []).append(entry)
        # Matches are immutable: build them once, not per observation.
        self._icao_matches = {k: Match("icao", e, "high") for k, e in self._by_icao.items()}
        self._registration_matches = {
            k: Match("registration", e[0], "high") for k, e in self._by_registration.items()
        }
        self._prefixes: dict[str, CallsignPrefix] = {}
        for item in callsign_prefixes:
            p = CallsignPrefix(item.upper()) if isinstance(item, str) else item
            self._prefixes[p.prefix.upper()] = p
        self._blocks = tuple(address_blocks)

    def __len__(self) -> int:
        return len(self._by_icao)

    def __contains__(self, icao: object) -> bool:
        return icao in self._by_icao

    def get(self, icao: str) -> WatchlistEntry | None:
        return self._by_icao.get(icao)

    @property
    def entries(self) -> list[WatchlistEntry]:
        return list(self._by_icao.values())

    def match(
        self, icao: str, registration: str | None = None, callsign: str | None = None
    ) -> Match | None:
        """The best reason to watch this aircraft, or None. ``icao`` is upper-case hex."""
        found = self._icao_matches.get(icao)
        if found is not None:
            return found
        if registration:
            found = self._registration_matches.get(normalise_registration(registration))
            if found is not None:
                return found
        if callsign:
            found = self._match_callsign(icao, callsign)
            if found is not None:
                return found
        if self._blocks:
            return self._match_block(icao)
        return None

    def _match_callsign(self, icao: str, callsign: str) -> Match | None:
        text = callsign.strip(" _").upper()
        prefix = self._prefixes.get(text[:3])
        if prefix is None or not 4 <= len(text) <= 8 or not text.isalnum():
            return None
        confident = prefix.confidence == "high" and text[3].isdigit()
        entry = WatchlistEntry(
            icao, operator=prefix.operator, category="callsign prefix", group=prefix.group
        )
        return Match("callsign_prefix", entry, "high" if confident else "low")

    def _match_block(self, icao: str) -> Match | None:
        try:
            address = int(icao, 16)
        except ValueError:
            return None
        for block in self._blocks:
            if block.start <= address <= block.end:
                entry = WatchlistEntry(
                    icao, category="address block", group=f"{block.country}_ADDRESS_BLOCK"
                )
                return Match("address_block", entry, "low")
        return None

    def identity_anomaly(
        self, icao: str, registration: str | None = None, callsign: str | None = None
    ) -> IdentityAnomaly | None:
        """A watched registration heard from an address the watchlist does not give it.

        Checks the reported registration, then the callsign (state aircraft often fly
        with their registration as callsign, e.g. ``RA96016``). Registrations held by
        several addresses in the watchlist (re-coded transponders) are anomalous only
        when ``icao`` is none of them.
        """
        candidates: tuple[tuple[str | None, Literal["registration", "callsign"]], ...] = (
            (registration, "registration"),
            (callsign.strip(" _") if callsign else None, "callsign"),
        )
        for value, seen_as in candidates:
            if not value:
                continue
            entries = self._by_registration.get(normalise_registration(value))
            if not entries:
                continue
            expected = tuple(e.icao for e in entries)
            if icao in expected:
                return None
            return IdentityAnomaly(entries[0].registration, icao, expected, seen_as, entries[0])
        return None


def load_watchlist(
    paths: Iterable[str | Path],
    callsign_prefixes: Iterable[CallsignPrefix | str] = (),
    address_blocks: Sequence[AddressBlock] = (),
) -> tuple[Watchlist, list[RowProblem]]:
    """A matcher over several files, merged (first file wins), and every row problem."""
    problems: list[RowProblem] = []
    loaded = []
    for path in paths:
        result = read_watchlist(path)
        problems.extend(result.problems)
        loaded.append((str(path), result.entries, [0] * len(result.entries)))
    entries, duplicates = merge_entries(loaded)
    if duplicates:
        log.info(
            "%d ICAO addresses are listed in more than one watchlist file; "
            "the first file's rows win",
            len(duplicates),
        )
    watchlist = Watchlist(entries, callsign_prefixes, address_blocks)
    return watchlist, problems
