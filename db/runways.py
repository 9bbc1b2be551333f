"""Runway ends with threshold coordinates, for telling an approach from an overflight.

Reads OurAirports' ``runways.csv`` (the shipped ``config/runways.csv`` keeps that
format, reduced to open runways with both thresholds known). Each runway gives two
ends; an end's ``heading_deg`` is the true course of an aircraft landing on it, so
its approach lies behind the threshold, on the reciprocal. OurAirports leaves some
headings empty: they are computed from the two thresholds.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path

from flightwatch.decoder.geodesy import bearing_deg

log = logging.getLogger(__name__)

RUNWAY_COLUMNS = (
    "airport_ident", "length_ft", "surface", "le_ident", "le_latitude_deg",
    "le_longitude_deg", "le_elevation_ft", "le_heading_degT", "he_ident", "he_latitude_deg",
    "he_longitude_deg", "he_elevation_ft", "he_heading_degT",
)  # fmt: skip


class RunwaysError(Exception):
    """A runways file that cannot be used at all (unreadable, unknown header)."""


@dataclass(frozen=True, slots=True)
class RunwayEnd:
    """The threshold one lands on, and the true heading of the landing."""

    airport: str  # OurAirports ident of the airport
    ident: str  # e.g. 13R
    lat: float
    lon: float
    heading_deg: float
    elevation_ft: float | None


def _number(text: str | None) -> float | None:
    text = (text or "").strip()
    return float(text) if text else None


def _ends(row: dict[str, str]) -> tuple[RunwayEnd, RunwayEnd] | None:
    """Both ends of an open runway with both thresholds known; None otherwise."""
    if (row.get("closed") or "").strip() == "1" or row.get("surface") == "CLOSED":
        return None
    le_lat, le_lon = _number(row.get("le_latitude_deg")), _number(row.get("le_longitude_deg"))
    he_lat, he_lon = _number(row.get("he_latitude_deg")), _number(row.get("he_longitude_deg"))
    if le_lat is None or le_lon is None or he_lat is None or he_lon is None:
        return None
    if not (-90 <= le_lat <= 90 and -90 <= he_lat <= 90):
        raise ValueError("threshold latitude out of range")
    le_heading = _number(row.get("le_heading_degT"))
    he_heading = _number(row.get("he_heading_degT"))
    if le_heading is None:
        le_heading = bearing_deg(le_lat, le_lon, he_lat, he_lon)
    if he_heading is None:
        he_heading = bearing_deg(he_lat, he_lon, le_lat, le_lon)
    airport = row["airport_ident"].strip()
    return (
        RunwayEnd(airport, row["le_ident"].strip(), le_lat, le_lon, le_heading % 360,
                  _number(row.get("le_elevation_ft"))),
        RunwayEnd(airport, row["he_ident"].strip(), he_lat, he_lon, he_heading % 360,
                  _number(row.get("he_elevation_ft"))),
    )


def read_runways(path: str | Path) -> list[RunwayEnd]:
    """Runway ends of OurAirports' runways.csv format. Bad rows are logged and skipped."""
    ends: list[RunwayEnd] = []
    try:
        with Path(path).open(encoding="utf-8-sig", newline="") as src:
            reader = csv.DictReader(src)
            if not set(RUNWAY_COLUMNS) <= set(reader.fieldnames or ()):
                raise RunwaysError(
                    f"{path}: not a runways file (expected OurAirports' runways.csv header "
                    f"with {', '.join(RUNWAY_COLUMNS)})"
                )
            for row in reader:
                try:
                    pair = _ends(row)
                except (ValueError, TypeError, AttributeError) as exc:
                    log.warning("%s:%d: runway row skipped: %s", path, reader.line_num, exc)
                    continue
                if pair is not None:
                    ends.extend(pair)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise RunwaysError(f"{path}: cannot read runways: {exc}") from exc
    return ends
