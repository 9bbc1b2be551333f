"""Typed details of each alert kind; they become a dict only in the stored alert.

Field names are the ``details`` keys of the alerts output (JSON, webhook, MQTT), so
they are a contract: extend, never rename.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any


class Details:
    """What one rule knows of its alert. ``as_dict`` leaves out what is unknown or empty,
    and writes times as ISO 8601 and sequences as lists (JSON-ready)."""

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if value is None or value == ():
                continue
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out


@dataclass(frozen=True, slots=True)
class Approaching(Details):
    eta_s: int
    expected_at: datetime
    crossing_lat: float
    crossing_lon: float


@dataclass(frozen=True, slots=True)
class Landing(Details):
    """``landed`` and ``took_off``: where, how sure, and why."""

    airport_name: str | None = None
    runway: str | None = None
    reason: str | None = None
    uncertainty_s: int | None = None
    candidates: tuple[str, ...] = ()  # airports that fit alike (no single airport named)
    last_heard: datetime | None = None  # landed at a loss: the last position heard
    ground_s: int | None = None  # took_off: time on the ground before it
    confirmed_by: str | None = None  # landed told at a turnaround: what confirmed it


@dataclass(frozen=True, slots=True)
class Retracted(Details):
    airport_name: str | None
    landed_at: datetime
    last_heard: datetime
    heard_again: datetime
    silent_for_s: int
    reason: str
    runway: str | None = None


@dataclass(frozen=True, slots=True)
class Silent(Details):
    silent_for_s: int
    reason: str | None = None
    left_coverage: bool | None = None


@dataclass(frozen=True, slots=True)
class Dark(Details):
    silent_for_s: int
    distance_km: float
    coverage_km: float
    reason: str


@dataclass(frozen=True, slots=True)
class Squawk(Details):
    squawk: str


@dataclass(frozen=True, slots=True)
class HeardNearby(Details):
    replies: int
    window_s: float
    downlink_formats: tuple[int, ...]
    squawk: str | None = None


@dataclass(frozen=True, slots=True)
class IdentityAnomaly(Details):
    seen_as: str
    expected_icaos: tuple[str, ...]
