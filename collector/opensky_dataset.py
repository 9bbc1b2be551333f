"""OpenSky state-vector extracts as OpenSky publishes them (the ``states`` datasets, and
what its historical database returns): CSV or Parquet with the columns

``time, icao24, lat, lon, velocity, heading, vertrate, callsign, onground, alert, spi,
squawk, baroaltitude, geoaltitude, lastposupdate, lastcontact``

(SI units, as the live API). Each row becomes the live API's state vector and goes
through the same mapping as a live poll (``aggregators.opensky``), so units, the
position time (``lastposupdate``, not the snapshot ``time``) and checks are one code.
CSV cells (text) and Parquet or database values (typed) go through the same
:func:`observations`.

Parquet needs pyarrow (the ``opensky`` extra), imported only when a Parquet file is
met. Its footer is at its end, so a member that is not a seekable plain file (inside
a tarball, gzip-compressed) is first copied to a temporary file; rows are then read
a batch at a time, so memory stays bounded however large the file.
"""

from __future__ import annotations

import csv
import io
import math
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from flightwatch.collector.aggregators.opensky import observation_from_state
from flightwatch.collector.source import CollectorError
from flightwatch.decoder import Observation

COLUMNS = (
    "time", "icao24", "lat", "lon", "velocity", "heading", "vertrate", "callsign", "onground",
    "alert", "spi", "squawk", "baroaltitude", "geoaltitude", "lastposupdate", "lastcontact",
)
REQUIRED = frozenset(("time", "icao24", "lat", "lon", "onground"))
_NULLS = frozenset(("", "null", "NULL", "None", "\\N", "nan", "NaN"))
_TRUE = frozenset(("true", "1", "t"))
_FALSE = frozenset(("false", "0", "f"))
PARQUET_MAGIC = b"PAR1"
EXTRA_HINT = "pip install 'flightwatch[opensky]'"
_BATCH_ROWS = 2048  # Parquet rows decoded at a time (peak RSS: +25 MB, whatever the file)
_COPY_BYTES = 1 << 20


class MissingExtra(CollectorError):
    """An optional library this input needs is not installed (the whole import stops)."""


class DatasetError(ValueError):
    """Not an OpenSky state-vector extract."""


@dataclass
class RowErrors:
    malformed: int = 0
    example: str = ""


def looks_like_states_csv(head: bytes) -> bool:
    """True when the first line is an OpenSky states header."""
    first = head.split(b"\n", 1)[0].decode("utf-8", "replace").strip().lower()
    names = {n.strip().strip('"') for n in first.split(",")}
    return names >= REQUIRED


def read_states_csv(stream: BinaryIO, source: str, errors: RowErrors) -> Iterator[Observation]:
    """Observations row by row (streamed); malformed rows are counted in ``errors``."""
    # A bad byte costs its row (a number that does not parse), not the whole file.
    text = io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline="")
    reader = csv.DictReader(text)
    missing = REQUIRED - {n.strip().lower() for n in reader.fieldnames or ()}
    if missing:
        raise DatasetError(f"not an OpenSky states CSV: no column {', '.join(sorted(missing))}")
    yield from observations(reader, source, errors)


def read_states_parquet(
    stream: BinaryIO, source: str, errors: RowErrors, *, path: Path | None = None
) -> Iterator[Observation]:
    """Observations batch by batch from a Parquet extract; ``path``, when given, is the
    plain file ``stream`` reads (opened directly instead of copied)."""
    # The C library's allocator gives freed batches back; Arrow's own pool (jemalloc or
    # mimalloc) keeps ~10 MB more resident (benchmarks/import_parquet.py: 158 -> 149 MB).
    # Read when pyarrow loads, so it must be set before the import; a user's choice wins.
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise MissingExtra(f"reading OpenSky Parquet needs pyarrow: {EXTRA_HINT}") from exc
    with _seekable(stream, path) as file:
        # No read-ahead and no reader threads: each buffers row groups, and the peak RSS
        # then grows with the file (benchmarks/import_parquet.py).
        parquet = pq.ParquetFile(file, pre_buffer=False, buffer_size=1 << 16)
        names = set(parquet.schema_arrow.names)
        missing = REQUIRED - names
        if missing:
            raise DatasetError(
                f"not an OpenSky states Parquet file: no column {', '.join(sorted(missing))}")
        columns = [name for name in COLUMNS if name in names]
        for batch in parquet.iter_batches(batch_size=_BATCH_ROWS, columns=columns,
                                           use_threads=False):
            yield from observations(batch.to_pylist(), source, errors)


@contextmanager
def _seekable(stream: BinaryIO, path: Path | None) -> Iterator[BinaryIO]:
    """``path`` itself when it is a plain Parquet file, else a temporary copy of ``stream``."""
    if path is not None and path.is_file():
        with open(path, "rb") as file:
            if file.read(len(PARQUET_MAGIC)) == PARQUET_MAGIC:
                file.seek(0)
                yield file
                return
    with tempfile.TemporaryFile() as copy:
        shutil.copyfileobj(stream, copy, _COPY_BYTES)
        copy.seek(0)
        yield copy


def observations(
    rows: Iterable[Mapping[str, Any]], source: str, errors: RowErrors
) -> Iterator[Observation]:
    """State-vector rows (CSV text or typed values, by column name) as observations;
    malformed rows are counted in ``errors``."""
    for row in rows:
        try:
            state = _state(row)
            # The snapshot's time is the row's "answer time", as a live poll's is.
            snapshot = _number(row.get("time")) or state[4] or state[3]
            if not isinstance(snapshot, float):
                raise ValueError("no time, lastcontact or lastposupdate")
            yield observation_from_state(state, source, snapshot)
        except (ValueError, TypeError) as exc:
            errors.malformed += 1
            errors.example = errors.example or str(exc)


def _state(row: Mapping[str, Any]) -> list[object]:
    """A row in the live API's state-vector layout (by index)."""
    last_contact = _number(row.get("lastcontact")) or _number(row.get("time"))
    position_time = _number(row.get("lastposupdate"))
    if position_time is None and _number(row.get("lat")) is not None:
        position_time = _number(row.get("time"))
    return [
        (row.get("icao24") or "").strip(),
        _text(row.get("callsign")),
        None,  # origin_country
        position_time,
        last_contact,
        _number(row.get("lon")),
        _number(row.get("lat")),
        _number(row.get("baroaltitude")),
        _boolean(row.get("onground")),
        _number(row.get("velocity")),
        _number(row.get("heading")),
        _number(row.get("vertrate")),
        None,  # sensors
        _number(row.get("geoaltitude")),
        _text(row.get("squawk")),
        _boolean(row.get("spi")),
        None,  # position_source
    ]


def _number(value: object) -> float | None:
    if value is None or (isinstance(value, str) and value.strip() in _NULLS):
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"{value!r} is not a number")
    number = float(value)
    return None if math.isnan(number) else number


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return None if text in _NULLS else text


def _boolean(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    text = ("" if value is None else str(value)).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"onground/spi={value!r} is not a boolean")
