"""Building the rule engine from the configuration: watchlist, fences, airports, sink.

Takes anything shaped like ``flightwatch.settings.Settings`` (sections by name
plus ``geofences``), so ``alerts`` never imports the application shell.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine

from flightwatch.alerts.geofence import Geofence
from flightwatch.alerts.rules import AlertRules, AlertSinkLike, RuleConfig
from flightwatch.alerts.watchlist import (
    DEFAULT_ADDRESS_BLOCKS,
    AddressBlock,
    CallsignPrefix,
    Watchlist,
    default_prefixes,
    read_callsign_prefixes,
)
from flightwatch.db.alerts import alert_near, latest_alerts
from flightwatch.db.watchlist import entries, sync_files
from flightwatch.decoder.keys import from_section

log = logging.getLogger(__name__)

_SHOWN_PROBLEMS = 5


class SettingsLike(Protocol):
    """What the builders read: ``Settings`` sections and its ``[[geofences]]`` tables."""

    geofences: list[dict[str, Any]]

    def __getitem__(self, section: str) -> Mapping[str, Any]: ...


def rule_config(alerts: Mapping[str, Any]) -> RuleConfig:
    """``[alerts]`` as rule tuning: the keys RuleConfig declares itself."""
    return from_section(RuleConfig, alerts)


def address_blocks(countries: Iterable[str]) -> list[AddressBlock]:
    """The ICAO address blocks of the named states (``RU``, ``BY``)."""
    wanted = {c.strip().upper() for c in countries}
    known = {b.country for b in DEFAULT_ADDRESS_BLOCKS}
    unknown = wanted - known
    if unknown:
        raise ValueError(
            f"watchlist.address_blocks: unknown country {', '.join(sorted(unknown))}; "
            f"known: {', '.join(sorted(known))}"
        )
    return [b for b in DEFAULT_ADDRESS_BLOCKS if b.country in wanted]


def callsign_prefixes(configured: Sequence[str] | None, table_file: Path) -> list[CallsignPrefix]:
    """Configured prefixes (with the shipped table's operator and confidence where it has
    them), or the table's high-confidence ones when none are configured."""
    table = read_callsign_prefixes(table_file)
    by_prefix = {p.prefix: p for p in table}
    chosen = default_prefixes(table) if configured is None else [c.upper() for c in configured]
    return [by_prefix.get(p, CallsignPrefix(p)) for p in chosen]


def load_configured_watchlist(
    db: Engine, section: Mapping[str, Any], prefix_table: Path
) -> Watchlist:
    """The watchlist in the database, after bringing in the ``[watchlist] files``.

    The files are synced into the ``watchlist`` table (rows added by hand or by
    ``watchlist import`` win), so ``watchlist add``/``remove`` take effect here too.
    """
    report = sync_files(db, section["files"])
    if report.problems:
        shown = "; ".join(str(p) for p in report.problems[:_SHOWN_PROBLEMS])
        log.warning("watchlist: %d row(s) skipped or merged: %s%s", len(report.problems), shown,
                    " ..." if len(report.problems) > _SHOWN_PROBLEMS else "")
    watchlist = Watchlist(
        entries(db),
        callsign_prefixes(section["callsign_prefixes"], prefix_table),
        address_blocks(section["address_blocks"]),
    )
    log.info("watchlist: %d aircraft (%d added, %d updated, %d removed from files)",
             len(watchlist), report.added, report.updated, report.removed)
    return watchlist


def load_fences(specs: Iterable[Mapping[str, Any]]) -> list[Geofence]:
    """The ``[[geofences]]`` tables as loaded fences."""
    return [Geofence.from_file(s["file"], s["name"], s["buffer_km"]) for s in specs]


def build_rule_engine(
    settings: SettingsLike,
    db: Engine,
    *,
    prefix_table: Path,
    sink: AlertSinkLike,
    receiver: str | None,
) -> AlertRules:
    """The rules a configuration describes, raising into ``sink``.

    ``sink`` is the process's one ``AlertSink`` (it holds alerts a locked database
    delayed); ``prefix_table`` is the shipped callsign-prefix table; ``receiver`` names
    the sources of what this process hears (None: history imported from elsewhere).
    """
    rules = AlertRules(
        load_configured_watchlist(db, settings["watchlist"], prefix_table),
        load_fences(settings.geofences),
        sink,
        rule_config(settings["alerts"]),
        receiver=receiver,
        recorded=partial(alert_near, db),
    )
    rules.remember(latest_alerts(db))
    return rules


def reloader(
    rules: AlertRules, settings: SettingsLike, db: Engine, prefix_table: Path
) -> Callable[[], None]:
    """A callable for the daemon's SIGHUP reload: watchlist and fences read again."""

    def reload() -> None:
        rules.reload(
            load_configured_watchlist(db, settings["watchlist"], prefix_table),
            load_fences(settings.geofences),
        )
        log.info("alert rules reloaded")

    return reload
