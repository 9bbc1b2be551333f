"""Configuration: one table of every key with its default and help, read from TOML.

``check-config`` and every command report all unknown keys and bad values at
once, each naming the key, so a user fixes the file in one pass. Secrets
never live in the file: they come from the environment.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import time as dt_time
from pathlib import Path
from typing import Any

from flightwatch.alerts.detect.config import DetectionConfig
from flightwatch.alerts.kinds import KINDS
from flightwatch.collector.ports import DEFAULT_PORTS

DATABASE_URL_ENV = "FLIGHTWATCH_DATABASE_URL"
DEFAULT_TRACK_URL = "https://globe.adsbexchange.com/?icao={icao}&showTrace={date}"


class ConfigError(Exception):
    """The configuration is unusable; ``problems`` lists each bad key with the reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def bundled(relative: str) -> Path:
    """A file shipped with flightwatch in its ``config/`` data folder (found through the
    package's own path: ``importlib.resources`` cost every command a few milliseconds)."""
    import flightwatch.config

    return Path(flightwatch.config.__file__).parent / relative


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d|w)?\s*$")
_UNIT_SECONDS = {None: 1.0, "ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0,
                 "d": 86400.0, "w": 604800.0}


def parse_duration(value: Any) -> float:
    """Seconds from ``15s``, ``5m``, ``6h``, ``7d``, ``2w`` or a plain number of seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 15s, 6h or 7d")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"{value!r} is not a duration such as 15s, 6h or 7d")
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds < 0:
        raise ValueError("must not be negative")
    return seconds


# --- value parsers: each takes the raw TOML value (and the config folder) -------------

Parser = Callable[[Any, Path], Any]


def _str(value: Any, _base: Path) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {value!r}")
    return value


def _int(value: Any, _base: Path) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected a whole number, got {value!r}")
    return value


def _positive_int(value: Any, base: Path) -> int:
    number = _int(value, base)
    if number < 1:
        raise ValueError(f"{number} is not a positive whole number")
    return number


def _port(value: Any, base: Path) -> int:
    port = _int(value, base)
    if not 0 < port < 65536:
        raise ValueError(f"{port} is not a TCP port (1-65535)")
    return port


def _port_or_off(value: Any, base: Path) -> int:
    return 0 if _int(value, base) == 0 else _port(value, base)


def _utc_clock(value: Any, base: Path) -> dt_time:
    """``"07:00"`` (or a TOML time, 07:00:00): a time of day, UTC."""
    if isinstance(value, dt_time):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    text = _str(value, base)
    if not re.fullmatch(r"\d{1,2}:\d{2}", text.strip()):
        raise ValueError(f"{text!r} is not a time of day such as 07:00 (UTC)")
    hour, minute = (int(part) for part in text.strip().split(":"))
    if hour > 23 or minute > 59:
        raise ValueError(f"{text!r} is not a time of day such as 07:00 (UTC)")
    return dt_time(hour, minute)


def _timezone(value: Any, base: Path) -> str:
    """An IANA time zone name (``Europe/Minsk``), checked against the system's zone data."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = _str(value, base)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not a time zone such as Europe/Minsk or UTC") from None
    return name


def _float(value: Any, _base: Path) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {value!r}")
    return float(value)


def _within(low: float, high: float, unit: str) -> Parser:
    """A number above ``low`` and at most ``high``: a threshold where 0, a negative or a
    huge value would silently turn a rule off or make it fire on everything."""

    def parse(value: Any, base: Path) -> float:
        number = _float(value, base)
        if not low < number <= high:
            raise ValueError(f"{number:g} is out of range: more than {low:g} and at most "
                             f"{high:g} {unit}")
        return number

    return parse


def _latitude(value: Any, base: Path) -> float:
    lat = _float(value, base)
    if not -90 <= lat <= 90:
        raise ValueError(f"{lat} is not a latitude (-90 to 90)")
    return lat


def _longitude(value: Any, base: Path) -> float:
    lon = _float(value, base)
    if not -180 <= lon <= 180:
        raise ValueError(f"{lon} is not a longitude (-180 to 180)")
    return lon


def _bool(value: Any, _base: Path) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


def _duration(value: Any, _base: Path) -> float:
    return parse_duration(value)


