"""Derive the shipped airports in config/ from airportsdata and OurAirports.

Run from the repository root (``pip install -e '.[tools]'`` first):
    python tools/derive_airports.py [--shared ../shared]

Writes ``world_airports.tsv.gz`` and ``world_runways.tsv.gz`` (the world: airportsdata's
airports, with OurAirports' open runways joined by ident) and ``airports.csv`` and
``runways.csv`` (Belarus from OurAirports, as before, which refine the world set: their
types, the fields without an ICAO code such as BY-0022, every runway's summary).
Reproducible: the same inputs and airportsdata version give byte-identical files (the
gzip header carries no time or name).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flightwatch.db.airports import (  # noqa: E402
    Airport,
    cell_of,
    haversine_km,
    read_airports,
    write_airports,
)
from flightwatch.db.runways import RUNWAY_COLUMNS, read_runways  # noqa: E402
from flightwatch.db.world_airports import (  # noqa: E402
    WORLD_AIRPORT_COLUMNS,
    WORLD_RUNWAY_COLUMNS,
    WorldAirports,
    _cell_key,
)
from flightwatch.decoder.geodesy import bearing_deg  # noqa: E402

#: The airportsdata release the shipped files come from (also pinned in pyproject's
#: ``tools`` extra); ATTRIBUTION.md names it.
AIRPORTSDATA_VERSION = "20260905"
#: A runway threshold farther than this from its airport's reference point means the
#: two do not describe the same field (the largest airports' ends are ~3 km out).
AGREE_KM = 5.0
_HELIPAD = re.compile(r"H\d*|H-.*")
_WATER = re.compile(r"\d{1,2}W")  # OurAirports' water lanes: 18W/36W


@dataclass(frozen=True)
class Runway:
    """One open runway of OurAirports' runways.csv, as the world file keeps it."""

    length_ft: str
    surface: str
    le: tuple[str, str, str, str, str]  # ident, lat, lon, elevation_ft, heading
    he: tuple[str, str, str, str, str]

    @property
    def thresholds(self) -> list[tuple[float, float]]:
        return [(float(e[1]), float(e[2])) for e in (self.le, self.he) if e[1] and e[2]]

    @property
    def helipad(self) -> bool:
        return bool(_HELIPAD.fullmatch(self.le[0].upper()))

    @property
    def water(self) -> bool:
        return "WATER" in self.surface.upper() or bool(_WATER.fullmatch(self.le[0].upper()))


def _coordinate(text: str) -> str:
    """5 decimals (~1 m), trailing zeros dropped."""
    return f"{float(text):.5f}".rstrip("0").rstrip(".") if text else ""


def _whole(text: str | float | None) -> str:
    return "" if text in ("", None) else str(round(float(text)))  # type: ignore[arg-type]


def _end(row: Mapping[str, str], prefix: str, other: str) -> tuple[str, str, str, str, str]:
    """An end's ident, rounded position and elevation, and heading (computed from the two
    thresholds when OurAirports leaves it empty)."""
    lat, lon = row[f"{prefix}_latitude_deg"], row[f"{prefix}_longitude_deg"]
    heading = row[f"{prefix}_heading_degT"]
    both = lat and lon and row[f"{other}_latitude_deg"] and row[f"{other}_longitude_deg"]
    if not both:
        lat = lon = heading = ""
    elif not heading:
        heading = str(bearing_deg(float(lat), float(lon), float(row[f"{other}_latitude_deg"]),
                                  float(row[f"{other}_longitude_deg"])))
    shown = f"{float(heading) % 360:.1f}".removesuffix(".0") if heading else ""
    return (row[f"{prefix}_ident"].strip(), _coordinate(lat), _coordinate(lon),
            _whole(row[f"{prefix}_elevation_ft"]) if both else "", shown)


