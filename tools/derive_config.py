"""Derive the shipped data in config/ from the reference material in ../shared.

Run from the repository root:  python tools/derive_config.py [--shared ../shared]
(airports need the ``tools`` extra: ``pip install -e '.[tools]'``)

Reproducible: the same inputs give byte-identical outputs. The product never
reads ../shared at run time; it reads what this script writes. Parsing goes
through the same alerts/ readers the product uses, so the shipped files are
validated on the way.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flightwatch.db.watchlist_file import read_watchlist, write_watchlist  # noqa: E402
from tools.derive_airports import derive_airports  # noqa: E402

PREFIX_COLUMNS = ("prefix", "telephony", "operator", "country", "group", "confidence", "note")


def derive_watchlist(shared: Path, config: Path) -> None:
    result = read_watchlist(shared / "data/watchlist/plane-alert-db_ru-by-state.csv")
    if result.problems:
        raise SystemExit("\n".join(str(p) for p in result.problems))
    write_watchlist(config / "watchlist.csv", result.entries)
    print(f"watchlist.csv: {len(result.entries)} entries")


def derive_prefixes(shared: Path, config: Path) -> None:
    """All designators of the source with its confidence; only 'high' is on by default."""
    with (shared / "data/watchlist/operator_icao_designators.csv").open(newline="") as src:
        rows = list(csv.DictReader(src))
    with (config / "callsign_prefixes.csv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(PREFIX_COLUMNS)
        for r in rows:
            writer.writerow(
                (
                    r["icao_designator"],
                    r["telephony"],
                    r["operator_name_in_source"],
                    r["country"],
                    r["watch_group"],
                    r["confidence"],
                    r["note"],
                )
            )
    print(f"callsign_prefixes.csv: {len(rows)} designators")


def _write_fence(src: Path, out: Path, name: str, licence: str, pick: tuple[str, str]) -> None:
    """Copy the feature whose property ``pick[0]`` is ``pick[1]``, coordinates untouched."""
    data = json.loads(src.read_text(encoding="utf-8"))
    key, value = pick
    features = [f for f in data["features"] if f["properties"].get(key) == value]
    if len(features) != 1:
        raise SystemExit(f"{src}: expected one feature, found {len(features)}")
    feature = features[0]
    collection = {
        "type": "FeatureCollection",
        "name": name,
        "features": [
            {
                "type": "Feature",
                "properties": {
                    "name": name,
                    "source": feature["properties"]["source"],
                    "licence": licence,
                },
                "geometry": feature["geometry"],
            }
        ],
    }
    out.write_text(json.dumps(collection, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"geofences/{out.name}: {feature['geometry']['type']}")


BORDERS_BOX = (14.0, 44.0, 45.0, 62.0)  # min lon, min lat, max lon, max lat


def derive_borders(src: Path, out: Path, tolerance_deg: float = 0.01) -> None:
    """Country outlines for the web maps without tiles: Belarus and its neighbours within
    ``BORDERS_BOX`` (all of Russia would be most of the file), simplified (~1 km)."""
    import shapely
    from shapely.geometry import mapping, shape

    data = json.loads(src.read_text(encoding="utf-8"))
    features = []
    for feature in sorted(data["features"], key=lambda f: f["properties"]["name"]):
        outline = shapely.clip_by_rect(shape(feature["geometry"]), *BORDERS_BOX)
        outline = shapely.simplify(outline, tolerance_deg, preserve_topology=True)
        outline = shapely.set_precision(outline, 1e-4)
        features.append({"type": "Feature", "properties": {"name": feature["properties"]["name"]},
                         "geometry": mapping(outline)})
    collection = {"type": "FeatureCollection", "name": "borders",
                  "licence": "public domain (Natural Earth)", "features": features}
    out.write_text(json.dumps(collection, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{out.name}: {len(features)} countries")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT / ".." / "shared")
    parser.add_argument("--config", type=Path, default=ROOT / "config")
    args = parser.parse_args()
    shared, config = args.shared.resolve(), args.config
    (config / "geofences").mkdir(parents=True, exist_ok=True)
    derive_watchlist(shared, config)
    derive_prefixes(shared, config)
    geo = shared / "data/geo"
    _write_fence(
        geo / "belarus_ne10m.geojson",
        config / "geofences/belarus.geojson",
        "belarus",
        "public domain (Natural Earth)",
        pick=("iso_a2", "BY"),
    )
    _write_fence(
        geo / "ummv_minsk_fir_vatspy.geojson",
        config / "geofences/minsk_fir.geojson",
        "minsk_fir",
        "CC BY-SA 4.0 (VATSpy Data Project)",
        pick=("id", "UMMV"),  # the whole FIR; the file's other features are its sectors
    )
    derive_airports(shared, config)  # the world's and Belarus' (tools/derive_airports.py)
    derive_borders(geo / "belarus_neighbours_ne10m.geojson", config / "borders.geojson")


if __name__ == "__main__":
    main()
