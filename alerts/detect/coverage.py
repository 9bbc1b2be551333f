"""A receiver's coverage, learned from what it hears: the farthest distance per bearing
sector and altitude band (tar1090's range outline, split by height).

Why by height: the radio horizon grows with an aircraft's height, so a receiver that
hears cruising aircraft 350 km away loses a descending one at 14,000 ft 250 km away
and one at 3,000 ft beyond 120 km. A loss is then judged against the range at which
this receiver has already heard aircraft at that height in that direction:

- near or beyond the farthest distance heard: it **left coverage** (the usual case);
- well inside it, in level flight: it should still be heard, so the signal stopped
  (``went_dark``: the transponder was likely switched off).

Only a local receiver's own positions teach it (an aggregator's feeders are
elsewhere, so aggregator tracks make no coverage claim), and a cell says nothing
until ``coverage_min_positions`` positions have been heard in it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from flightwatch.db.airports import haversine_km
from flightwatch.db.coverage import BAND_FLOORS_FT, SECTOR_DEG, SECTORS, Cell, band_of, outline
from flightwatch.decoder.geodesy import bearing_deg

MAX_RANGE_KM = 650.0  # farther is a bad position, not coverage


@dataclass(frozen=True, slots=True)
class Verdict:
    """A position judged against the coverage: where it is, and how far this receiver hears
    at that height in that direction (None: not learned yet)."""

    distance_km: float
    bearing_deg: float
    edge_km: float | None

    @property
    def fraction(self) -> float | None:
        """Distance over the learned range (1.0 at the edge)."""
        if self.edge_km is None or self.edge_km <= 0:
            return None
        return self.distance_km / self.edge_km


class CoverageMap:
    """One receiver's learned coverage. ``observe`` is on the hot path (every stored
    position of a local receiver): two trigonometric calls and two list updates."""

    def __init__(self, receiver: str, lat: float, lon: float, min_positions: int = 20) -> None:
        self.receiver = receiver
        self.lat = lat
        self.lon = lon
        self.min_positions = min_positions
        size = SECTORS * len(BAND_FLOORS_FT)
        self._range = [0.0] * size
        self._count = [0] * size
        self.changed = False

    def _index(self, bearing: float, altitude_ft: float) -> int:
        return (int(bearing // SECTOR_DEG) % SECTORS) * len(BAND_FLOORS_FT) + band_of(altitude_ft)

    def observe(self, lat: float, lon: float, altitude_ft: float | None) -> None:
        """A position this receiver heard."""
        if altitude_ft is None:
            return
        km = haversine_km(self.lat, self.lon, lat, lon)
        if km > MAX_RANGE_KM:
            return
        i = self._index(bearing_deg(self.lat, self.lon, lat, lon), altitude_ft)
        self._count[i] += 1
        if km > self._range[i]:
            self._range[i] = km
            self.changed = True

    def verdict(self, lat: float, lon: float, altitude_ft: float) -> Verdict:
        """Where the position is from the receiver and how far it hears there at that height."""
        km = haversine_km(self.lat, self.lon, lat, lon)
        bearing = bearing_deg(self.lat, self.lon, lat, lon)
        i = self._index(bearing, altitude_ft)
        edge = self._range[i] if self._count[i] >= self.min_positions else None
        return Verdict(km, bearing, edge)

    def cells(self) -> Iterator[Cell]:
        """Every cell heard in, for storing."""
        bands = len(BAND_FLOORS_FT)
        for i, count in enumerate(self._count):
            if count:
                yield Cell(i // bands, i % bands, round(self._range[i], 2), count)

    def load(self, cells: Iterable[Cell]) -> None:
        """Cells stored by an earlier run: this one goes on learning from them."""
        bands = len(BAND_FLOORS_FT)
        for cell in cells:
            if 0 <= cell.sector < SECTORS and 0 <= cell.band < bands:
                i = cell.sector * bands + cell.band
                self._range[i] = max(self._range[i], cell.range_km)
                self._count[i] += cell.positions

    def outline(self, band: int | None = None) -> list[tuple[float, float]]:
        """A closed ring of (lat, lon): the farthest point heard per sector, in one band
        or (None) any."""
        return outline(self.lat, self.lon, self.cells(), band)[0]