def _positive_duration(value: Any, base: Path) -> float:
    seconds = _duration(value, base)
    if seconds <= 0:
        raise ValueError("must be more than 0 seconds")
    return seconds


def _path(value: Any, base: Path) -> Path:
    path = Path(_str(value, base)).expanduser()
    return path if path.is_absolute() else base / path


def _str_list(value: Any, base: Path) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"expected a list of text, got {value!r}")
    return list(value)


def _path_list(value: Any, base: Path) -> list[Path]:
    return [_path(v, base) for v in _str_list(value, base)]


def parse_listen(text: str) -> str:
    """``host:port`` (``[::1]:8080`` for IPv6), checked; the web server splits it."""
    text = text.strip()
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{text!r} is not host:port such as 127.0.0.1:8080")
    return text


def _listen(value: Any, base: Path) -> str:
    return parse_listen(_str(value, base))


def _one_of(*choices: str) -> Parser:
    def parse(value: Any, base: Path) -> str:
        text = _str(value, base)
        if text not in choices:
            raise ValueError(f"{text!r} is not one of {', '.join(choices)}")
        return text

    return parse


@dataclass(frozen=True)
class Key:
    parse: Parser
    default: Any
    help: str


def _k(parse: Parser, default: Any, help_text: str) -> Key:
    return Key(parse, default, help_text)


LOCAL_SOURCE_TYPES = ("beast", "avr", "sbs", "rtl_adsb")
AGGREGATOR_SOURCE_TYPES = ("opensky", "adsbx", "aircraft_json")
SOURCE_TYPES = LOCAL_SOURCE_TYPES + AGGREGATOR_SOURCE_TYPES

ALERT_KINDS = KINDS  # declared once, in flightwatch.alerts.kinds

_D = DetectionConfig()

# Where a landing, a take-off or a loss happened, and how sure that is: one section,
# read by the detector, the flights and the alert rules alike.
DETECTION_KEYS: dict[str, Key] = {
    "airports": _k(_path_list, None,
                   "your own airports CSVs (flightwatch or OurAirports format): they add to "
                   "the shipped world airports, and a row with the same ICAO code or ident "
                   "replaces the shipped one"),
    "runways": _k(_path_list, None,
                  "your own runway CSVs (OurAirports runways.csv format), whose thresholds "
                  "tell an approach from an overflight: an airport's runways here replace "
                  "the shipped ones"),
    "airport_radius_km": _k(_within(0, 50, "km"), _D.airport_radius_km,
                            "observed landing/take-off: at most this far from an airport"),
    "landed_below_ft": _k(_within(0, 5000, "ft"), _D.landed_below_ft,
                          "observed landing without surface messages: below this height above "
                          "the field and slower than landed_slower_kt"),
    "landed_slower_kt": _k(_within(0, 250, "kt"), _D.landed_slower_kt,
                           "observed landing without surface messages: ground speed below"),
    "inferred_below_ft": _k(_within(0, 3000, "ft"), _D.inferred_below_ft,
                            "inferred landing: a track lost below this height above the field "
                            "on a runway's approach landed there"),
    "approach_km": _k(_within(0, 50, "km"), _D.approach_km,
                      "inferred landing/take-off: a runway's approach (or climb-out) reaches "
                      "this far from its threshold"),
    "approach_deg": _k(_within(0, 90, "degrees"), _D.approach_deg,
                       "inferred landing/take-off: track within this of the runway heading "
                       "(the approach widens by half of it)"),
    "approach_slower_kt": _k(_within(0, 400, "kt"), _D.approach_slower_kt,
                             "inferred landing: last ground speed below this"),
    "overhead_below_ft": _k(_within(0, 3000, "ft"), _D.overhead_below_ft,
                            "inferred landing: lost below this height above the field within "
                            "overhead_km of it, whatever the heading"),
    "overhead_km": _k(_within(0, 20, "km"), _D.overhead_km, "see overhead_below_ft"),
    "probable_below_ft": _k(_within(0, 45000, "ft"), _D.probable_below_ft,
                            "probable landing: lost descending below this height above the "
                            "field, on a path that reaches it"),
    "descending_fpm": _k(_within(0, 6000, "fpm"), _D.descending_fpm,
                         "probable landing: descending at least this fast (averaged over the "
                         "last minutes), unless low, slow and near a field"),
    "climbing_fpm": _k(_within(0, 6000, "fpm"), _D.climbing_fpm,
                       "probable take-off: first heard climbing at least this fast"),
    "glide_min_deg": _k(_within(0, 10, "degrees"), _D.glide_min_deg,
                        "probable landing: the shallowest plausible descent path"),
    "glide_max_deg": _k(_within(0, 20, "degrees"), _D.glide_max_deg,
                        "probable landing: the steepest plausible descent path"),
    "detour_km": _k(_within(0, 200, "km"), _D.detour_km,
                    "probable landing: the most an arrival's turns add to the direct distance"),
    "alike": _k(_within(0, 2, ""), _D.alike,
                "airports whose misfits differ by less fit alike and are all reported"),
    "turnaround": _k(_duration, _D.turnaround_s,
                     "a silence that begins descending towards an airport and ends climbing "
                     "away from it within this is a turnaround (the landing confirmed)"),
    "dark_after": _k(_duration, _D.dark_after_s,
                     "went_dark: still silent this long after a loss inside coverage"),
    "dark_inside": _k(_within(0, 1, "of the range"), _D.dark_inside,
                      "went_dark: lost closer than this fraction of the farthest distance "
                      "the receiver hears at that height in that direction"),
    "coverage_edge": _k(_within(0, 2, "of the range"), _D.coverage_edge,
                        "went_silent: lost beyond this fraction of that distance, it left "
                        "coverage"),
    "coverage_min_positions": _k(_int, _D.coverage_min_positions,
                                 "a coverage cell (10 degrees x altitude band) says nothing "
                                 "before this many positions were heard in it"),
}