def open_runways(path: Path) -> dict[str, list[Runway]]:
    """OurAirports' open runways by airport ident, each airport's sorted by end ident."""
    by_airport: dict[str, list[Runway]] = {}
    with path.open(newline="", encoding="utf-8") as src:
        for row in csv.DictReader(src):
            if row["closed"] == "1" or row["surface"].upper() == "CLOSED":
                continue
            runway = Runway(_whole(row["length_ft"]), row["surface"].strip(),
                            _end(row, "le", "he"), _end(row, "he", "le"))
            by_airport.setdefault(row["airport_ident"], []).append(runway)
    for runways in by_airport.values():
        runways.sort(key=lambda r: (r.le[0], r.he[0], r.length_ft))
    return by_airport


def kind(name: str, runways: Sequence[Runway]) -> str:
    """``heliport`` or ``seaplane_base`` when no landplane can use the field (its runways,
    or its name when OurAirports has none), else ``airport`` (airportsdata has no size)."""
    if runways:
        if all(r.helipad for r in runways):
            return "heliport"
        if all(r.water or r.helipad for r in runways):
            return "seaplane_base"
        return "airport"
    lowered = name.lower()
    if "heliport" in lowered or "helipad" in lowered:
        return "heliport"
    if "seaplane" in lowered or "water aerodrome" in lowered:
        return "seaplane_base"
    return "airport"


def longest_ft(runways: Iterable[Runway]) -> str:
    """The longest runway a landplane can use (helipads and water lanes left out)."""
    lengths = [int(r.length_ft) for r in runways if r.length_ft and not (r.helipad or r.water)]
    return str(max(lengths)) if lengths else ""


def as_dms(degrees: float) -> float | None:
    """``50.5405`` read as 50°54'05" (a source that wrote DMS digits as a decimal)."""
    sign, value = (-1 if degrees < 0 else 1), abs(degrees)
    whole = int(value)
    minutes, seconds = divmod(round((value - whole) * 10000), 100)
    if minutes >= 60 or seconds >= 60:
        return None
    return sign * (whole + minutes / 60 + seconds / 3600)


def nearest_threshold_km(lat: float, lon: float, runways: Iterable[Runway]) -> float | None:
    found = [haversine_km(lat, lon, *t) for r in runways for t in r.thresholds]
    return min(found) if found else None


@dataclass
class Report:
    dms_fixed: list[str]
    runways_dropped: list[str]
    joined_by_alias: int = 0


def place(code: str, row: Mapping[str, object], runways: list[Runway],
          report: Report) -> tuple[float, float, list[Runway]]:
    """The airport's position and runways, checked against each other.

    Thresholds within ``AGREE_KM`` of the reference point: both kept. Otherwise, when
    airportsdata's latitude and longitude read as degrees-minutes-seconds land there,
    that reading is the position (Belgium's and Luxembourg's airports in 20260905).
    Otherwise the two describe different fields (an ident reused, an airport moved):
    the position is kept and the runways dropped.
    """
    lat, lon = float(row["lat"]), float(row["lon"])  # type: ignore[arg-type]
    off = nearest_threshold_km(lat, lon, runways)
    if off is None or off <= AGREE_KM:
        return lat, lon, runways
    dms_lat, dms_lon = as_dms(lat), as_dms(lon)
    if dms_lat is not None and dms_lon is not None:
        dms_off = nearest_threshold_km(dms_lat, dms_lon, runways)
        if dms_off is not None and dms_off <= AGREE_KM:
            report.dms_fixed.append(code)
            return dms_lat, dms_lon, runways
    report.runways_dropped.append(f"{code} ({off:.0f} km)")
    return lat, lon, []


def _clean(text: str) -> str:
    """A field of the TSV: no tab or line break can sit inside one."""
    return " ".join(text.split())


