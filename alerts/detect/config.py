"""The one settings section of detection (``[detection]``): every threshold once.

Plain stdlib so that reading the configuration (every command) does not import the
detection itself. ``flightwatch.settings`` builds its ``[detection]`` keys from these
defaults; the flights, the alert rules and the detector all read this one object.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import radians, tan


@dataclass(frozen=True, slots=True)
class DetectionConfig:
    """Thresholds of arrival, departure and loss detection. Heights are above the field."""

    # --- observed: on the ground (surface messages, or low and slow at an airport) ---
    airport_radius_km: float = 5.0
    landed_below_ft: float = 1500.0
    landed_slower_kt: float = 80.0
    confirm_positions: int = 2
    # --- inferred: lost (or first heard) low near the field ---
    inferred_below_ft: float = 700.0  # on a runway's approach
    approach_km: float = 10.0
    approach_deg: float = 20.0
    approach_slower_kt: float = 200.0
    overhead_below_ft: float = 500.0  # this low this close: landed, whatever the heading
    overhead_km: float = 3.0
    # --- probable: lost on a descent towards an airport ---
    probable_below_ft: float = 20000.0
    descending_fpm: float = 500.0
    climbing_fpm: float = 500.0  # a departure's climb, first heard
    glide_min_deg: float = 2.0
    glide_max_deg: float = 6.0
    detour_km: float = 40.0  # the most an arrival's turns add to the direct distance
    alike: float = 0.15  # candidates whose misfits differ by less fit alike
    # --- turnaround, dark ---
    turnaround_s: float = 24 * 3600.0
    dark_after_s: float = 300.0
    dark_inside: float = 0.6  # lost inside this fraction of the learned range: dark
    coverage_edge: float = 0.85  # lost beyond this fraction: it left coverage
    coverage_min_positions: int = 20
    flights_gap_s: float = 30 * 60.0  # ``flights.gap``: a flight ends after this silence

    @property
    def search_km(self) -> float:
        """How far from a loss an airport can still be reached on a plausible descent."""
        return self.probable_below_ft * 0.0003048 / tan(radians(self.glide_min_deg)) + 10.0
