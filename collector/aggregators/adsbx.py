"""The ADS-B Exchange v2 JSON API family: one implementation, a preset per provider.

adsb.lol, adsb.fi, airplanes.live and ADS-B Exchange (RapidAPI) answer with the same
``{"ac": [...], "now": <ms>, ...}`` document, differing only in base URL, path style,
rate limit and auth headers. Area queries are point-radius circles (≤ 250 NM) from
:func:`collector.aggregators.coverage.covering_circles`; watched airframes are also
looked up by hex wherever they are, batched as comma lists where the provider takes them.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from flightwatch.collector.aggregators.aircraft_json import ParsedAircraft, parse_aircraft_document
from flightwatch.collector.aggregators.errors import AuthError, BadResponse
from flightwatch.collector.aggregators.health import SourceHealth
from flightwatch.collector.aggregators.http import Clock, HttpClient
from flightwatch.collector.aggregators.newer import NewerOnly
from flightwatch.decoder import Observation, normalise_icao

log = logging.getLogger(__name__)

Circle = tuple[float, float, float]  # (lat, lon, radius_nm)


@dataclass(frozen=True)
class Provider:
    """How one v2-compatible API is addressed.

    ``area_path`` has ``{lat}``, ``{lon}``, ``{radius}`` (integer NM); ``hex_path`` has
    ``{hex}`` (lower case, comma-joined when ``hex_batch`` > 1). ``env_headers`` maps a
    header to the environment variable holding its secret value; ``host_header`` names
    a header that carries the base URL's host (RapidAPI's ``X-RapidAPI-Host``).
    """

    name: str
    base_url: str
    area_path: str
    hex_path: str
    min_interval: float = 1.0
    hex_batch: int = 1
    max_radius_nm: float = 250.0
    env_headers: Mapping[str, str] = field(default_factory=dict)
    host_header: str | None = None


# Paths and limits as the providers document them: adsb.fi and airplanes.live ask for
# at most one request a second; airplanes.live's /v2/hex takes a comma list (up to 1000),
# as does adsb.lol (the same readsb re-api behind it). adsb.fi and RapidAPI: one hex a call.
PROVIDERS: dict[str, Provider] = {
    p.name: p
    for p in (
        Provider("adsb.lol", "https://api.adsb.lol", "/v2/point/{lat}/{lon}/{radius}",
                 "/v2/hex/{hex}", min_interval=0.5, hex_batch=100),
        Provider("adsb.fi", "https://opendata.adsb.fi", "/api/v2/lat/{lat}/lon/{lon}/dist/{radius}",
                 "/api/v2/hex/{hex}", min_interval=1.0, hex_batch=1),
        Provider("airplanes.live", "https://api.airplanes.live", "/v2/point/{lat}/{lon}/{radius}",
                 "/v2/hex/{hex}", min_interval=1.0, hex_batch=100),
        Provider("adsbexchange", "https://adsbexchange-com1.p.rapidapi.com",
                 "/v2/lat/{lat}/lon/{lon}/dist/{radius}/", "/v2/hex/{hex}/", min_interval=1.0,
                 hex_batch=1, env_headers={"X-RapidAPI-Key": "ADSBX_RAPIDAPI_KEY"},
                 host_header="X-RapidAPI-Host"),
    )
}


def provider_for(name: str | None, base_url: str | None) -> Provider:
    """The preset named ``name``, else the one whose host is in ``base_url``, else adsb.lol's
    path style; ``base_url`` (when given) replaces the preset's."""
    if name is not None:
        if name not in PROVIDERS:
            raise ValueError(f"unknown provider {name!r}; choose one of {', '.join(PROVIDERS)}")
        preset = PROVIDERS[name]
    else:
        preset = next((p for p in PROVIDERS.values()
                       if base_url and p.name in _host(base_url)), PROVIDERS["adsb.lol"])
    return replace(preset, base_url=base_url) if base_url else preset


