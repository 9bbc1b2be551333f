"""The watchlist matcher: which observations are watched airframes, and why.

The entries come from watchlist files (:mod:`flightwatch.db.watchlist_file`) and the
database; :class:`Watchlist` is the matcher the pipeline calls for every observation;
it only does dictionary lookups and integer comparisons.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from flightwatch.db.watchlist_file import (
    RowProblem,
    WatchlistEntry,
    WatchlistError,
    matchable_registration,
    merge_entries,
    normalise_registration,
    read_watchlist,
)

log = logging.getLogger(__name__)

MatchedBy = Literal["icao", "registration", "callsign_prefix", "address_block"]
Confidence = Literal["high", "low"]

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
            if matchable_registration(norm):
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
