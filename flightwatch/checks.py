"""``flightwatch check-config``: everything that can be checked without starting the daemon."""

from __future__ import annotations

import shutil
from collections.abc import Callable

from flightwatch.settings import Settings

Check = Callable[[Settings, list[str], list[str]], None]


def _database(settings: Settings, problems: list[str], lines: list[str]) -> None:
    from db import DatabaseError, open_engine

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
            program = source["command"][0]
            if shutil.which(program) is None:
                problems.append(
                    f"sources[{i}].command: {program!r} not found; install the rtl-sdr package "
                    f"(apt install rtl-sdr) and plug in the dongle, or use a dump1090 source"
                )


def _opensky_credits(settings: Settings, source: dict[str, object]) -> str:
    from collector.aggregators import make_aggregator, opensky_credit_line
    from flightwatch.daemon import fences_union
    from flightwatch.settings import aggregator_options

    aggregator = make_aggregator(aggregator_options(source), fences_union(settings))
    return f"  {opensky_credit_line(aggregator)}"


def _geofences(settings: Settings, problems: list[str], lines: list[str]) -> None:
    from alerts.geofence import Geofence, GeofenceError

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


def _watchlist(settings: Settings, problems: list[str], lines: list[str]) -> None:
    from alerts.watchlist import WatchlistError, read_watchlist

    for path in settings["watchlist"]["files"]:
        try:
            loaded = read_watchlist(path)
        except WatchlistError as exc:
            problems.append(f"watchlist.files: {exc}")
            continue
        lines.append(
            f"watchlist: {path}: {len(loaded.entries)} entries, {len(loaded.problems)} bad rows"
        )


CHECKS: tuple[Check, ...] = (_database, _sources, _geofences, _watchlist)


def check(settings: Settings) -> tuple[list[str], list[str]]:
    """(problems, informational lines) for an already schema-valid configuration."""
    problems: list[str] = []
    lines: list[str] = [f"config: {settings.path or 'built-in defaults'}"]
    for run_check in CHECKS:
        run_check(settings, problems, lines)
    return problems, lines