# Keys of [alerts] that moved to [detection]: still read from [alerts] when set there.
MOVED_TO_DETECTION = (
    "airports", "runways", "airport_radius_km", "landed_below_ft", "landed_slower_kt",
    "inferred_below_ft", "approach_km", "approach_deg", "approach_slower_kt",
)

# The settings table: section -> key -> (parser, default, help). The documentation's
# configuration reference (docs/reference/configuration.md) is written from this table.
SCHEMA: dict[str, dict[str, Key]] = {
    "database": {
        "url": _k(_str, "sqlite:///flightwatch.db",
                  f"SQLAlchemy URL; sqlite paths are relative to the config file; "
                  f"env {DATABASE_URL_ENV} wins"),
        "batch_rows": _k(_int, 20_000, "commit after this many buffered positions"),
        "batch_seconds": _k(_duration, 60.0,
                            "commit at least this often (an SD card lives longer with fewer "
                            "commits; SIGTERM still flushes)"),
        "merge_interval": _k(_duration, 900.0,
                             "fold committed positions into per-aircraft chunks this often "
                             "(queries read both; longer writes a little less)"),
    },
    "receiver": {
        "name": _k(_str, "local", "receiver id written with its positions"),
        "lat": _k(_latitude, None, "receiver latitude; needed to decode surface positions"),
        "lon": _k(_longitude, None, "receiver longitude"),
    },
    "tracker": {
        "expire_after": _k(_duration, 60.0, "forget an aircraft after this much silence"),
        "store_interval": _k(_duration, 5.0, "store at most one position per aircraft this often"),
        "velocity_interval": _k(_duration, 1.0,
                                "decode an aircraft's velocity squitters at most this often "
                                "(0: all); longer is faster but notices turns and climbs later"),
        "max_speed_kt": _k(_float, 1200.0, "reject positions implying a faster speed"),
        "max_aircraft": _k(_int, 10_000, "bound on aircraft tracked at once"),
    },
    "watchlist": {
        "files": _k(_path_list, None, "watchlist CSVs (flightwatch or plane-alert-db format)"),
        "callsign_prefixes": _k(_str_list, None, "operator callsign prefixes to watch"),
        "address_blocks": _k(_str_list, [],
                             "country ICAO address blocks to watch at low confidence: RU, BY"),
    },
    "alerts": {
        "cooldown": _k(_duration, 6 * 3600.0, "same aircraft, fence and kind: alert once per"),
        "events": _k(_str_list, list(ALERT_KINDS), "alert kinds to raise"),
        "approach_within": _k(_duration, 15 * 60.0, "warn of a fence crossing this far ahead"),
        "squawks": _k(_str_list, [], "squawk codes to alert on inside a fence (7500, 77*)"),
        "outbox_dir": _k(_path, None, "write each alert mail as a file here when no SMTP"),
        "retry_first": _k(_duration, 30.0, "first retry of a failed notification after"),
        "retry_max": _k(_duration, 3600.0, "longest wait between notification retries"),
        "give_up_after": _k(_duration, 7 * 86400.0, "drop an undeliverable notification after"),
        **{name: _k(DETECTION_KEYS[name].parse, None,
                    f"deprecated: [detection] {name} (read there when this is set)")
           for name in MOVED_TO_DETECTION},
        "border_margin_km": _k(_float, 0.5,
                               "enter/exit: count a side change at once when this far past the "
                               "border (after two positions)"),
        "border_hold": _k(_duration, 20.0,
                          "enter/exit: otherwise count it once the new side held this long"),
        "heard_nearby_replies": _k(_int, 5,
                                   "heard_nearby: Mode-S replies from a watched address needed "
                                   "within heard_nearby_window"),
        "heard_nearby_window": _k(_duration, 60.0, "heard_nearby: the counting window"),
        "track_url": _k(_str, DEFAULT_TRACK_URL,
                        "link to the track in chat and MQTT alerts; {icao} (lower-case hex) "
                        "and {date} (UTC, YYYY-MM-DD) are filled in; empty for none"),
        "pictures": _k(_bool, True,
                       "draw a map picture (PNG) of each alert, stored with it, attached to "
                       "mail and to chat channels that take attachments"),
    },
    "detection": DETECTION_KEYS,
    "alerts.apprise": {
        "urls": _k(_str_list, [],
                   "Apprise URLs (tgram://, signal://, ntfy://, matrix://, discord://, "
                   "mastodon://...), each its own channel apprise:SCHEME; ${VAR} is replaced "
                   "by env VAR"),
    },
    "alerts.mqtt": {
        "host": _k(_str, None, "MQTT broker; no host means no MQTT"),
        "port": _k(_port, 1883, "MQTT port (8883 with TLS)"),
        "topic": _k(_str, "flightwatch/alerts",
                    "every alert as JSON here (QoS 1); the latest per aircraft, retained, "
                    "under TOPIC/ICAO"),
        "client_id": _k(_str, "flightwatch",
                        "fixed client id of the persistent session; one per flightwatch"),
        "username": _k(_str, None, "MQTT user; password from env FLIGHTWATCH_MQTT_PASSWORD"),
        "tls": _k(_bool, False, "connect with TLS"),
        "ca_file": _k(_path, None, "TLS: trust this CA file instead of the system's"),
        "timeout": _k(_duration, 10.0, "wait this long for the broker's CONNACK and PUBACK"),
        "discovery": _k(_bool, False, "announce sensors to Home Assistant (MQTT discovery)"),
        "discovery_prefix": _k(_str, "homeassistant", "Home Assistant's discovery prefix"),
    },
    "alerts.email": {
        "host": _k(_str, None, "SMTP server; no host means no email"),
        "port": _k(_port, 25, "SMTP port"),
        "security": _k(_one_of("none", "starttls", "ssl"), "none", "none, starttls or ssl"),
        "username": _k(_str, None, "SMTP user; password from env FLIGHTWATCH_SMTP_PASSWORD"),
        "allow_plaintext_auth": _k(_bool, False,
                                   "log in with security = \"none\" (the password in clear): "
                                   "only for a server on this machine; otherwise refused"),
        "sender": _k(_str, "flightwatch@localhost", "From address"),
        "recipients": _k(_str_list, [], "To addresses"),
        "timeout": _k(_duration, 20.0, "SMTP timeout"),
    },
    "alerts.webhook": {
        "url": _k(_str, None, "POST each alert as JSON to this URL; ${VAR} is replaced by "
                              "env VAR (a token kept out of the file)"),
        "timeout": _k(_duration, 10.0, "HTTP timeout"),
    },
    "retention": {
        "thin_after": _k(_duration, 7 * 86400.0, "thin positions older than this; 0 never"),
        "thin_interval": _k(_duration, 180.0,
                            "keep one position per aircraft per interval (and every "
                            "landing and take-off)"),
        "delete_after": _k(_duration, 0.0, "delete positions older than this; 0 keeps them"),
        "interval": _k(_duration, 600.0, "run thinning, deleting and space reclaiming this often"),
        "run_seconds": _k(_duration, 20.0, "stop a run after this long; the rest waits a run"),
        "batch_rows": _k(_int, 20_000,
                         "positions per thinning batch (whole intervals); each commits alone"),
        "vacuum_pages": _k(_int, 2048,
                           "SQLite: give at most this many free pages back to the disk per run"),
        "keep_free_mb": _k(_float, 64.0,
                           "SQLite: keep this much free space in the file for new positions"),
    },
    "flights": {
        "gap": _k(_duration, 30 * 60.0,
                  "start a new flight after this long without a position; an inferred "
                  "landing heard again on the approach within it is undone (and its alert "
                  "retracted)"),
    },
    "opensky_history": {
        "host": _k(_str, "trino.opensky-network.org",
                   "`import --opensky-history`: OpenSky's Trino (historical database) host"),
        "port": _k(_port, 443, "its port"),
        "http_scheme": _k(_one_of("https", "http"), "https",
                          "https; http only for a server on this machine (tests)"),
        "catalog": _k(_str, "minio", "Trino catalog of the state vectors"),
        "schema": _k(_str, "osky", "Trino schema of the state vectors"),
        "username": _k(_str, None,
                       "your OpenSky account's user name (or env OPENSKY_USERNAME); the "
                       "password comes from env OPENSKY_PASSWORD"),
        "token_url": _k(_str, "https://auth.opensky-network.org/auth/realms/opensky-network/"
                              "protocol/openid-connect/token",
                        "OpenSky's OAuth2 token endpoint (password grant, client trino-client)"),
        "page_rows": _k(_int, 10_000, "rows fetched from the database at a time"),
    },
    "status": {
        "interval": _k(_duration, 60.0, "log a status line (and write the snapshot) this often"),
        "metrics_port": _k(_port_or_off, 0,
                           "serve Prometheus metrics on this port (e.g. 9108); 0 = off"),
        "metrics_host": _k(_str, "127.0.0.1",
                           "address the metrics endpoint binds to; keep it on loopback"),
        "snapshot_file": _k(_path, None,
                            "status snapshot for `flightwatch status`; default beside the "
                            "SQLite database, else in the config file's folder"),
        "digest_at": _k(_utc_clock, None,
                        "mail a daily digest of watched aircraft at this UTC time (07:00); "
                        "off when unset"),
    },
    "web": {
        "listen": _k(_listen, None,
                     "`run` also serves the web pages on host:port (127.0.0.1:8080); off "
                     "when unset. Beyond loopback it needs env FLIGHTWATCH_WEB_PASSWORD"),
        "username": _k(_str, "flightwatch",
                       "HTTP basic auth user; the password (also a Bearer token) comes from "
                       "env FLIGHTWATCH_WEB_PASSWORD, and without it there is no login"),
        "allow_public": _k(_bool, False,
                           "listen beyond loopback with no password (anyone who reaches the "
                           "port reads the history)"),
        "allowed_hosts": _k(_str_list, [],
                            "names the site is reached by besides the listen address "
                            "(pi.lan); a request naming another Host gets 400 (DNS "
                            "rebinding). Default from listen: its address, plus localhost "
                            "on loopback, plus any IP address and this machine's name on "
                            "0.0.0.0 or ::"),
        "max_connections": _k(_positive_int, 200,
                              "open connections at most; a new one closes the longest-open "
                              "idle one (kept below the open-files limit, ulimit -n)"),
        "request_timeout": _k(_positive_duration, 10.0,
                              "close a connection whose request (headers and body) has not "
                              "arrived within this"),
        "refresh": _k(_duration, 5.0, "the Now page asks for aircraft positions this often"),
        "tiles_url": _k(_str, "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                        "map tiles; empty: no tiles, the maps draw country borders instead "
                        "(they also do when tiles fail to load)"),
        "tiles_attribution": _k(_str, "&copy; OpenStreetMap contributors",
                                "credit shown for the tiles"),
    },
}