def world_rows(
    data: Mapping[str, Mapping[str, object]],
    runways: Mapping[str, list[Runway]],
    aliases: Mapping[str, str],
    report: Report,
) -> list[tuple[list[str], list[Runway]]]:
    """Each airportsdata airport as a world_airports row with its runways.

    Runways join by ident: the airportsdata key, else its FAA ``lid`` (OurAirports'
    ident for US fields such as 00N), else OurAirports' ident whose ``gps_code`` or
    ``icao_code`` is the key (``aliases``: BY-0009 for UMDD)."""
    out = []
    for code in sorted(data):
        row = data[code]
        key = next((k for k in (code, str(row["lid"] or ""), aliases.get(code, ""))
                    if k and k in runways), "")
        report.joined_by_alias += bool(key and key != code)
        lat, lon, kept = place(code, row, runways.get(key, []), report)
        out.append(([
            code, str(row["iata"] or ""), _clean(str(row["name"])), _clean(str(row["city"])),
            str(row["country"]), _coordinate(str(lat)), _coordinate(str(lon)),
            _whole(row["elevation"]), str(row["tz"]), kind(str(row["name"]), kept),  # type: ignore[arg-type]
            longest_ft(kept), str(len(kept)),
        ], kept))
    # by one-degree cell, then ident: the order the loader's grid reads (world_airports.py)
    return sorted(out, key=lambda pair: (_cell_key(*cell_of(float(pair[0][5]), float(pair[0][6]))),
                                         pair[0][0]))


def write_gzip_tsv(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    """Tab-separated, gzip with no time or name in the header: byte-identical reruns."""
    lines = ["\t".join(header)]
    for row in rows:
        if any("\t" in f or "\n" in f for f in row):
            raise SystemExit(f"{path.name}: a tab or newline inside {row}")
        lines.append("\t".join(row))
    data = ("\n".join(lines) + "\n").encode("utf-8")
    with path.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw,
                                               compresslevel=9, mtime=0) as out:
        out.write(data)


def runway_line(code: str, r: Runway) -> list[str]:
    return [code, r.length_ft, _clean(r.surface), *r.le[:3], r.le[3], r.le[4],
            *r.he[:3], r.he[3], r.he[4]]


def derive_world(data: Mapping[str, Mapping[str, object]], runways: Mapping[str, list[Runway]],
                 aliases: Mapping[str, str], config: Path) -> None:
    report = Report([], [])
    rows = world_rows(data, runways, aliases, report)
    write_gzip_tsv(config / "world_airports.tsv.gz", WORLD_AIRPORT_COLUMNS,
                   (row for row, _ in rows))
    write_gzip_tsv(config / "world_runways.tsv.gz", WORLD_RUNWAY_COLUMNS,
                   (runway_line(row[0], r) for row, kept in rows for r in kept))
    world = WorldAirports(config / "world_airports.tsv.gz", config / "world_runways.tsv.gz")
    ends = sum(len(world.runway_ends(i, world.ident(i))) for i in range(len(world)))
    if any(world.row(row[0]) != i for i, (row, _) in enumerate(rows)):
        raise SystemExit("world_airports.tsv.gz: an ident is not found at its own row")
    kinds = [row[9] for row, _ in rows]
    print(f"world_airports.tsv.gz: {len(world)} airports "
          f"({kinds.count('heliport')} heliports, {kinds.count('seaplane_base')} seaplane "
          f"bases), {sum(bool(row[10]) for row, _ in rows)} with a runway length; "
          f"{report.joined_by_alias} runway joins by lid or gps_code")
    print(f"world_runways.tsv.gz: {sum(len(k) for _, k in rows)} open runways, "
          f"{ends} runway ends with thresholds")
    print(f"positions read as DMS digits ({len(report.dms_fixed)}): "
          f"{' '.join(report.dms_fixed)}")
    print(f"runways dropped, too far from the airport ({len(report.runways_dropped)}): "
          f"{', '.join(report.runways_dropped)}")


# --- Belarus, from OurAirports: the refinements of the world set ---------------------------


def _summary(runways: list[dict[str, str]]) -> str:
    return "; ".join(f"{r['le_ident']}/{r['he_ident']} {r['length_ft'] or '?'}ft {r['surface']}"
                     for r in sorted(runways, key=lambda r: r["le_ident"]))


