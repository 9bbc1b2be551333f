"""Public aggregators polled on a schedule: OpenSky, the ADS-B Exchange v2 family, and any
``aircraft.json`` (a URL or a file).

Their keys are declared here for the settings and the reference; the values beyond a
key's type (a provider's name, a box of four numbers, one of ``url`` and ``path``) are
checked by :func:`flightwatch.collector.aggregators.make_aggregator`, which builds the
source, so a table is checked by building it against a stand-in area.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flightwatch.collector.registry import Fences, SourceType
from flightwatch.decoder import keys as parse
from flightwatch.decoder.keys import Key


def _set(help_text: str) -> Key:
    """A key the factory checks when it builds the source: unset means its default."""
    return parse.key(parse.anything, None, help_text)


INTERVAL = parse.key(parse.duration, None, "aggregators: poll interval (opensky 60s, adsbx 15s, "
                                           "aircraft_json 5s)")
TIMEOUT = parse.key(parse.duration, None, "aggregators: HTTP read timeout")
MAX_BODY_MB = parse.key(parse.number, None, "aggregators: refuse (unread) an answer larger "
                                            "than this many MB (default 8)")
DEADLINE = parse.key(parse.duration, None, "aggregators: abandon a request taking longer than "
                                           "this in all, trickled bytes and retries included "
                                           "(default 60s)")
_COMMON = {"interval": INTERVAL, "timeout": TIMEOUT, "max_body_mb": MAX_BODY_MB,
           "deadline": DEADLINE}
BASE_URL = _set("opensky/adsbx: the API's address (the provider's own by default)")

OPENSKY_KEYS = _COMMON | {
    "base_url": BASE_URL,
    "token_url": _set("opensky: the token endpoint (OpenSky's own by default)"),
    "margin_deg": _set("opensky: degrees added around the fences' box (default 0.5)"),
    "bbox": _set("opensky: [lamin, lomin, lamax, lomax] to poll instead of the fences' box"),
    "account": _set("opensky: auto | anonymous | registered | feeder (the credit estimate)"),
}
ADSBX_KEYS = _COMMON | {
    "provider": _set("adsbx: adsb.lol | adsb.fi | airplanes.live | adsbexchange (default "
                     "guessed from base_url, else adsb.lol)"),
    "base_url": BASE_URL,
    "radius_nm": _set("adsbx: radius of each query circle, nautical miles (default 250)"),
    "margin_nm": _set("adsbx: nautical miles added around the fences (default 25)"),
    "hexes": _set("adsbx: addresses looked up wherever they are (default [])"),
    "area": _set("adsbx: query the circles covering the fences (default true)"),
    "min_interval": _set("adsbx: seconds between two requests (the provider's)"),
    "hex_batch": _set("adsbx: addresses per lookup (the provider's)"),
    "area_path": _set("adsbx: the circle query's path (the provider's)"),
    "hex_path": _set("adsbx: the address lookup's path (the provider's)"),
    "auth_headers": _set("adsbx: {header = \"ENV_VAR\"}: header values from the environment"),
}
AIRCRAFT_JSON_KEYS = _COMMON | {
    "url": _set("aircraft_json: URL of an aircraft.json (this or path)"),
    "path": parse.key(parse.path, None, "aircraft_json: file path of aircraft.json"),
}

#: A made-up area: checking a table builds its source, and any area will do for that.
_STAND_IN_AREA = (23.0, 51.0, 33.0, 57.0)


def options(table: Mapping[str, Any]) -> dict[str, Any]:
    """A parsed table as the aggregator factory takes it: set keys only, paths as text."""
    return {
        key: str(value) if isinstance(value, Path) else value
        for key, value in table.items()
        if value is not None and key != "enabled"
    }


def _build(table: Mapping[str, Any], fences: Fences) -> Any:
    from flightwatch.collector.aggregators import make_aggregator

    return make_aggregator(options(table), fences())


def _check(table: Mapping[str, Any]) -> None:
    from flightwatch.collector.aggregators import make_aggregator

    make_aggregator(options(table), fences=_STAND_IN_AREA)


SOURCE_TYPES = (
    SourceType("opensky", "aggregator", "the OpenSky Network's state vectors over the fences",
               OPENSKY_KEYS, _build, check=_check),
    SourceType("adsbx", "aggregator", "the ADS-B Exchange v2 API family (adsb.lol, adsb.fi, "
               "airplanes.live, ADS-B Exchange)", ADSBX_KEYS, _build, check=_check),
    SourceType("aircraft_json", "aggregator", "a dump1090/readsb aircraft.json, by URL or file",
               AIRCRAFT_JSON_KEYS, _build, check=_check),
)
