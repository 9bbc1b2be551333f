"""Decoding: raw Mode-S frames to observations, and the per-aircraft tracker.

The only package that imports pyModeS.
"""

from flightwatch.decoder.observation import Frame, Observation, normalise_icao, utc_from_epoch

__all__ = ["Frame", "Observation", "normalise_icao", "utc_from_epoch"]