SOURCE_KEYS: dict[str, Key] = {
    "type": _k(_one_of(*SOURCE_TYPES), None, " | ".join(SOURCE_TYPES)),
    "name": _k(_str, None, "name stored with positions; defaults to type:host:port or type"),
    "enabled": _k(_bool, True, "false keeps the entry but does not run it"),
    "host": _k(_str, "127.0.0.1", "beast/avr/sbs: receiver host"),
    "port": _k(_port, None, "beast/avr/sbs: port (30005, 30002, 30003)"),
    "command": _k(_str_list, ["rtl_adsb"], "rtl_adsb: the command and its arguments"),
    "interval": _k(_duration, None, "aggregators: poll interval (opensky 60s, adsbx 15s, "
                                    "aircraft_json 5s)"),
    "timeout": _k(_duration, None, "aggregators: HTTP read timeout"),
    "max_body_mb": _k(_float, None, "aggregators: refuse (unread) an answer larger than this "
                                    "many MB (default 8)"),
    "deadline": _k(_duration, None, "aggregators: abandon a request taking longer than this "
                                    "in all, trickled bytes and retries included (default 60s)"),
    "path": _k(_path, None, "aircraft_json: file path of aircraft.json"),
}
_LOCAL_KEYS = {"type", "name", "enabled", "host", "port", "command"}


