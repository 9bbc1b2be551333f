"""``flightwatch check-config``: everything that can be checked without starting the daemon."""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from flightwatch.cli.common import EXIT_OK, EXIT_USAGE, settings_from
from flightwatch.settings import Settings

USB_DEVICES = Path("/sys/bus/usb/devices")

Check = Callable[[Settings, list[str], list[str]], None]


def _database(settings: Settings, problems: list[str], lines: list[str]) -> None:
    from flightwatch.db import DatabaseError, open_engine

    try:
        engine = open_engine(settings.database_url)
    except DatabaseError as exc:
        problems.append(str(exc))
        return
    lines.append(f"database: {engine.url.render_as_string(hide_password=True)}")


def _sources(settings: Settings, problems: list[str], lines: list[str]) -> None:
    enabled = settings.enabled_sources()
    if not enabled:
        lines.append("sources: none enabled (replay still works)")
    for i, source in enumerate(settings.sources):
        if not source["enabled"]:
            continue
        lines.append(f"source: {source['name'] or source['type']} ({source['type']})")
        if source["type"] == "opensky":
            lines.append(_opensky_credits(settings, source))
        if source["type"] == "rtl_adsb":
            _rtl_adsb(i, source, problems, lines)


def _rtl_adsb(i: int, source: dict[str, Any], problems: list[str], lines: list[str]) -> None:
    from flightwatch.collector.rtlsdr import find_dongles

    usb_devices = USB_DEVICES

    program = source["command"][0]
    if shutil.which(program) is None:
        problems.append(
            f"sources[{i}].command: {program!r} not found; install the rtl-sdr package "
            f"(apt install rtl-sdr) and plug in the dongle, or use a dump1090 source"
        )
    if not usb_devices.is_dir():
        lines.append(f"  cannot look for the dongle: no {usb_devices} on this system")
        return
    dongles = find_dongles(usb_devices)
    if dongles:
        lines.append(f"  RTL-SDR dongle(s) on USB: {', '.join(dongles)}")
    else:
        problems.append(
            f"sources[{i}]: no RTL-SDR dongle (RTL2832U) found on USB; plug it in and check "
            f"`lsusb`, or use a dump1090/readsb source"
        )


def _opensky_credits(settings: Settings, source: dict[str, object]) -> str:
    from flightwatch.collector.aggregators import AggregatorSource, opensky_credit_line
    from flightwatch.collector.registry import source_types
    from flightwatch.daemon.run import fences_union

    built = source_types()["opensky"].build(source, lambda: fences_union(settings))
    aggregator = cast("AggregatorSource", built)
    return f"  {opensky_credit_line(aggregator)}"


def _geofences(settings: Settings, problems: list[str], lines: list[str]) -> None:
    from flightwatch.alerts.geofence import Geofence, GeofenceError

    for i, spec in enumerate(settings.geofences):
        try:
            fence = Geofence.from_file(spec["file"], spec["name"], spec["buffer_km"])
        except GeofenceError as exc:
            problems.append(f"geofences[{i}].file: {exc}")
            continue
        min_lon, min_lat, max_lon, max_lat = fence.bounds
        lines.append(
            f"geofence: {fence.name} from {spec['file']} "
            f"({min_lat:.2f}..{max_lat:.2f} N, {min_lon:.2f}..{max_lon:.2f} E)"
        )


def _airports(settings: Settings, problems: list[str], lines: list[str]) -> None:
    """The airports and runways behind landed/took_off, observed and inferred."""
    from flightwatch.airports import world_paths
    from flightwatch.db.airports import AirportsError, read_airports, world_airports
    from flightwatch.db.runways import RunwaysError, read_runways
    from flightwatch.db.world_airports import WorldAirportsError
    from flightwatch.settings import bundled

    try:
        lines.append(f"airports: bundled world set: {len(world_airports(*world_paths())):,} "
                     "airports")
    except WorldAirportsError as exc:
        problems.append(f"bundled airports: {exc} (reinstall flightwatch)")
    alerts = settings["alerts"]
    for key, read, default in (("airports", read_airports, "airports.csv"),
                               ("runways", read_runways, "runways.csv")):
        for path in [bundled(default), *(alerts[key] or [])]:
            try:
                loaded = read(path)
            except (AirportsError, RunwaysError) as exc:
                problems.append(f"alerts.{key}: {exc}")
                continue
            lines.append(f"{key}: {path}: {len(loaded)} "
                         f"{'airports' if key == 'airports' else 'runway ends'}")


def _watchlist(settings: Settings, problems: list[str], lines: list[str]) -> None:
    from flightwatch.db.watchlist_file import WatchlistError, read_watchlist

    for path in settings["watchlist"]["files"]:
        try:
            loaded = read_watchlist(path)
        except WatchlistError as exc:
            problems.append(f"watchlist.files: {exc}")
            continue
        lines.append(
            f"watchlist: {path}: {len(loaded.entries)} entries, {len(loaded.problems)} bad rows"
        )


def _notifications(settings: Settings, problems: list[str], lines: list[str]) -> None:
    from flightwatch.alerts.notify import NotifierConfigError, WebhookNotifier, build_notifiers
    from flightwatch.alerts.notify.chat import AppriseNotifier

    try:
        channels = build_notifiers(settings)
    except NotifierConfigError as exc:
        problems.append(str(exc))
        return
    lines.append(f"alert channels: {', '.join(sorted(channels)) or 'log and database only'}")
    lines += [f"  {name}: {notifier.display_url}" for name, notifier in sorted(channels.items())
              if isinstance(notifier, AppriseNotifier | WebhookNotifier)]


CHECKS: tuple[Check, ...] = (_database, _sources, _geofences, _airports, _watchlist,
                             _notifications)


def check(settings: Settings) -> tuple[list[str], list[str]]:
    """(problems, informational lines) for an already schema-valid configuration."""
    problems: list[str] = []
    lines: list[str] = [f"config: {settings.path or 'built-in defaults'}"]
    for run_check in CHECKS:
        run_check(settings, problems, lines)
    return problems, lines


def register(commands: Any) -> None:
    check_parser = commands.add_parser("check-config", help="validate the configuration")
    check_parser.set_defaults(handler=cmd_check_config)


def cmd_check_config(args: argparse.Namespace) -> int:
    from flightwatch.settings import secrets_readable_by_others

    settings = settings_from(args)
    problems, lines = check(settings)
    for line in lines:
        print(line)
    warning = secrets_readable_by_others(settings)
    if warning is not None:  # a warning: the configuration itself works
        print(f"warning: {warning}", file=sys.stderr)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return EXIT_USAGE if problems else EXIT_OK