def _belarus_runways(path: Path) -> dict[str, list[dict[str, str]]]:
    by_airport: dict[str, list[dict[str, str]]] = {}
    with path.open(newline="", encoding="utf-8") as src:
        for row in csv.DictReader(src):
            if row["closed"] != "1" and row["surface"] != "CLOSED":
                by_airport.setdefault(row["airport_ident"], []).append(row)
    return by_airport


def time_zone(airport: Airport, data: Mapping[str, Mapping[str, object]]) -> str:
    """airportsdata's zone of the airport, else of the nearest airport of its country."""
    own = data.get(airport.icao or airport.ident)
    if own is not None:
        return str(own["tz"])
    same = [v for v in data.values() if v["country"] == airport.country]
    closest = min(same, key=lambda v: haversine_km(airport.lat, airport.lon,
                                                   float(v["lat"]), float(v["lon"])))  # type: ignore[arg-type]
    return str(closest["tz"])


def derive_belarus(shared: Path, config: Path, data: Mapping[str, Mapping[str, object]]) -> None:
    """Open airports of Belarus (closed ones dropped), heliports kept, runways summarised."""
    geo = shared / "data/geo"
    runways = _belarus_runways(geo / "belarus_runways_ourairports.csv")
    airports = []
    for a in read_airports(geo / "belarus_airports_ourairports.csv"):
        lengths = [int(r["length_ft"]) for r in runways.get(a.ident, []) if r["length_ft"]]
        airports.append(replace(a, longest_runway_ft=max(lengths) if lengths else None,
                                runways=_summary(runways.get(a.ident, [])),
                                tz=time_zone(a, data)))
    write_airports(config / "airports.csv", airports)
    print(f"airports.csv: {len(airports)} airports")
    kept = [r for ident in sorted(runways)
            for r in sorted(runways[ident], key=lambda r: r["le_ident"])
            if all(r[k] for k in ("le_latitude_deg", "le_longitude_deg", "he_latitude_deg",
                                  "he_longitude_deg"))]
    out = config / "runways.csv"
    with out.open("w", encoding="utf-8", newline="") as dst:
        writer = csv.writer(dst, lineterminator="\n")
        writer.writerow(RUNWAY_COLUMNS)
        writer.writerows([r[c] for c in RUNWAY_COLUMNS] for r in kept)
    if len(read_runways(out)) != 2 * len(kept):
        raise SystemExit(f"{out}: {len(kept)} runways written, ends read back differ")
    print(f"runways.csv: {len(kept)} runways with threshold coordinates")


def belarus_aliases(shared: Path) -> dict[str, str]:
    """ICAO code (OurAirports' icao_code or gps_code) -> OurAirports ident, where they
    differ: the runways of such a field are filed under the ident."""
    out = {}
    for a in read_airports(shared / "data/geo/belarus_airports_ourairports.csv"):
        if a.icao and a.icao != a.ident:
            out[a.icao] = a.ident
    return out


def load_airportsdata() -> dict[str, dict[str, object]]:
    import airportsdata  # the tools extra; never a runtime dependency

    if airportsdata.__version__ != AIRPORTSDATA_VERSION:
        raise SystemExit(f"airportsdata {airportsdata.__version__} installed; the shipped "
                         f"files come from {AIRPORTSDATA_VERSION}: pip install "
                         f"airportsdata=={AIRPORTSDATA_VERSION}")
    return {k: dict(v) for k, v in airportsdata.load("ICAO").items()}


def derive_airports(shared: Path, config: Path) -> None:
    data = load_airportsdata()
    derive_world(data, open_runways(shared / "data/geo/ourairports_runways_world.csv"),
                 belarus_aliases(shared), config)
    derive_belarus(shared, config, data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT / ".." / "shared")
    parser.add_argument("--config", type=Path, default=ROOT / "config")
    args = parser.parse_args()
    derive_airports(args.shared.resolve(), args.config)


if __name__ == "__main__":
    main()