def auth_headers(provider: Provider, environ: Mapping[str, str]) -> dict[str, str]:
    """The provider's headers with secrets read from ``environ``; ValueError names a missing one."""
    headers: dict[str, str] = {}
    for header, variable in provider.env_headers.items():
        value = environ.get(variable)
        if not value:
            raise ValueError(f"provider {provider.name} needs the environment variable "
                             f"{variable} (sent as {header})")
        headers[header] = value
    if provider.host_header:
        headers[provider.host_header] = _host(provider.base_url)
    return headers


def _host(url: str) -> str:
    return url.split("://", 1)[-1].split("/", 1)[0]


class AdsbxSource:
    """Polls circles and watched hexes on one v2-compatible provider."""

    def __init__(self, provider: Provider, *, circles: Sequence[Circle] = (),
                 hexes: Sequence[str] = (), name: str | None = None, interval: float = 15.0,
                 headers: Mapping[str, str] | None = None, client: HttpClient | None = None,
                 clock: Clock = time.monotonic, wall_clock: Clock = time.time) -> None:
        self.provider = provider
        self.name = name or provider.name
        self.interval = interval
        self.circles = list(circles)
        valid = {x: normalise_icao(x) for x in hexes}
        bad = [x for x, icao in valid.items() if icao is None]
        if bad:
            raise ValueError(f"{self.name}: not ICAO hex addresses: {', '.join(bad[:5])}")
        self.hexes = sorted({icao for icao in valid.values() if icao})
        if not self.circles and not self.hexes:
            raise ValueError(f"{self.name}: nothing to poll (no geofence circles, no hexes)")
        self._client = client or HttpClient(name=self.name, min_interval=provider.min_interval,
                                            headers=dict(headers or {}), clock=clock)
        self._wall_clock = wall_clock
        self._health = SourceHealth(self.name, base_delay=interval, clock=clock)
        self._fresh = NewerOnly()
        seconds = len(self.urls()) * provider.min_interval
        if seconds > interval:
            log.warning("%s: one poll needs %d requests (≈%.0f s at the provider's rate "
                        "limit), longer than the %.0f s interval; polls will run late",
                        self.name, len(self.urls()), seconds, interval)

    def urls(self) -> list[str]:
        """Every request one poll makes: one per circle, one per batch of hexes."""
        base = self.provider.base_url.rstrip("/")
        urls = []
        for lat, lon, radius in self.circles:
            nm = math.ceil(min(radius, self.provider.max_radius_nm))
            urls.append(base + self.provider.area_path.format(
                lat=f"{lat:.4f}", lon=f"{lon:.4f}", radius=nm))
        step = max(1, self.provider.hex_batch)
        for i in range(0, len(self.hexes), step):
            batch = ",".join(h.lower() for h in self.hexes[i:i + step])
            urls.append(base + self.provider.hex_path.format(hex=batch))
        return urls

    def cancel(self) -> None:
        """Abandon a poll under way and any later one (the daemon stops)."""
        self._client.cancel()

    def poll(self) -> list[Observation]:
        """New observations since the last poll; :class:`AggregatorError` on failure."""
        return self._health.run(self._poll)

    def _poll(self) -> list[Observation]:
        parsed = ParsedAircraft()
        for url in self.urls():
            try:
                body = self._client.get_json(url)
            except AuthError as exc:
                hint = (f"check {', '.join(self.provider.env_headers.values())}"
                        if self.provider.env_headers else "check base_url and provider")
                raise AuthError(f"{exc}; {hint}") from exc
            _raise_api_error(body, self.name)
            parsed.add(parse_aircraft_document(body, self.name, self._wall_clock))
        parsed.count(self.name, self._health)
        return self._fresh(parsed.observations)

    @property
    def stats(self) -> Mapping[str, int]:
        return self._health.stats


def _raise_api_error(body: object, source: str) -> None:
    """A v2 answer without aircraft but with an error ``msg`` is a failure, not 'no traffic'."""
    if not isinstance(body, Mapping) or "ac" in body or "aircraft" in body:
        return
    message = body.get("msg") or body.get("message")
    if isinstance(message, str) and message and message.lower() != "no error":
        raise BadResponse(f"{source}: the API said {message[:200]!r}")
