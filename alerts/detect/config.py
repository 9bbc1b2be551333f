"""The one settings section of detection (``[detection]``): every threshold once.

Each field that is a configuration key declares it here (:func:`setting`: default,
parser with its range and unit, help), so the default, the check and the help line
live in one place: ``flightwatch.settings`` takes its ``[detection]`` keys from this
class, and :func:`flightwatch.decoder.keys.from_section` builds it from what was read.
Fields without a key (``confirm_positions``, ``flights_gap_s``) are set by the code.
Plain stdlib so that reading the configuration (every command) does not import the
detection itself; the flights, the alert rules and the detector all read this object.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import radians, tan

from flightwatch.decoder import keys as parse
from flightwatch.decoder.keys import setting


@dataclass(frozen=True, slots=True)
class DetectionConfig:
    """Thresholds of arrival, departure and loss detection. Heights are above the field."""

    # --- observed: on the ground (surface messages, or low and slow at an airport) ---
    airport_radius_km: float = setting(
        5.0, parse.within(0, 50, "km"),
        "observed landing/take-off: at most this far from an airport")
    landed_below_ft: float = setting(
        1500.0, parse.within(0, 5000, "ft"),
        "observed landing without surface messages: below this height above the field and slower "
        "than landed_slower_kt")
    landed_slower_kt: float = setting(
        80.0, parse.within(0, 250, "kt"),
        "observed landing without surface messages: ground speed below")
    confirm_positions: int = 2
    # --- inferred: lost (or first heard) low near the field ---
    # on a runway's approach
    inferred_below_ft: float = setting(
        700.0, parse.within(0, 3000, "ft"),
        "inferred landing: a track lost below this height above the field on a runway's approach "
        "landed there")
    approach_km: float = setting(
        10.0, parse.within(0, 50, "km"),
        "inferred landing/take-off: a runway's approach (or climb-out) reaches this far from its "
        "threshold")
    approach_deg: float = setting(
        20.0, parse.within(0, 90, "degrees"),
        "inferred landing/take-off: track within this of the runway heading (the approach "
        "widens by half of it)")
    approach_slower_kt: float = setting(
        200.0, parse.within(0, 400, "kt"),
        "inferred landing: last ground speed below this")
    # this low this close: landed, whatever the heading
    overhead_below_ft: float = setting(
        500.0, parse.within(0, 3000, "ft"),
        "inferred landing: lost below this height above the field within overhead_km of it, "
        "whatever the heading")
    overhead_km: float = setting(
        3.0, parse.within(0, 20, "km"),
        "see overhead_below_ft")
    # --- probable: lost on a descent towards an airport ---
    probable_below_ft: float = setting(
        20000.0, parse.within(0, 45000, "ft"),
        "probable landing: lost descending below this height above the field, on a path that "
        "reaches it")
    descending_fpm: float = setting(
        500.0, parse.within(0, 6000, "fpm"),
        "probable landing: descending at least this fast (averaged over the last minutes), unless "
        "low, slow and near a field")
    # a departure's climb, first heard
    climbing_fpm: float = setting(
        500.0, parse.within(0, 6000, "fpm"),
        "probable take-off: first heard climbing at least this fast")
    glide_min_deg: float = setting(
        2.0, parse.within(0, 10, "degrees"),
        "probable landing: the shallowest plausible descent path")
    glide_max_deg: float = setting(
        6.0, parse.within(0, 20, "degrees"),
        "probable landing: the steepest plausible descent path")
    # the most an arrival's turns add to the direct distance
    detour_km: float = setting(
        40.0, parse.within(0, 200, "km"),
        "probable landing: the most an arrival's turns add to the direct distance")
    # candidates whose misfits differ by less fit alike
    alike: float = setting(
        0.15, parse.within(0, 2, ""),
        "airports whose misfits differ by less fit alike and are all reported")
    # --- turnaround, dark ---
    turnaround_s: float = setting(
        24 * 3600.0, parse.duration,
        "a silence that begins descending towards an airport and ends climbing away from it within "
        "this is a turnaround (the landing confirmed)", key="turnaround")
    dark_after_s: float = setting(
        300.0, parse.duration,
        "went_dark: still silent this long after a loss inside coverage", key="dark_after")
    # lost inside this fraction of the learned range: dark
    dark_inside: float = setting(
        0.6, parse.within(0, 1, "of the range"),
        "went_dark: lost closer than this fraction of the farthest distance the receiver hears at "
        "that height in that direction")
    # lost beyond this fraction: it left coverage
    coverage_edge: float = setting(
        0.85, parse.within(0, 2, "of the range"),
        "went_silent: lost beyond this fraction of that distance, it left coverage")
    coverage_min_positions: int = setting(
        20, parse.whole,
        "a coverage cell (10 degrees x altitude band) says nothing before this many positions were "
        "heard in it")
    flights_gap_s: float = 30 * 60.0  # ``flights.gap``: a flight ends after this silence

    @property
    def search_km(self) -> float:
        """How far from a loss an airport can still be reached on a plausible descent."""
        return self.probable_below_ft * 0.0003048 / tan(radians(self.glide_min_deg)) + 10.0
