"""Configuration: one table of every key with its default and help, read from TOML.

``check-config`` and every command report all unknown keys and bad values at
once, each naming the key, so a user fixes the file in one pass. Secrets
never live in the file: they come from the environment.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flightwatch.alerts.detect.config import DetectionConfig
from flightwatch.alerts.kinds import KINDS
from flightwatch.alerts.rules.config import RuleConfig
from flightwatch.collector import registry as source_registry
from flightwatch.decoder import keys as parse
from flightwatch.decoder.keys import Key, Parser, parse_duration, parse_listen  # noqa: F401 (re-exported)
from flightwatch.decoder.tracker import TrackerConfig

_k = parse.key

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


# The source types, as collector/sources/ declares them (keys, defaults, factory).
LOCAL_SOURCE_TYPES = source_registry.names("receiver")
AGGREGATOR_SOURCE_TYPES = source_registry.names("aggregator")
SOURCE_TYPES = source_registry.names()

ALERT_KINDS = KINDS  # declared once, in flightwatch.alerts.kinds


# Where a landing, a take-off or a loss happened, and how sure that is: one section,
# read by the detector, the flights and the alert rules alike.
DETECTION_KEYS: dict[str, Key] = {
    "airports": _k(parse.path_list, None,
                   "your own airports CSVs (flightwatch or OurAirports format): they add to "
                   "the shipped world airports, and a row with the same ICAO code or ident "
                   "replaces the shipped one"),
    "runways": _k(parse.path_list, None,
                  "your own runway CSVs (OurAirports runways.csv format), whose thresholds "
                  "tell an approach from an overflight: an airport's runways here replace "
                  "the shipped ones"),
}
# The thresholds: declared once, with their defaults and help, on DetectionConfig.
DETECTION_KEYS |= parse.section_keys(DetectionConfig)

# Keys of [alerts] that moved to [detection]: still read from [alerts] when set there.
MOVED_TO_DETECTION = (
    "airports", "runways", "airport_radius_km", "landed_below_ft", "landed_slower_kt",
    "inferred_below_ft", "approach_km", "approach_deg", "approach_slower_kt",
)

# The settings table: section -> key -> (parser, default, help). The documentation's
# configuration reference (docs/reference/configuration.md) is written from this table.
SCHEMA: dict[str, dict[str, Key]] = {
    "database": {
        "url": _k(parse.text, "sqlite:///flightwatch.db",
                  f"SQLAlchemy URL; sqlite paths are relative to the config file; "
                  f"env {DATABASE_URL_ENV} wins"),
        "batch_rows": _k(parse.whole, 20_000, "commit after this many buffered positions"),
        "batch_seconds": _k(parse.duration, 60.0,
                            "commit at least this often (an SD card lives longer with fewer "
                            "commits; SIGTERM still flushes)"),
        "merge_interval": _k(parse.duration, 900.0,
                             "fold committed positions into per-aircraft chunks this often "
                             "(queries read both; longer writes a little less)"),
    },
    "receiver": {
        "name": _k(parse.text, "local", "receiver id written with its positions"),
        "lat": _k(parse.latitude, None, "receiver latitude; needed to decode surface positions"),
        "lon": _k(parse.longitude, None, "receiver longitude"),
    },
    "tracker": parse.section_keys(TrackerConfig),
    "watchlist": {
        "files": _k(parse.path_list, None, "watchlist CSVs (flightwatch or plane-alert-db format)"),
        "callsign_prefixes": _k(parse.text_list, None, "operator callsign prefixes to watch"),
        "address_blocks": _k(parse.text_list, [],
                             "country ICAO address blocks to watch at low confidence: RU, BY"),
    },
    "alerts": {
        **parse.section_keys(RuleConfig),  # the rules' keys, declared on RuleConfig
        "outbox_dir": _k(parse.path, None, "write each alert mail as a file here when no SMTP"),
        "retry_first": _k(parse.duration, 30.0, "first retry of a failed notification after"),
        "retry_max": _k(parse.duration, 3600.0, "longest wait between notification retries"),
        "give_up_after": _k(parse.duration, 7 * 86400.0,
                            "drop an undeliverable notification after"),
        **{name: _k(DETECTION_KEYS[name].parse, None,
                    f"deprecated: [detection] {name} (read there when this is set)")
           for name in MOVED_TO_DETECTION},
        "track_url": _k(parse.text, DEFAULT_TRACK_URL,
                        "link to the track in chat and MQTT alerts; {icao} (lower-case hex) "
                        "and {date} (UTC, YYYY-MM-DD) are filled in; empty for none"),
        "pictures": _k(parse.flag, True,
                       "draw a map picture (PNG) of each alert, stored with it, attached to "
                       "mail and to chat channels that take attachments"),
    },
    "detection": DETECTION_KEYS,
    "alerts.apprise": {
        "urls": _k(parse.text_list, [],
                   "Apprise URLs (tgram://, signal://, ntfy://, matrix://, discord://, "
                   "mastodon://...), each its own channel apprise:SCHEME; ${VAR} is replaced "
                   "by env VAR"),
    },
    "alerts.mqtt": {
        "host": _k(parse.text, None, "MQTT broker; no host means no MQTT"),
        "port": _k(parse.port, 1883, "MQTT port (8883 with TLS)"),
        "topic": _k(parse.text, "flightwatch/alerts",
                    "every alert as JSON here (QoS 1); the latest per aircraft, retained, "
                    "under TOPIC/ICAO"),
        "client_id": _k(parse.text, "flightwatch",
                        "fixed client id of the persistent session; one per flightwatch"),
        "username": _k(parse.text, None, "MQTT user; password from env FLIGHTWATCH_MQTT_PASSWORD"),
        "tls": _k(parse.flag, False, "connect with TLS"),
        "ca_file": _k(parse.path, None, "TLS: trust this CA file instead of the system's"),
        "timeout": _k(parse.duration, 10.0, "wait this long for the broker's CONNACK and PUBACK"),
        "discovery": _k(parse.flag, False, "announce sensors to Home Assistant (MQTT discovery)"),
        "discovery_prefix": _k(parse.text, "homeassistant", "Home Assistant's discovery prefix"),
    },
    "alerts.email": {
        "host": _k(parse.text, None, "SMTP server; no host means no email"),
        "port": _k(parse.port, 25, "SMTP port"),
        "security": _k(parse.one_of("none", "starttls", "ssl"), "none", "none, starttls or ssl"),
        "username": _k(parse.text, None, "SMTP user; password from env FLIGHTWATCH_SMTP_PASSWORD"),
        "allow_plaintext_auth": _k(parse.flag, False,
                                   "log in with security = \"none\" (the password in clear): "
                                   "only for a server on this machine; otherwise refused"),
        "sender": _k(parse.text, "flightwatch@localhost", "From address"),
        "recipients": _k(parse.text_list, [], "To addresses"),
        "timeout": _k(parse.duration, 20.0, "SMTP timeout"),
    },
    "alerts.webhook": {
        "url": _k(parse.text, None, "POST each alert as JSON to this URL; ${VAR} is replaced by "
                              "env VAR (a token kept out of the file)"),
        "timeout": _k(parse.duration, 10.0, "HTTP timeout"),
    },
    "retention": {
        "thin_after": _k(parse.duration, 7 * 86400.0, "thin positions older than this; 0 never"),
        "thin_interval": _k(parse.duration, 180.0,
                            "keep one position per aircraft per interval (and every "
                            "landing and take-off)"),
        "delete_after": _k(parse.duration, 0.0, "delete positions older than this; 0 keeps them"),
        "interval": _k(parse.duration, 600.0,
                       "run thinning, deleting and space reclaiming this often"),
        "run_seconds": _k(parse.duration, 20.0, "stop a run after this long; the rest waits a run"),
        "batch_rows": _k(parse.whole, 20_000,
                         "positions per thinning batch (whole intervals); each commits alone"),
        "vacuum_pages": _k(parse.whole, 2048,
                           "SQLite: give at most this many free pages back to the disk per run"),
        "keep_free_mb": _k(parse.number, 64.0,
                           "SQLite: keep this much free space in the file for new positions"),
    },
    "flights": {
        "gap": _k(parse.duration, 30 * 60.0,
                  "start a new flight after this long without a position; an inferred "
                  "landing heard again on the approach within it is undone (and its alert "
                  "retracted)"),
    },
    "opensky_history": {
        "host": _k(parse.text, "trino.opensky-network.org",
                   "`import --opensky-history`: OpenSky's Trino (historical database) host"),
        "port": _k(parse.port, 443, "its port"),
        "http_scheme": _k(parse.one_of("https", "http"), "https",
                          "https; http only for a server on this machine (tests)"),
        "catalog": _k(parse.text, "minio", "Trino catalog of the state vectors"),
        "schema": _k(parse.text, "osky", "Trino schema of the state vectors"),
        "username": _k(parse.text, None,
                       "your OpenSky account's user name (or env OPENSKY_USERNAME); the "
                       "password comes from env OPENSKY_PASSWORD"),
        "token_url": _k(parse.text, "https://auth.opensky-network.org/auth/realms/opensky-network/"
                              "protocol/openid-connect/token",
                        "OpenSky's OAuth2 token endpoint (password grant, client trino-client)"),
        "page_rows": _k(parse.whole, 10_000, "rows fetched from the database at a time"),
    },
    "status": {
        "interval": _k(parse.duration, 60.0,
                       "log a status line (and write the snapshot) this often"),
        "metrics_port": _k(parse.port_or_off, 0,
                           "serve Prometheus metrics on this port (e.g. 9108); 0 = off"),
        "metrics_host": _k(parse.text, "127.0.0.1",
                           "address the metrics endpoint binds to; keep it on loopback"),
        "snapshot_file": _k(parse.path, None,
                            "status snapshot for `flightwatch status`; default beside the "
                            "SQLite database, else in the config file's folder"),
        "digest_at": _k(parse.utc_clock, None,
                        "mail a daily digest of watched aircraft at this UTC time (07:00); "
                        "off when unset"),
    },
    "web": {
        "listen": _k(parse.listen, None,
                     "`run` also serves the web pages on host:port (127.0.0.1:8080); off "
                     "when unset. Beyond loopback it needs env FLIGHTWATCH_WEB_PASSWORD"),
        "username": _k(parse.text, "flightwatch",
                       "HTTP basic auth user; the password (also a Bearer token) comes from "
                       "env FLIGHTWATCH_WEB_PASSWORD, and without it there is no login"),
        "allow_public": _k(parse.flag, False,
                           "listen beyond loopback with no password (anyone who reaches the "
                           "port reads the history)"),
        "allowed_hosts": _k(parse.text_list, [],
                            "names the site is reached by besides the listen address "
                            "(pi.lan); a request naming another Host gets 400 (DNS "
                            "rebinding). Default from listen: its address, plus localhost "
                            "on loopback, plus any IP address and this machine's name on "
                            "0.0.0.0 or ::"),
        "max_connections": _k(parse.positive_whole, 200,
                              "open connections at most; a new one closes the longest-open "
                              "idle one (kept below the open-files limit, ulimit -n)"),
        "request_timeout": _k(parse.positive_duration, 10.0,
                              "close a connection whose request (headers and body) has not "
                              "arrived within this"),
        "refresh": _k(parse.duration, 5.0, "the Now page asks for aircraft positions this often"),
        "tiles_url": _k(parse.text, "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                        "map tiles; empty: no tiles, the maps draw country borders instead "
                        "(they also do when tiles fail to load)"),
        "tiles_attribution": _k(parse.text, "&copy; OpenStreetMap contributors",
                                "credit shown for the tiles"),
    },
}

#: The keys every ``[[sources]]`` table takes, whatever its type.
COMMON_SOURCE_KEYS: dict[str, Key] = {
    "type": _k(parse.one_of(*SOURCE_TYPES), None, " | ".join(SOURCE_TYPES)),
    "name": _k(parse.text, None, "name stored with positions; defaults to type:host:port or type"),
    "enabled": _k(parse.flag, True, "false keeps the entry but does not run it"),
}
#: Every key some source type takes (the first type to declare a key gives its help):
#: what the configuration reference lists under ``[[sources]]``.
SOURCE_KEYS: dict[str, Key] = dict(COMMON_SOURCE_KEYS)
for _declared in source_registry.source_types().values():
    for _name, _key in _declared.keys.items():
        SOURCE_KEYS.setdefault(_name, _key)


def _source_keys(kind: Any) -> dict[str, Key]:
    """The keys a source of this type takes (those of the first receivers while its type
    is missing or unknown: the type's own problem is then the one reported)."""
    types = source_registry.source_types()
    declared = types.get(kind) if isinstance(kind, str) else None
    return COMMON_SOURCE_KEYS | dict((declared or types["beast"]).keys)


# The fences shipped in config/geofences/, by name, with their local time: a
# ``[[geofences]]`` of one of these names needs no file, so a configuration copied
# anywhere still finds them.
SHIPPED_FENCES = {"belarus": "Europe/Minsk", "minsk_fir": "Europe/Minsk"}

GEOFENCE_KEYS: dict[str, Key] = {
    "name": _k(parse.text, None, "fence name used in alerts and --geofence"),
    "file": _k(parse.path, None,
               "GeoJSON Polygon/MultiPolygon, relative to the config file; not needed for "
               f"a shipped fence ({', '.join(SHIPPED_FENCES)})"),
    "buffer_km": _k(parse.number, 0.0, "grow (or, negative, shrink) the fence by this many km"),
    "timezone": _k(parse.timezone, None,
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
        declared = source_registry.source_types()[kind]
        if declared.default_port is not None and source.get("port") is None:
            source["port"] = declared.default_port
        if source["name"] is None:
            source["name"] = declared.name_for(source)
        if declared.check is not None:
            try:
                declared.check(source)
            except ValueError as exc:
                problems.append(f"sources[{i}]: {exc}")
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


def _resolve_sqlite(url: str, base: Path) -> str:
    """Make a relative SQLite path relative to the config file's folder."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith("sqlite:////"):
        rest = url[len(prefix):]
        if rest and rest != ":memory:" and not Path(rest).is_absolute():
            return prefix + str(base / rest)
    return url
