"""OpenSky state-vector extracts as OpenSky publishes them (the ``states`` datasets, and
what its historical database returns): CSV with the columns

``time, icao24, lat, lon, velocity, heading, vertrate, callsign, onground, alert, spi,
squawk, baroaltitude, geoaltitude, lastposupdate, lastcontact``

(SI units, as the live API). Each row becomes the live API's state vector and goes
through the same mapping as a live poll (``aggregators.opensky``), so units, the
position time (``lastposupdate``, not the snapshot ``time``) and checks are one code.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import BinaryIO

from flightwatch.collector.aggregators.opensky import observation_from_state
from flightwatch.decoder import Observation

COLUMNS = (
    "time", "icao24", "lat", "lon", "velocity", "heading", "vertrate", "callsign", "onground",
    "alert", "spi", "squawk", "baroaltitude", "geoaltitude", "lastposupdate", "lastcontact",
)
REQUIRED = frozenset(("time", "icao24", "lat", "lon", "onground"))
_NULLS = frozenset(("", "null", "NULL", "None", "\\N", "nan", "NaN"))
_TRUE = frozenset(("true", "1", "t"))
_FALSE = frozenset(("false", "0", "f"))


class DatasetError(ValueError):
    """Not an OpenSky state-vector CSV."""


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
    text = io.TextIOWrapper(stream, encoding="utf-8", newline="")
    reader = csv.DictReader(text)
    missing = REQUIRED - {n.strip().lower() for n in reader.fieldnames or ()}
    if missing:
        raise DatasetError(f"not an OpenSky states CSV: no column {', '.join(sorted(missing))}")
    for row in reader:
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


def _state(row: Mapping[str, str | None]) -> list[object]:
    """A CSV row in the live API's state-vector layout (by index)."""
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


def _number(value: str | None) -> float | None:
    if value is None or value.strip() in _NULLS:
        return None
    return float(value)


def _text(value: str | None) -> str | None:
    if value is None or value.strip() in _NULLS:
        return None
    return value.strip()


def _boolean(value: str | None) -> bool | None:
    text = (value or "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"onground/spi={value!r} is not a boolean")
