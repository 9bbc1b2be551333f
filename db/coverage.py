"""The receivers' learned coverage, stored: loaded at start, written as it grows, drawn.

The learning and the judging are :mod:`flightwatch.alerts.detect.coverage`; this
module keeps its cells (farthest distance heard per 10-degree sector and altitude
band) and each receiver's position, so a restart keeps what was learned, and the web
map, ``status`` and the pictures can draw the outline.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from flightwatch.db.reader import Reader, as_reader

if TYPE_CHECKING:
    from sqlalchemy import Engine

SECTOR_DEG = 10
SECTORS = 360 // SECTOR_DEG
BAND_FLOORS_FT = (0, 2000, 5000, 10000, 15000, 20000, 25000, 30000, 35000)
_NM_PER_KM = 1 / 1.852


def band_of(altitude_ft: float) -> int:
    """Index of the altitude band holding ``altitude_ft``."""
    for index in range(len(BAND_FLOORS_FT) - 1, 0, -1):
        if altitude_ft >= BAND_FLOORS_FT[index]:
            return index
    return 0


def band_label(band: int) -> str:
    """``10,000-15,000 ft`` (``35,000 ft and above`` for the last band)."""
    low = BAND_FLOORS_FT[band]
    if band + 1 < len(BAND_FLOORS_FT):
        return f"{low:,}-{BAND_FLOORS_FT[band + 1]:,} ft"
    return f"{low:,} ft and above"


@dataclass(frozen=True, slots=True)
class Cell:
    """One sector and band of one receiver: the farthest distance heard, from how many."""

    sector: int
    band: int
    range_km: float
    positions: int


class CoverageLike(Protocol):
    """What is stored of a receiver's learned coverage (``alerts.detect.CoverageMap``)."""

    receiver: str
    lat: float
    lon: float

    def cells(self) -> Iterable[Cell]: ...


@dataclass(frozen=True, slots=True)
class Outline:
    """A receiver's range outline in one altitude band (``band`` "all" for any height):
    a closed ring of (lat, lon), the farthest point heard per sector."""

    receiver: str
    lat: float
    lon: float
    band: str
    points: list[tuple[float, float]]
    max_km: float


def load_cells(engine: Engine, receiver: str) -> list[Cell]:
    from sqlalchemy import select

    from flightwatch.db.models import CoverageCell

    with engine.connect() as conn:
        rows = conn.execute(select(CoverageCell).where(CoverageCell.receiver == receiver)).all()
    return [Cell(r.sector, r.band, r.range_km, r.positions) for r in rows]


def save_coverage(engine: Engine, coverage: CoverageLike) -> None:
    """Replace one receiver's stored cells with what it has learned (a few hundred rows)."""
    from sqlalchemy import Table, delete, insert

    from flightwatch.db.models import CoverageCell, ReceiverRecord
    from flightwatch.db.store import dialect_insert

    now = datetime.now(UTC)
    rows = [{"receiver": coverage.receiver, "sector": c.sector, "band": c.band,
             "range_km": c.range_km, "positions": c.positions} for c in coverage.cells()]
    receivers: Table = ReceiverRecord.__table__  # type: ignore[assignment]
    with engine.begin() as conn:
        stmt = dialect_insert(engine, receivers)
        conn.execute(stmt.on_conflict_do_update(
            index_elements=[receivers.c.name],
            set_={"lat": stmt.excluded.lat, "lon": stmt.excluded.lon,
                  "coverage_updated": stmt.excluded.coverage_updated},
        ), {"name": coverage.receiver, "lat": coverage.lat, "lon": coverage.lon,
            "coverage_updated": now})
        conn.execute(delete(CoverageCell).where(CoverageCell.receiver == coverage.receiver))
        if rows:
            conn.execute(insert(CoverageCell), rows)


def outline(lat: float, lon: float, cells: Iterable[Cell],
            band: int | None = None) -> tuple[list[tuple[float, float]], float]:
    """The range outline around a receiver at (lat, lon): a closed ring of (lat, lon), the
    farthest point heard per sector in one band or (None) any, and the farthest of all.
    Sectors never heard in stay at the receiver."""
    from flightwatch.decoder.geodesy import destination

    farthest = [0.0] * SECTORS
    for cell in cells:
        if band is None or cell.band == band:
            farthest[cell.sector] = max(farthest[cell.sector], cell.range_km)
    ring = [destination(lat, lon, (i + 0.5) * SECTOR_DEG, km * _NM_PER_KM) if km else (lat, lon)
            for i, km in enumerate(farthest)]
    ring.append(ring[0])
    return ring, max(farthest)


def receiver_outlines(source: Reader | Engine, *, by_band: bool = False) -> list[Outline]:
    """Every receiver's outline (one for all heights; with ``by_band``, one per band too)."""
    reader = as_reader(source)
    receivers = reader.rows("SELECT name, lat, lon FROM receivers ORDER BY name", {})
    out = []
    for name, lat, lon in receivers:
        cells = [Cell(*row) for row in reader.rows(
            "SELECT sector, band, range_km, positions FROM coverage WHERE receiver = :name",
            {"name": name})]
        bands: list[int | None] = [None]
        if by_band:
            bands += sorted({c.band for c in cells})
        for band in bands:
            ring, farthest = outline(lat, lon, cells, band)
            out.append(Outline(name, lat, lon, "all" if band is None else band_label(band),
                               ring, farthest))
    return out


@dataclass(frozen=True, slots=True)
class Summary:
    """One receiver's coverage in a few figures: for ``flightwatch status``."""

    receiver: str
    cells: int  # sector x band cells heard in
    positions: int
    farthest_km: float
    by_band: tuple[tuple[str, float], ...]  # (band, farthest km in any direction)

    def text(self) -> str:
        bands = ", ".join(f"{km:,.0f} km at {band}" for band, km in self.by_band)
        return (f"{self.cells} of {SECTORS * len(BAND_FLOORS_FT)} cells learned from "
                f"{self.positions:,} positions; farthest {self.farthest_km:,.0f} km"
                + (f" ({bands})" if bands else ""))


def coverage_summaries(source: Reader | Engine) -> list[Summary]:
    """Every receiver's learned coverage, summarised (none before the first is stored)."""
    reader = as_reader(source)
    out = []
    rows = reader.rows("SELECT receiver, band, MAX(range_km), SUM(positions), COUNT(*)"
                       " FROM coverage GROUP BY receiver, band ORDER BY receiver, band", {})
    by_receiver: dict[str, list[tuple[int, float, int, int]]] = {}
    for receiver, band, km, positions, cells in rows:
        by_receiver.setdefault(receiver, []).append((band, km, positions, cells))
    for receiver, bands in by_receiver.items():
        out.append(Summary(receiver, sum(b[3] for b in bands), sum(b[2] for b in bands),
                           max(b[1] for b in bands),
                           tuple((band_label(b[0]), b[1]) for b in bands)))
    return out
