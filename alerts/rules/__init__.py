"""The alert rules: each kind its own small rule, all raising through one cooldown.

:class:`AlertRules` is the pipeline listener (and the detector's subscriber) that
feeds them. Where a landing, a take-off or a loss happened is judged by
:mod:`flightwatch.alerts.detect`; these rules decide what to tell.
"""

from __future__ import annotations

from flightwatch.alerts.kinds import KINDS
from flightwatch.alerts.rules.config import RuleConfig
from flightwatch.alerts.rules.cooldown import RecordedLookup
from flightwatch.alerts.rules.fences import first_crossing_s
from flightwatch.alerts.rules.listener import AlertRules
from flightwatch.alerts.rules.raising import AlertSinkLike
from flightwatch.alerts.rules.squawk import squawk_matcher

__all__ = [
    "KINDS",
    "AlertRules",
    "AlertSinkLike",
    "RecordedLookup",
    "RuleConfig",
    "first_crossing_s",
    "squawk_matcher",
]
