"""Detection: arrivals, departures and losses of every aircraft, judged once, as events.

:class:`Detector` is the pipeline listener; :mod:`.events` what it says; the flights
and the alert rules subscribe. Each inference is one module with its tests:
:mod:`.ground` (heard on the ground), :mod:`.near_field` (lost or first heard low
near a field), :mod:`.trajectory` (a descent or a climb fitted to airports),
:mod:`.coverage` (what a receiver hears, learned), :mod:`.reasons` (the quotable
line of each judgement). Thresholds: :class:`DetectionConfig` (``[detection]``).

Names load on first use (PEP 562): reading the configuration imports
:mod:`.config` alone, not the detector.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flightwatch.alerts.detect.config import DetectionConfig
    from flightwatch.alerts.detect.coverage import CoverageMap
    from flightwatch.alerts.detect.events import (
        Arrival,
        Confirmation,
        Dark,
        Departure,
        DetectionEvent,
        Retraction,
        Silence,
        Subscriber,
    )
    from flightwatch.alerts.detect.machine import Detector, LossLookup

_HOMES = {
    "DetectionConfig": "config", "CoverageMap": "coverage",
    **dict.fromkeys(("Arrival", "Confirmation", "Dark", "Departure", "DetectionEvent",
                     "Retraction", "Silence", "Subscriber"), "events"),
    **dict.fromkeys(("Detector", "LossLookup"), "machine"),
}

__all__ = [
    "Arrival", "Confirmation", "CoverageMap", "Dark", "Departure", "DetectionConfig",
    "DetectionEvent", "Detector", "LossLookup", "Retraction", "Silence", "Subscriber",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{home}"), name)