def _source_keys(kind: Any) -> dict[str, Key]:
    """The keys a source of this type takes; aggregator options are checked by the collector."""
    from flightwatch.collector.aggregators import AGGREGATOR_KEYS

    if kind in AGGREGATOR_KEYS:
        raw_keys = AGGREGATOR_KEYS[kind] | {"enabled"}
        return {k: SOURCE_KEYS.get(k, _k(_any, None, "see docs/sources.md")) for k in raw_keys}
    return {k: v for k, v in SOURCE_KEYS.items() if k in _LOCAL_KEYS}


def _any(value: Any, _base: Path) -> Any:
    return value


# The fences shipped in config/geofences/, by name, with their local time: a
# ``[[geofences]]`` of one of these names needs no file, so a configuration copied
# anywhere still finds them.
SHIPPED_FENCES = {"belarus": "Europe/Minsk", "minsk_fir": "Europe/Minsk"}

GEOFENCE_KEYS: dict[str, Key] = {
    "name": _k(_str, None, "fence name used in alerts and --geofence"),
    "file": _k(_path, None,
               "GeoJSON Polygon/MultiPolygon, relative to the config file; not needed for "
               f"a shipped fence ({', '.join(SHIPPED_FENCES)})"),
    "buffer_km": _k(_float, 0.0, "grow (or, negative, shrink) the fence by this many km"),
    "timezone": _k(_timezone, None,
                   "local time shown in chat alerts (Europe/Minsk); default UTC only, "
                   "Europe/Minsk for the shipped fences"),
}

