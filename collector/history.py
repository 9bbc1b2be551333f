"""Historical archives as records for the pipeline: which format a member is, and its
observations or frames.

Two shapes come out, because they need different handling downstream:

- a :class:`~flightwatch.collector.trace.Trace` is one aircraft's whole day (trace
  files): it is fed on its own, then the aircraft's track is ended;
- a stream (aircraft.json snapshots, OpenSky state vectors, captures) holds every
  aircraft in time order, like a live feed, and tracks run on across members.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import BinaryIO

from flightwatch.collector.aggregators.aircraft_json import (
    document_time,
    parse_aircraft_document,
)
from flightwatch.collector.aggregators.errors import BadResponse
from flightwatch.collector.archive import READ_ERRORS, Member
from flightwatch.collector.detect import sniff_format
from flightwatch.collector.framing import FORMATS
from flightwatch.collector.opensky_dataset import (
    PARQUET_MAGIC,
    RowErrors,
    looks_like_states_csv,
    read_states_csv,
    read_states_parquet,
)
from flightwatch.collector.replay import CHUNK_BYTES, CaptureClock
from flightwatch.collector.source import Framer
from flightwatch.decoder import Frame, Observation

TRACE_FORMATS = ("trace", "globe-history")
STREAM_FORMATS = ("aircraft-json", "opensky-csv", "opensky-parquet", *FORMATS)
IMPORT_FORMATS = ("auto", *TRACE_FORMATS, *STREAM_FORMATS)

_TRACE_NAME = re.compile(r"(^|/)trace_(full|recent)_~?[0-9a-fA-F]{6}\.json(\.gz)?$")


#: What reading one member may raise when its content is damaged or hostile (deep
#: nesting, an endless CSV field): the member is named, counted and skipped.
MEMBER_ERRORS = (*READ_ERRORS, RecursionError, csv.Error)


class NotImportable(ValueError):
    """A member in no format flightwatch imports (skipped, and counted, in an archive)."""


@dataclass
class MemberStats:
    """What one member held besides good records."""

    malformed: int = 0
    example: str = ""
    frames: int = 0
    bad_frames: int = 0
    snapshot_time: float | None = None  # an aircraft.json snapshot's ``now``


def member_format(member: Member, head: bytes, chosen: str) -> str:
    """The format to read ``member`` as: ``chosen``, or sniffed from its name and head.

    With ``globe-history`` only trace files are read (its heatmaps, ACAS and state
    files are not tracks). Raises :class:`NotImportable` otherwise.
    """
    if chosen == "globe-history" or (chosen == "auto" and _TRACE_NAME.search(member.name)):
        if not _TRACE_NAME.search(member.name):
            raise NotImportable(f"{member.name}: not a trace_full_<hex>.json file")
        return "trace"
    if chosen != "auto":
        return chosen
    text = head.lstrip()
    if text.startswith(b"{"):
        if b'"trace"' in head:
            return "trace"
        if b'"aircraft"' in head or b'"ac"' in head:
            return "aircraft-json"
    if looks_like_states_csv(head):
        return "opensky-csv"
    if head.startswith(PARQUET_MAGIC):
        return "opensky-parquet"
    fmt = sniff_format(head) if head else None
    if fmt is None:
        raise NotImportable(
            f"{member.name}: in none of the formats flightwatch imports (trace, aircraft-json, "
            f"opensky-csv, opensky-parquet, {', '.join(FORMATS)}); pass --format to choose one"
        )
    return fmt


def _no_document_time() -> float:
    raise ValueError("the snapshot has no 'now' time")


def stream_records(
    stream: BinaryIO, fmt: str, source: str, stats: MemberStats, *, start: datetime | None,
    member: Member,
) -> Iterator[Frame | Observation]:
    """The records of one stream-shaped member in file order.

    ``start`` anchors the relative clocks of Beast and AVR (default the member's mtime).
    Malformed records are counted in ``stats``; a member that is not in ``fmt`` at
    all raises ``ValueError``.
    """
    if fmt == "aircraft-json":
        doc = json.load(stream)
        try:
            parsed = parse_aircraft_document(doc, source, missing_time=_no_document_time)
        except BadResponse as exc:
            raise ValueError(str(exc)) from exc
        stats.snapshot_time = document_time(doc.get("now"), _no_document_time)
        stats.malformed += parsed.rejected.total
        stats.example = stats.example or parsed.rejected.example
        yield from parsed.observations
    elif fmt in ("opensky-csv", "opensky-parquet"):
        errors = RowErrors()
        try:
            if fmt == "opensky-csv":
                yield from read_states_csv(stream, source, errors)
            else:
                yield from read_states_parquet(stream, source, errors, path=member.path)
        finally:
            stats.malformed += errors.malformed
            stats.example = stats.example or errors.example
    else:
        anchor = start.timestamp() if start is not None else member.mtime
        framer = Framer(fmt, source, tz=UTC, clock=CaptureClock(anchor))  # type: ignore[arg-type]
        while chunk := stream.read(CHUNK_BYTES):
            yield from framer.feed(chunk)
        yield from framer.finish()
        stats.frames += framer.counter["frames"]
        stats.bad_frames += framer.counter["bad_frames"]
