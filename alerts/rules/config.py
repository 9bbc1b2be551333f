"""Tuning of the alert rules (``[alerts]``); where landings are judged is ``[detection]``."""

from __future__ import annotations

from dataclasses import dataclass

from flightwatch.alerts.kinds import KINDS
from flightwatch.decoder import keys as parse
from flightwatch.decoder.keys import setting


@dataclass(frozen=True, slots=True)
class RuleConfig:
    """Rule tuning: the ``[alerts]`` keys of the rules, each declared here once (default,
    parser, help; :func:`~flightwatch.decoder.keys.setting`). The settings table takes
    them from this class and :func:`~flightwatch.decoder.keys.from_section` builds it."""

    cooldown_s: float = setting(6 * 3600.0, parse.duration,
                                "same aircraft, fence and kind: alert once per", key="cooldown")
    events: frozenset[str] = setting(frozenset(KINDS), parse.text_list, "alert kinds to raise",
                                     written=list(KINDS))
    approach_within_s: float = setting(15 * 60.0, parse.duration,
                                       "warn of a fence crossing this far ahead",
                                       key="approach_within")
    squawks: tuple[str, ...] = setting((), parse.text_list,
                                       "squawk codes to alert on inside a fence (7500, 77*)",
                                       written=[])
    border_margin_km: float = setting(
        0.5, parse.number,
        "enter/exit: count a side change at once when this far past the border (after two "
        "positions)")
    border_hold_s: float = setting(
        20.0, parse.duration, "enter/exit: otherwise count it once the new side held this long",
        key="border_hold")
    confirm_positions: int = 2
    heard_nearby_replies: int = setting(
        5, parse.whole,
        "heard_nearby: Mode-S replies from a watched address needed within heard_nearby_window")
    heard_nearby_window_s: float = setting(60.0, parse.duration,
                                           "heard_nearby: the counting window",
                                           key="heard_nearby_window")

    def __post_init__(self) -> None:
        # As read from a file: a list of kinds (unknown ones are refused by the settings)
        # and a list of codes.
        object.__setattr__(self, "events", frozenset(self.events) & frozenset(KINDS))
        object.__setattr__(self, "squawks", tuple(self.squawks))
