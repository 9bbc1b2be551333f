"""Aggregator sources: already-decoded state vectors polled from public APIs.

Each source has a ``name``, an ``interval`` (seconds) and ``poll() -> list[Observation]``,
which returns only what is new since its previous poll and raises
:class:`AggregatorError` (see :mod:`collector.aggregators.errors` for the tree) once its
own retries are spent. Health changes are logged here (one line per ok → failing →
recovered); the scheduler should log a failed poll at DEBUG only.

Config keys of one ``[[sources]]`` table (besides ``type``) — see :func:`make_aggregator`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Protocol, TypeAlias

from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from flightwatch.collector.aggregators.adsbx import (
    PROVIDERS,
    AdsbxSource,
    Provider,
    auth_headers,
    provider_for,
)
from flightwatch.collector.aggregators.aircraft_json import AircraftJsonSource
from flightwatch.collector.aggregators.coverage import covering_circles
from flightwatch.collector.aggregators.errors import (
    AggregatorError,
    AuthError,
    BackingOff,
    BadResponse,
    Cancelled,
    RateLimited,
    SourceUnavailable,
)
from flightwatch.collector.aggregators.http import (
    DEFAULT_DEADLINE,
    DEFAULT_MAX_BODY_BYTES,
    HttpClient,
)
from flightwatch.collector.aggregators.opensky import (
    DAILY_ALLOWANCE,
    DEFAULT_BASE_URL,
    DEFAULT_TOKEN_URL,
    ENV_CLIENT_ID,
    ENV_CLIENT_SECRET,
    CreditEstimate,
    OpenSkySource,
    bbox_with_margin,
    estimate_daily_credits,
)
from flightwatch.collector.registry import source_types
from flightwatch.decoder import Observation

__all__ = [
    "AGGREGATOR_KEYS",
    "PROVIDERS",
    "AdsbxSource",
    "AggregatorError",
    "AggregatorSource",
    "AircraftJsonSource",
    "AuthError",
    "BackingOff",
    "BadResponse",
    "Cancelled",
    "CreditEstimate",
    "OpenSkySource",
    "Provider",
    "RateLimited",
    "SourceUnavailable",
    "covering_circles",
    "estimate_daily_credits",
    "make_aggregator",
    "opensky_credit_line",
]


class AggregatorSource(Protocol):
    name: str
    interval: float

    def poll(self) -> list[Observation]: ...

    def cancel(self) -> None:
        """Abandon a poll under way and any later one (the daemon stops)."""
        ...

    @property
    def stats(self) -> Mapping[str, int]:
        """Items received (``frames``), refused (``bad_frames``, ``rejected:<reason>``)."""
        ...


#: The keys each aggregator type takes, as its declaration in collector/sources/ says.
AGGREGATOR_KEYS: dict[str, frozenset[str]] = {
    declared.name: frozenset({"type", "name", *declared.keys})
    for declared in source_types().values() if declared.role == "aggregator"
}
DEFAULT_INTERVAL = {"opensky": 60.0, "adsbx": 15.0, "aircraft_json": 5.0}

Fences: TypeAlias = BaseGeometry | Sequence[float] | None


def make_aggregator(source_config: Mapping[str, object], fences: Fences = None,
                    environ: Mapping[str, str] = os.environ) -> AggregatorSource:
    """Build one aggregator source from a ``[[sources]]`` table.

    ``fences`` is the union of the geofences in lon/lat (a shapely geometry), or its
    bounds ``(minx, miny, maxx, maxy)``; OpenSky polls its bounding box plus
    ``margin_deg``, the v2 family covers it (plus ``margin_nm``) with circles.
    ``interval`` and ``timeout`` are seconds (numbers). Raises ValueError naming the
    key for unknown keys and bad values. Secrets come from ``environ`` only.

    Keys and defaults:

    * every type: ``name`` (opensky / the provider / aircraft_json), ``interval``
      (60 / 15 / 5), ``timeout`` (read timeout, 20; 10 for aircraft_json),
      ``max_body_mb`` (8: a larger answer is refused unread), ``deadline`` (60: a request
      taking longer in all, retries and trickled bytes included, is abandoned)
    * opensky: ``base_url`` (https://opensky-network.org/api), ``token_url`` (OpenSky's
      Keycloak), ``margin_deg`` (0.5), ``bbox`` ([lamin, lomin, lamax, lomax], instead of
      the fences), ``account`` (auto | anonymous | registered | feeder; credit estimate)
    * adsbx: ``provider`` (adsb.lol | adsb.fi | airplanes.live | adsbexchange; default
      guessed from base_url, else adsb.lol), ``base_url`` (the preset's), ``radius_nm``
      (250), ``margin_nm`` (25), ``hexes`` ([]: watched airframes looked up anywhere),
      ``area`` (true: query the fence circles), ``min_interval`` / ``hex_batch`` /
      ``area_path`` / ``hex_path`` (the preset's), ``auth_headers`` ({header: ENV_VAR})
    * aircraft_json: exactly one of ``url`` or ``path``
    """
    kind = source_config.get("type")
    if kind not in AGGREGATOR_KEYS:
        raise ValueError(f"type: {kind!r} is not an aggregator ({', '.join(AGGREGATOR_KEYS)})")
    unknown = sorted(set(source_config) - AGGREGATOR_KEYS[str(kind)])
    if unknown:
        raise ValueError(f"{kind}: unknown key(s) {', '.join(unknown)}")
    cfg = _Config(source_config, str(kind))
    if kind == "opensky":
        return _opensky(cfg, fences, environ)
    if kind == "adsbx":
        return _adsbx(cfg, fences, environ)
    return AircraftJsonSource(
        url=cfg.text("url"), path=cfg.text("path"), name=cfg.text("name") or "aircraft_json",
        interval=cfg.seconds("interval"),
        client=HttpClient(name=cfg.text("name") or "aircraft_json", retries=1, backoff=0.5,
                          timeout=(3.0, cfg.seconds("timeout", 10.0)), **cfg.limits()),
    )


def opensky_credit_line(source: AggregatorSource) -> str | None:
    """The ``check-config`` line for an OpenSky source (None for other sources)."""
    if not isinstance(source, OpenSkySource):
        return None
    return source.credit_estimate().line


def _opensky(cfg: _Config, fences: Fences, environ: Mapping[str, str]) -> OpenSkySource:
    explicit = cfg.numbers("bbox")
    if explicit is not None:
        if len(explicit) != 4:
            raise ValueError("opensky: bbox must be [lamin, lomin, lamax, lomax]")
        bbox = (explicit[0], explicit[1], explicit[2], explicit[3])
    else:
        bounds = _bounds(fences)
        if bounds is None:
            raise ValueError("opensky: no geofence to derive the box from; add a [[geofences]] "
                             "entry or set bbox = [lamin, lomin, lamax, lomax]")
        bbox = bbox_with_margin(bounds, cfg.number("margin_deg", 0.5))
    name = cfg.text("name") or "opensky"
    client_id = environ.get(ENV_CLIENT_ID) or None
    client_secret = environ.get(ENV_CLIENT_SECRET) or None
    if (client_id is None) != (client_secret is None):
        raise ValueError(f"opensky: set both {ENV_CLIENT_ID} and {ENV_CLIENT_SECRET}, "
                         "or neither for anonymous access")
    account = cfg.text("account") or "auto"
    if account not in ("auto", *DAILY_ALLOWANCE):
        raise ValueError(f"opensky: account {account!r}: use auto, anonymous, registered "
                         "or feeder")
    return OpenSkySource(
        bbox, name=name, base_url=cfg.text("base_url") or DEFAULT_BASE_URL,
        interval=cfg.seconds("interval"), token_url=cfg.text("token_url") or DEFAULT_TOKEN_URL,
        client_id=client_id, client_secret=client_secret,
        account=None if account == "auto" else account,  # type: ignore[arg-type]
        client=HttpClient(name=name, timeout=(5.0, cfg.seconds("timeout", 20.0)),
                          **cfg.limits()),
    )


def _adsbx(cfg: _Config, fences: Fences, environ: Mapping[str, str]) -> AdsbxSource:
    provider = provider_for(cfg.text("provider"), cfg.text("base_url"))
    overrides: dict[str, object] = {}
    for key in ("area_path", "hex_path"):
        if cfg.text(key):
            overrides[key] = cfg.text(key)
    if "min_interval" in cfg.raw:
        overrides["min_interval"] = cfg.seconds("min_interval")
    if "hex_batch" in cfg.raw:
        overrides["hex_batch"] = int(cfg.number("hex_batch"))
    env_headers = cfg.raw.get("auth_headers")
    if env_headers is not None:
        if not isinstance(env_headers, Mapping):
            raise ValueError("adsbx: auth_headers must be a table {header = \"ENV_VAR\"}")
        overrides["env_headers"] = {str(k): str(v) for k, v in env_headers.items()}
    provider = replace(provider, **overrides)  # type: ignore[arg-type]
    name = cfg.text("name") or provider.name

    circles: list[tuple[float, float, float]] = []
    if cfg.raw.get("area", True):
        geometry = box(*fences) if isinstance(fences, Sequence) else fences
        if geometry is not None:
            radius = min(cfg.number("radius_nm", 250.0), provider.max_radius_nm)
            circles = covering_circles(geometry, radius, cfg.number("margin_nm", 25.0))
    hexes = cfg.raw.get("hexes", [])
    if not isinstance(hexes, list) or not all(isinstance(h, str) for h in hexes):
        raise ValueError("adsbx: hexes must be a list of ICAO hex strings")
    return AdsbxSource(
        provider, circles=circles, hexes=hexes, name=name, interval=cfg.seconds("interval"),
        client=HttpClient(name=name, min_interval=provider.min_interval,
                          headers=auth_headers(provider, environ),
                          timeout=(5.0, cfg.seconds("timeout", 20.0)), **cfg.limits()),
    )


def _bounds(fences: Fences) -> tuple[float, float, float, float] | None:
    if fences is None:
        return None
    if isinstance(fences, BaseGeometry):
        return None if fences.is_empty else fences.bounds
    if len(fences) != 4:
        raise ValueError("fences bounds must be (minx, miny, maxx, maxy)")
    return (fences[0], fences[1], fences[2], fences[3])


class _Config:
    """Typed reads of one source table, with errors that name the key."""

    def __init__(self, raw: Mapping[str, object], kind: str) -> None:
        self.raw = raw
        self.kind = kind

    def text(self, key: str) -> str | None:
        value = self.raw.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise ValueError(f"{self.kind}: {key} must be a string, not {value!r}")
        return value

    def seconds(self, key: str, default: float | None = None) -> float:
        """A duration in seconds, not negative; ``interval`` defaults per type and must
        be above 0."""
        value = self.raw.get(key)
        if value is None:
            value = DEFAULT_INTERVAL[self.kind] if key == "interval" else default
        if not _non_negative(value) or (key == "interval" and value == 0):
            raise ValueError(f"{self.kind}: {key} must be a number of seconds, not {value!r}")
        return float(value)  # type: ignore[arg-type]

    def number(self, key: str, default: float | None = None) -> float:
        """A distance, an angle or a count, not negative (nautical miles for ``radius_nm``,
        degrees for ``margin_deg``, MB for ``max_body_mb``)."""
        value = self.raw.get(key, default)
        if value is None:
            value = default
        if not _non_negative(value):
            raise ValueError(f"{self.kind}: {key} must be a number, not {value!r}")
        return float(value)  # type: ignore[arg-type]

    def limits(self) -> dict[str, Any]:
        """``max_body_bytes`` and ``deadline`` for the source's HttpClient."""
        max_mb = self.number("max_body_mb", DEFAULT_MAX_BODY_BYTES / 2**20)
        if max_mb <= 0:
            raise ValueError(f"{self.kind}: max_body_mb must be above 0")
        return {"max_body_bytes": int(max_mb * 2**20),
                "deadline": self.seconds("deadline", DEFAULT_DEADLINE)}

    def numbers(self, key: str) -> list[float] | None:
        value = self.raw.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in value):
            raise ValueError(f"{self.kind}: {key} must be a list of numbers")
        return [float(v) for v in value]


def _non_negative(value: object) -> bool:
    return (not isinstance(value, bool) and isinstance(value, int | float)
            and value >= 0)