_ARRAYS: dict[str, Callable[[Any], dict[str, Key]]] = {
    "sources": _source_keys,
    "geofences": lambda _kind: GEOFENCE_KEYS,
}


@dataclass
class Settings:
    """Validated configuration with defaults filled in."""

    path: Path | None
    base: Path
    sections: dict[str, dict[str, Any]]
    sources: list[dict[str, Any]] = field(default_factory=list)
    geofences: list[dict[str, Any]] = field(default_factory=list)

    def __getitem__(self, section: str) -> dict[str, Any]:
        return self.sections[section]

    @property
    def database_url(self) -> str:
        return str(self.sections["database"]["url"])

    def enabled_sources(self, kinds: tuple[str, ...] = SOURCE_TYPES) -> list[dict[str, Any]]:
        return [s for s in self.sources if s["enabled"] and s["type"] in kinds]


def _parse_table(
    table: Mapping[str, Any], keys: Mapping[str, Key], where: str, base: Path,
    problems: list[str],
) -> dict[str, Any]:
    out = {name: key.default for name, key in keys.items()}
    for name, raw in table.items():
        key = keys.get(name)
        if key is None:
            if not isinstance(raw, dict):
                problems.append(f"{where}.{name}: unknown key")
            continue
        try:
            out[name] = key.parse(raw, base)
        except ValueError as exc:
            problems.append(f"{where}.{name}: {exc}")
    return out


def _walk_unknown_sections(data: Mapping[str, Any], prefix: str, problems: list[str]) -> None:
    for name, value in data.items():
        dotted = f"{prefix}{name}"
        if isinstance(value, dict):
            if dotted not in SCHEMA:
                problems.append(f"[{dotted}]: unknown section")
            else:
                _walk_unknown_sections(value, f"{dotted}.", problems)


