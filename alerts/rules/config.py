"""Tuning of the alert rules (``[alerts]``); where landings are judged is ``[detection]``."""

from __future__ import annotations

from dataclasses import dataclass

from flightwatch.alerts.kinds import KINDS


@dataclass(frozen=True, slots=True)
class RuleConfig:
    """Rule tuning; each field has an ``[alerts]`` key of the same meaning."""

    cooldown_s: float = 6 * 3600.0
    events: frozenset[str] = frozenset(KINDS)
    approach_within_s: float = 15 * 60.0
    squawks: tuple[str, ...] = ()
    border_margin_km: float = 0.5
    border_hold_s: float = 20.0
    confirm_positions: int = 2
    heard_nearby_replies: int = 5
    heard_nearby_window_s: float = 60.0
