"""The alert rules: each kind its own small rule, all raising through one cooldown.

:class:`AlertRules` is the pipeline listener (and the detector's subscriber) that
feeds them. Where a landing, a take-off or a loss happened is judged by
:mod:`flightwatch.alerts.detect`; these rules decide what to tell.

Names load on first use (PEP 562): reading the configuration imports :mod:`.config`
(the ``[alerts]`` keys of the rules, on :class:`RuleConfig`) alone, not the rules.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flightwatch.alerts.kinds import KINDS
    from flightwatch.alerts.rules.config import RuleConfig
    from flightwatch.alerts.rules.cooldown import RecordedLookup
    from flightwatch.alerts.rules.fences import first_crossing_s
    from flightwatch.alerts.rules.listener import AlertRules
    from flightwatch.alerts.rules.raising import AlertSinkLike
    from flightwatch.alerts.rules.squawk import squawk_matcher

_HOMES = {
    "KINDS": "flightwatch.alerts.kinds",
    "RuleConfig": f"{__name__}.config",
    "RecordedLookup": f"{__name__}.cooldown",
    "first_crossing_s": f"{__name__}.fences",
    "AlertRules": f"{__name__}.listener",
    "AlertSinkLike": f"{__name__}.raising",
    "squawk_matcher": f"{__name__}.squawk",
}

__all__ = [
    "KINDS",
    "AlertRules",
    "AlertSinkLike",
    "RecordedLookup",
    "RuleConfig",
    "first_crossing_s",
    "squawk_matcher",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(home), name)
