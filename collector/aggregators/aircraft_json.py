"""readsb / dump1090 / tar1090 ``aircraft.json`` — and the one per-aircraft mapping
shared with the ADS-B Exchange v2 family, whose ``ac`` entries have the same fields.

The observation time is ``now - seen_pos`` (``now - seen`` without a position), never
the poll time: the same aircraft polled twice without news keeps the same time, so the
source can drop the repeat and storage can dedupe on (icao, second).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from flightwatch.collector.aggregators.http import (
    BadResponse,
    Clock,
    HttpClient,
    NewerOnly,
    SourceHealth,
    SourceUnavailable,
)
from flightwatch.decoder import Observation, normalise_icao, utc_from_epoch

log = logging.getLogger(__name__)

_MS_THRESHOLD = 1e11  # a Unix time above this is in milliseconds (year 5138 in seconds)


def observation_from_aircraft(entry: object, now: float, source: str) -> Observation | None:
    """One aircraft object (readsb field names, old dump1090-mutability names too).

    ``now`` is the document's time in Unix seconds. Returns None for a non-ICAO
    address (``~`` prefix: TIS-B, anonymous); raises ValueError for a malformed entry.
    """
    if not isinstance(entry, Mapping):
        raise ValueError(f"entry is {type(entry).__name__}, not an object")
    hex_value = entry.get("hex")
    if not isinstance(hex_value, str):
        raise ValueError(f"hex={hex_value!r}")
    if hex_value.strip().startswith("~"):
        return None
    icao = normalise_icao(hex_value)
    if icao is None:
        raise ValueError(f"hex={hex_value!r} is not a 24-bit address")

    lat = _number(entry, "lat")
    lon = _number(entry, "lon")
    if (lat is None) != (lon is None):
        raise ValueError("lat without lon or lon without lat")
    if lat is not None and lon is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError(f"position {lat},{lon} out of range")

    age = _number(entry, "seen_pos") if lat is not None else None
    if age is None:
        age = _number(entry, "seen")
    seconds = round(now - (age or 0.0), 3)

    altitude_ft, on_ground = _altitude(entry)
    extra: dict[str, object] = {}
    alt_geom = _number(entry, "alt_geom")
    if alt_geom is not None:
        extra["alt_geom_ft"] = alt_geom
    db_flags = _number(entry, "dbFlags")
    if db_flags is not None:
        extra["db_flags"] = int(db_flags)
    for key, name in (("type", "message_type"), ("category", "category")):
        text = _text(entry, key)
        if text:
            extra[name] = text

    return Observation(
        icao=icao,
        time=utc_from_epoch(seconds),
        source=source,
        lat=lat,
        lon=lon,
        altitude_ft=altitude_ft,
        ground_speed_kt=_number(entry, "gs", "speed"),
        track_deg=_number(entry, "track"),
        vertical_rate_fpm=_number(entry, "baro_rate", "geom_rate", "vert_rate"),
        callsign=_text(entry, "flight") or None,
        squawk=_text(entry, "squawk") or None,
        on_ground=on_ground,
        registration=_text(entry, "r") or None,
        aircraft_type=_text(entry, "t") or None,
        extra=extra,
    )


def _number(entry: Mapping[str, object], *keys: str) -> float | None:
    """The first present key's value as a float; ValueError when it is not a number."""
    for key in keys:
        value = entry.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{key}={value!r} is not a number")
        if not math.isfinite(value):
            raise ValueError(f"{key}={value!r} is not finite")
        return float(value)
    return None


def _text(entry: Mapping[str, object], key: str) -> str:
    value = entry.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"{key}={value!r} is not a string")
    return value.strip()


def _altitude(entry: Mapping[str, object]) -> tuple[float | None, bool | None]:
    """(altitude_ft, on_ground): ``"ground"`` means on the ground, a number airborne."""
    for key in ("alt_baro", "altitude"):
        value = entry.get(key)
        if value is None:
            continue
        if value == "ground":
            return None, True
        number = _number(entry, key)
        return number, False
    return None, None


