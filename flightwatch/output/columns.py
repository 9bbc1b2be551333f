"""Which fields a table shows, and how: the compact table a terminal can hold.

Every query command has one list of output fields (its contract: the CSV header, the
JSON keys, ``--wide``). Printed as a table, all of them made lines of 155 to 246
characters, which a Raspberry Pi's console or a phone's SSH session folds into noise. So
the table shows by default a few fields chosen for a reader (:attr:`Columns.compact`),
under short headings, with times to the minute or second, and narrows long free text
to fit :data:`TABLE_WIDTH` columns. ``--wide`` prints every field as CSV and JSON have
them; ``--columns a,b,c`` picks fields, in that order, for any tabular format.

A field added to a command's list is in ``--wide``, CSV and JSON at once, and can be
picked with ``--columns``; only the compact default is chosen by hand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

TABLE_WIDTH = 100
#: Free text is narrowed, when a table would be wider than TABLE_WIDTH, to no less.
NARROWEST_TEXT = 10
ELLIPSIS = "…"

#: Headings of the compact table where the field's name is much wider than its values.
#: ``--columns`` takes these as well as the field names.
SHORT_HEADINGS: Mapping[str, str] = {
    "registration": "reg",
    "departure_airport": "from",
    "departure_time": "departed",
    "arrival_airport": "to",
    "arrival_time": "arrived",
    "departure_evidence": "takeoff",
    "arrival_evidence": "landing",
    "max_altitude_ft": "max_alt_ft",
    "altitude_ft": "alt_ft",
    "ground_speed_kt": "speed_kt",
    "track_deg": "track",
    "vertical_rate_fpm": "vrate_fpm",
    "on_ground": "ground",
    "geofence_seconds": "inside_s",
    "aircraft_type": "type",
    "elevation_ft": "elev_ft",
}

TimeSpec = Literal["minutes", "seconds"]


@dataclass(frozen=True)
class TableStyle:
    """How a table renders. The full style is every value as CSV has it, headed by the
    field names; the compact one uses short headings, short times and a width budget."""

    compact: bool = False
    timespec: TimeSpec = "minutes"

    def heading(self, field: str) -> str:
        return SHORT_HEADINGS.get(field, field) if self.compact else field

    def time(self, value: datetime) -> str | None:
        """``2020-08-19 10:14Z`` (or with seconds) in the compact style; None: as in CSV."""
        if not self.compact:
            return None
        return value.isoformat(sep=" ", timespec=self.timespec).replace("+00:00", "Z")

    def fit(self, widths: Sequence[int], floors: Sequence[int],
            text: Sequence[bool]) -> list[int]:
        """Column widths within TABLE_WIDTH where narrowing free text can get there: the
        widest text column loses a character at a time, down to its floor."""
        fitted = list(widths)
        if not self.compact:
            return fitted
        excess = sum(fitted) + 2 * (len(fitted) - 1) - TABLE_WIDTH
        while excess > 0:
            narrowable = [i for i, w in enumerate(fitted) if text[i] and w > floors[i]]
            if not narrowable:
                break
            widest = max(narrowable, key=lambda i: fitted[i])
            fitted[widest] -= 1
            excess -= 1
        return fitted


FULL = TableStyle()


def clip(cell: str, width: int) -> str:
    """``cell`` within ``width`` characters, an ellipsis marking what was cut."""
    return cell if len(cell) <= width else cell[: width - 1] + ELLIPSIS


class UnknownColumn(ValueError):
    """``--columns`` named a field the command does not have."""


@dataclass(frozen=True)
class Columns:
    """A command's output fields (all, in contract order) and the compact table's choice,
    in the order a reader wants them; ``timespec`` is how precisely its times are shown
    (positions five seconds apart need seconds, flights and alerts do not)."""

    fields: tuple[str, ...]
    compact: tuple[str, ...]
    timespec: TimeSpec = "minutes"

    def __post_init__(self) -> None:
        unknown = [name for name in self.compact if name not in self.fields]
        if unknown:
            raise ValueError(f"compact columns {unknown} are not output fields")

    def named(self, text: str) -> tuple[str, ...]:
        """``a,b,c`` as fields, in that order: field names or their short headings."""
        by_heading = {SHORT_HEADINGS[f]: f for f in self.fields if f in SHORT_HEADINGS}
        chosen = []
        for name in (part.strip() for part in text.split(",")):
            field = name if name in self.fields else by_heading.get(name)
            if field is None:
                raise UnknownColumn(
                    f"--columns: no column {name!r}; choose from {', '.join(self.fields)}")
            chosen.append(field)
        return tuple(chosen)

    def choose(self, fmt: str, *, wide: bool = False,
               names: str | None = None) -> tuple[tuple[str, ...], TableStyle]:
        """The fields to write in ``fmt`` and the table's style, from ``--wide`` and
        ``--columns``: CSV and JSON carry every field unless ``--columns`` names some."""
        compact = fmt == "table" and not wide
        if names is not None:
            fields = self.named(names)
        else:
            fields = self.compact if compact else self.fields
        return fields, TableStyle(compact=True, timespec=self.timespec) if compact else FULL
