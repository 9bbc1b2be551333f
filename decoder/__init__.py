"""Decoding: raw Mode-S frames to observations, and the per-aircraft tracker.

The only package that imports pyModeS.
"""

from flightwatch.decoder.observation import Frame, Observation, normalise_icao, utc_from_epoch
from flightwatch.decoder.safe_text import csv_text, printable, shown, xml_text

__all__ = ["Frame", "Observation", "csv_text", "normalise_icao", "printable", "shown",
           "utc_from_epoch", "xml_text"]