@dataclass
class ParsedAircraft:
    """Observations from one or more documents, with what had to be left out."""

    observations: list[Observation] = field(default_factory=list)
    non_icao: int = 0
    malformed: int = 0
    example: str = ""

    def add(self, other: ParsedAircraft) -> None:
        self.observations.extend(other.observations)
        self.non_icao += other.non_icao
        self.malformed += other.malformed
        self.example = self.example or other.example

    def log_summary(self, source: str) -> None:
        """One line per poll when entries were dropped, not one per entry."""
        if self.malformed:
            log.warning("%s: skipped %d malformed aircraft entries (e.g. %s); kept %d",
                        source, self.malformed, self.example, len(self.observations))


def parse_aircraft_document(doc: object, source: str,
                            wall_clock: Clock = time.time) -> ParsedAircraft:
    """An aircraft.json document or an ADS-B Exchange v2 answer, to observations.

    The list is ``aircraft`` (readsb) or ``ac`` (v2 API; null or missing when empty).
    ``now`` is seconds in aircraft.json and milliseconds in the v2 API; both are
    accepted. Without ``now`` the local wall clock stands in.
    """
    if not isinstance(doc, Mapping):
        raise BadResponse(f"{source}: answer is {type(doc).__name__}, not a JSON object")
    entries = doc.get("ac", doc.get("aircraft"))
    if entries is None:
        entries = []
    if not isinstance(entries, list):
        raise BadResponse(f"{source}: 'ac'/'aircraft' is {type(entries).__name__}, not a list")
    now = document_time(doc.get("now"), wall_clock)

    parsed = ParsedAircraft()
    for entry in entries:
        try:
            obs = observation_from_aircraft(entry, now, source)
        except ValueError as exc:
            parsed.malformed += 1
            parsed.example = parsed.example or str(exc)
            continue
        if obs is None:
            parsed.non_icao += 1
        else:
            parsed.observations.append(obs)
    return parsed


def document_time(value: object, wall_clock: Clock) -> float:
    """A document's ``now`` in Unix seconds (seconds or milliseconds accepted), else the
    wall clock's."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return value / 1000.0 if value > _MS_THRESHOLD else float(value)
    return wall_clock()


class AircraftJsonSource:
    """Polls one aircraft.json over HTTP (``url``) or from disk (``path``)."""

    def __init__(self, *, url: str | None = None, path: str | Path | None = None,
                 name: str = "aircraft_json", interval: float = 5.0,
                 client: HttpClient | None = None, wall_clock: Clock = time.time,
                 clock: Clock = time.monotonic) -> None:
        if (url is None) == (path is None):
            raise ValueError("aircraft_json: give exactly one of 'url' or 'path'")
        self.name = name
        self.interval = interval
        self.url = url
        self.path = Path(path) if path is not None else None
        self._client = client or HttpClient(name=name, retries=1, backoff=0.5,
                                            timeout=(3.0, 10.0))
        self._wall_clock = wall_clock
        self._health = SourceHealth(name, base_delay=interval, clock=clock)
        self._fresh = NewerOnly()

    def poll(self) -> list[Observation]:
        """New observations since the last poll; :class:`AggregatorError` on failure."""
        return self._health.run(self._poll)

    def _poll(self) -> list[Observation]:
        parsed = parse_aircraft_document(self._read(), self.name, self._wall_clock)
        parsed.log_summary(self.name)
        return self._fresh(parsed.observations)

    def _read(self) -> object:
        if self.url is not None:
            return self._client.get_json(self.url)
        assert self.path is not None
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError as exc:
            raise SourceUnavailable(
                f"{self.name}: cannot read {self.path} ({exc.strerror or exc}); check 'path' "
                "and that readsb/dump1090 runs with --write-json to that folder"
            ) from exc
        try:
            return json.loads(text)
        except ValueError as exc:
            raise BadResponse(f"{self.name}: {self.path} is not valid JSON ({exc})") from exc
