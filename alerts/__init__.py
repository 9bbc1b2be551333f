"""Watchlist, geofences, airports, the alert rules and their notifiers.

Names are imported on first use (PEP 562): ``db`` imports ``alerts.alert`` and
must not pay for geopandas or import the notifiers that import ``db``.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flightwatch.alerts.engine import build_rule_engine, load_configured_watchlist
    from flightwatch.alerts.rules import KINDS, AlertRules, RuleConfig
    from flightwatch.db.alert_record import Alert

_EXPORTS = {
    "Alert": "flightwatch.db.alert_record",
    "AlertRules": "flightwatch.alerts.rules",
    "KINDS": "flightwatch.alerts.rules",
    "RuleConfig": "flightwatch.alerts.rules",
    "build_rule_engine": "flightwatch.alerts.engine",
    "load_configured_watchlist": "flightwatch.alerts.engine",
}

__all__ = [
    "KINDS",
    "Alert",
    "AlertRules",
    "RuleConfig",
    "build_rule_engine",
    "load_configured_watchlist",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'alerts' has no attribute {name!r}")
    return getattr(import_module(module), name)