def load_settings(path: Path | None, env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate ``path`` (None: all defaults); raise ConfigError listing every problem."""
    env = os.environ if env is None else env
    data: dict[str, Any] = {}
    if path is not None:
        try:
            with open(path, "rb") as handle:
                data = tomllib.load(handle)
        except FileNotFoundError:
            raise ConfigError([f"{path}: config file not found"]) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError([f"{path}: not valid TOML: {exc}"]) from None
        except OSError as exc:
            raise ConfigError([f"{path}: cannot read: {exc}"]) from None
    base = path.resolve().parent if path is not None else Path.cwd()
    problems: list[str] = []

    sections: dict[str, dict[str, Any]] = {}
    for section, keys in SCHEMA.items():
        table: Any = data
        for part in section.split("."):
            table = table.get(part, {}) if isinstance(table, dict) else {}
        if not isinstance(table, dict):
            problems.append(f"[{section}]: expected a table")
            table = {}
        sections[section] = _parse_table(table, keys, section, base, problems)
    for name, value in data.items():
        if name in _ARRAYS:
            continue
        if name not in SCHEMA and not any(s.startswith(f"{name}.") for s in SCHEMA):
            problems.append(f"[{name}]: unknown section" if isinstance(value, dict)
                            else f"{name}: unknown key")
        elif isinstance(value, dict):
            _walk_unknown_sections(value, f"{name}.", problems)

    arrays: dict[str, list[dict[str, Any]]] = {}
    for name, keys_for in _ARRAYS.items():
        raw_list = data.get(name, [])
        if not isinstance(raw_list, list):
            problems.append(f"{name}: expected [[{name}]] tables")
            raw_list = []
        arrays[name] = []
        for i, item in enumerate(raw_list):
            if not isinstance(item, dict):
                problems.append(f"{name}[{i}]: expected a table")
                continue
            keys = keys_for(item.get("type"))
            arrays[name].append(_parse_table(item, keys, f"{name}[{i}]", base, problems))

    _fill_defaults(sections, arrays, base, env, problems)
    if problems:
        raise ConfigError([f"{path or 'defaults'}: {p}" for p in problems])
    return Settings(path, base, sections, arrays["sources"], arrays["geofences"])


#: Keys whose value is a URL: ``${NAME}`` in them is replaced by env NAME when the file is
#: loaded (``alerts.webhook.url`` and ``alerts.apprise.urls`` when the notifiers are built:
#: check-config reads them without the secrets).
URL_KEYS = (("database", "url"), ("web", "tiles_url"), ("alerts", "track_url"),
            ("opensky_history", "token_url"))
SOURCE_URL_KEYS = ("url", "base_url", "token_url")


def _expand_urls(sections: dict[str, dict[str, Any]], sources: list[dict[str, Any]],
                 env: Mapping[str, str], problems: list[str]) -> None:
    from flightwatch.decoder.redaction import EnvReferenceError, expand_env

    tables = [(sections[section], key, f"{section}.{key}") for section, key in URL_KEYS]
    tables += [(source, key, f"sources[{i}].{key}") for i, source in enumerate(sources)
               for key in SOURCE_URL_KEYS]
    for table, key, where in tables:
        value = table.get(key)
        if isinstance(value, str) and "${" in value:
            try:
                table[key] = expand_env(value, env, where)[0]
            except EnvReferenceError as exc:
                problems.append(str(exc))


def _fill_defaults(
    sections: dict[str, dict[str, Any]],
    arrays: dict[str, list[dict[str, Any]]],
    base: Path,
    env: Mapping[str, str],
    problems: list[str],
) -> None:
    """Defaults that depend on other values, the environment or the shipped data."""
    _expand_urls(sections, arrays["sources"], env, problems)
    database = sections["database"]
    database["url"] = env.get(DATABASE_URL_ENV) or _resolve_sqlite(database["url"], base)
    receiver = sections["receiver"]
    if (receiver["lat"] is None) != (receiver["lon"] is None):
        problems.append("receiver: give both lat and lon, or neither")

    watchlist = sections["watchlist"]
    if watchlist["files"] is None:
        watchlist["files"] = [bundled("watchlist.csv")]
    for i, source in enumerate(arrays["sources"]):
        kind = source["type"]
        if kind is None:
            problems.append(f"sources[{i}].type: missing; one of {', '.join(SOURCE_TYPES)}")
            continue
        if kind in DEFAULT_PORTS and source["port"] is None:
            source["port"] = DEFAULT_PORTS[kind]
        if source["name"] is None and kind in LOCAL_SOURCE_TYPES:
            source["name"] = (f"{kind}:{source['host']}:{source['port']}"
                              if kind in DEFAULT_PORTS else kind)
        if kind in AGGREGATOR_SOURCE_TYPES:
            _check_aggregator(source, f"sources[{i}]", problems)
    if not arrays["geofences"]:
        arrays["geofences"] = [{name: key.default for name, key in GEOFENCE_KEYS.items()}
                               | {"name": "belarus"}]
    for i, fence in enumerate(arrays["geofences"]):
        if fence["file"] is None and fence["name"] in SHIPPED_FENCES:
            fence["file"] = bundled(f"geofences/{fence['name']}.geojson")
            fence["timezone"] = fence["timezone"] or SHIPPED_FENCES[fence["name"]]
        for required in ("name", "file"):
            if fence[required] is None:
                problems.append(f"geofences[{i}].{required}: missing" + (
                    f" (the shipped fences need none: {', '.join(SHIPPED_FENCES)})"
                    if required == "file" else ""))
    names = [f["name"] for f in arrays["geofences"]]
    for name in {n for n in names if names.count(n) > 1}:
        problems.append(f"geofences: name {name!r} used twice")
    detection, alerts = sections["detection"], sections["alerts"]
    for name in MOVED_TO_DETECTION:
        if alerts[name] is not None and detection[name] == DETECTION_KEYS[name].default:
            detection[name] = alerts[name]
    unknown_kinds = set(sections["alerts"]["events"]) - set(ALERT_KINDS)
    if unknown_kinds:
        problems.append(
            f"alerts.events: unknown event kind(s) {', '.join(sorted(unknown_kinds))}; "
            f"known: {', '.join(ALERT_KINDS)}"
        )


def secrets_readable_by_others(settings: Settings) -> str | None:
    """A warning when the configuration file holds secrets (a password or token in a URL,
    an Apprise URL not made of ``${NAME}``) and its group or others may read it."""
    from flightwatch.decoder.redaction import has_env_reference, looks_secret

    path = settings.path
    if path is None:
        return None
    try:
        mode = path.stat().st_mode
        with open(path, "rb") as handle:
            values = list(_strings(tomllib.load(handle)))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    readers = [who for who, bit in (("its group", 0o040), ("others", 0o004)) if mode & bit]
    if not readers:
        return None
    urls = settings["alerts.apprise"]["urls"]  # their tokens have no telling shape
    if not any(looks_secret(value) for value in values) and all(
            has_env_reference(url) for url in urls):
        return None
    return (f"{path} holds secrets (a password or token in a URL) and {' and '.join(readers)} "
            f"may read it: chmod 600 {path}, or put them in the environment and write "
            "${NAME} in their place")


def _strings(value: Any) -> Iterator[str]:
    """Every text value of a parsed TOML document (comments are not values)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def aggregator_options(source: Mapping[str, Any]) -> dict[str, Any]:
    """A source table as the aggregator factory takes it: set keys only, paths as text."""
    return {
        key: str(value) if isinstance(value, Path) else value
        for key, value in source.items()
        if value is not None and key != "enabled"
    }


def _check_aggregator(source: dict[str, Any], where: str, problems: list[str]) -> None:
    from flightwatch.collector.aggregators import make_aggregator

    try:
        # Any fence will do for checking keys; the daemon passes the real ones.
        make_aggregator(aggregator_options(source), fences=(23.0, 51.0, 33.0, 57.0))
    except ValueError as exc:
        problems.append(f"{where}: {exc}")


def _resolve_sqlite(url: str, base: Path) -> str:
    """Make a relative SQLite path relative to the config file's folder."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith("sqlite:////"):
        rest = url[len(prefix):]
        if rest and rest != ":memory:" and not Path(rest).is_absolute():
            return prefix + str(base / rest)
    return url
