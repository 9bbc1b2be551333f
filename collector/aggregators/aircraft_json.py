"""readsb / dump1090 / tar1090 ``aircraft.json`` — and the one per-aircraft mapping
shared with the ADS-B Exchange v2 family, whose ``ac`` entries have the same fields.

The observation time is ``now - seen_pos`` (``now - seen`` without a position), never
the poll time: the same aircraft polled twice without news keeps the same time, so the
source can drop the repeat and storage can dedupe on (icao, second). Every value is
checked (:mod:`collector.plausible`); a bad entry is refused alone.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from flightwatch.collector.aggregators.errors import BadResponse, SourceUnavailable
from flightwatch.collector.aggregators.health import SourceHealth
from flightwatch.collector.aggregators.http import Clock, HttpClient
from flightwatch.collector.aggregators.json_budget import decode_answer
from flightwatch.collector.aggregators.newer import NewerOnly
from flightwatch.collector.plausible import (
    BAD_ADDRESS,
    MAX_AIRCRAFT,
    NOT_FINITE,
    TOO_MANY,
    Rejected,
    Rejections,
    check_answer_time,
    check_range,
    check_text,
    check_time,
)
from flightwatch.decoder import Observation, normalise_icao, utc_from_epoch

log = logging.getLogger(__name__)

_MS_THRESHOLD = 1e11  # a Unix time above this is in milliseconds (year 5138 in seconds)


def observation_from_aircraft(entry: object, now: float, source: str) -> Observation | None:
    """One aircraft object (readsb field names, old dump1090-mutability names too).

    ``now`` is the document's time in Unix seconds. Returns None for a non-ICAO
    address (``~`` prefix: TIS-B, anonymous); raises ValueError for a malformed entry,
    :class:`Rejected` (a ValueError with a reason) for an implausible value.
    """
    if not isinstance(entry, Mapping):
        raise ValueError(f"entry is {type(entry).__name__}, not an object")
    hex_value = entry.get("hex")
    if not isinstance(hex_value, str):
        raise ValueError(f"hex={str(hex_value)[:40]!r}")
    if hex_value.strip().startswith("~"):
        return None
    icao = normalise_icao(hex_value)
    if icao is None:
        raise Rejected(BAD_ADDRESS, f"hex={hex_value[:40]!r}")

    lat = check_range("lat", _number(entry, "lat"))
    lon = check_range("lon", _number(entry, "lon"))
    if (lat is None) != (lon is None):
        raise ValueError("lat without lon or lon without lat")

    age = _number(entry, "seen_pos") if lat is not None else None
    if age is None:
        age = _number(entry, "seen")
    seconds = round(check_time(now - (age or 0.0), now), 3)

    altitude_ft, on_ground = _altitude(entry)
    extra: dict[str, object] = {}
    alt_geom = check_range("altitude_ft", _number(entry, "alt_geom"))
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
        altitude_ft=check_range("altitude_ft", altitude_ft),
        ground_speed_kt=check_range("ground_speed_kt", _number(entry, "gs", "speed")),
        track_deg=check_range("track_deg", _number(entry, "track")),
        vertical_rate_fpm=check_range(
            "vertical_rate_fpm", _number(entry, "baro_rate", "geom_rate", "vert_rate")),
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
            raise ValueError(f"{key}={str(value)[:40]!r} is not a number")
        if not math.isfinite(value):
            raise Rejected(NOT_FINITE, f"{key}={value!r}")
        return float(value)
    return None


def _text(entry: Mapping[str, object], key: str) -> str:
    value = entry.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"{key}={str(value)[:40]!r} is not a string")
    return check_text(key, value.strip())


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
    """Observations from one or more documents, with what had to be left out and why."""

    observations: list[Observation] = field(default_factory=list)
    non_icao: int = 0
    rejected: Rejections = field(default_factory=Rejections)

    def add(self, other: ParsedAircraft) -> None:
        self.observations.extend(other.observations)
        self.non_icao += other.non_icao
        self.rejected.merge(other.rejected)

    def count(self, source: str, health: SourceHealth) -> None:
        """Into the source's stats; one log line per poll when entries were refused."""
        health.count(len(self.observations) + self.non_icao + self.rejected.total, self.rejected)
        if self.rejected.total:
            log.warning("%s: skipped %d aircraft entries: %s; kept %d", source,
                        self.rejected.total, self.rejected.summary(), len(self.observations))


def parse_aircraft_document(doc: object, source: str, wall_clock: Clock = time.time, *,
                            missing_time: Clock | None = None) -> ParsedAircraft:
    """An aircraft.json document or an ADS-B Exchange v2 answer, to observations.

    The list is ``aircraft`` (readsb) or ``ac`` (v2 API; null or missing when empty).
    ``now`` is seconds in aircraft.json and milliseconds in the v2 API; both are
    accepted. Without ``now`` the local wall clock stands in (``missing_time`` instead,
    for archived snapshots: it may raise); a ``now`` before 2000 or a day ahead of the
    wall clock makes the whole answer bad. Entries past
    :data:`MAX_AIRCRAFT` are counted, not parsed.
    """
    if not isinstance(doc, Mapping):
        raise BadResponse(f"{source}: answer is {type(doc).__name__}, not a JSON object")
    entries = doc.get("ac", doc.get("aircraft"))
    if entries is None:
        entries = []
    if not isinstance(entries, list):
        raise BadResponse(f"{source}: 'ac'/'aircraft' is {type(entries).__name__}, not a list")
    try:
        now = check_answer_time(document_time(doc.get("now"), missing_time or wall_clock),
                                wall_clock())
    except Rejected as exc:
        raise BadResponse(f"{source}: {exc}") from exc

    parsed = ParsedAircraft()
    if len(entries) > MAX_AIRCRAFT:
        parsed.rejected.add(Rejected(TOO_MANY, f"{len(entries):,} aircraft"),
                            len(entries) - MAX_AIRCRAFT)
    for entry in entries[:MAX_AIRCRAFT]:
        try:
            obs = observation_from_aircraft(entry, now, source)
        except ValueError as exc:
            parsed.rejected.add(exc)
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

    def cancel(self) -> None:
        """Abandon a poll under way and any later one (the daemon stops)."""
        self._client.cancel()

    def poll(self) -> list[Observation]:
        """New observations since the last poll; :class:`AggregatorError` on failure."""
        return self._health.run(self._poll)

    def _poll(self) -> list[Observation]:
        parsed = parse_aircraft_document(self._read(), self.name, self._wall_clock)
        parsed.count(self.name, self._health)
        return self._fresh(parsed.observations)

    @property
    def stats(self) -> Mapping[str, int]:
        return self._health.stats

    def _read(self) -> object:
        if self.url is not None:
            return self._client.get_json(self.url)
        assert self.path is not None
        try:
            body = self._client.read_file(self.path)
        except OSError as exc:
            raise SourceUnavailable(
                f"{self.name}: cannot read {self.path} ({exc.strerror or exc}); check 'path' "
                "and that readsb/dump1090 runs with --write-json to that folder"
            ) from exc
        return decode_answer(body, f"{self.name}: {self.path}",
                             "is it readsb's or dump1090's aircraft.json?")
