"""What an alert's picture costs: time and memory per picture, on the Pi-sized budget.

Runs in a fresh interpreter (so the figures are the picture's alone): loads what every
picture draws around its track (the shipped Belarus fence, airports and towns), then
draws ``--pictures`` alert pictures of 30-minute tracks (360 points, as the rules' memory
keeps) at varied places and scales, and reports:

- Pillow's import time, and the first picture's time (fonts, borders, layers read);
- the time per picture after that (median and worst), and the PNG size;
- resident memory (VmRSS/VmHWM from /proc) before Pillow, after the first picture and at
  the end: what drawing pictures adds to a process;
- Python-level memory of the places data (towns, borders) and of one watched aircraft's
  recent track (tracemalloc).

The budget (issue 22): a picture well under a second and a few MB on a Raspberry Pi 4,
whose cores run this kind of code 3-4 times slower than a desktop's. No time is asserted.

    python benchmarks/alert_picture.py [--pictures N] [--json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]

PROBE = r"""
import json, statistics, sys, time, tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

def memory():
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = round(int(value.split()[0]) / 1024, 1)
    return found

pictures = int(sys.argv[1])
result = {"start": memory()}
from flightwatch.alerts.engine import load_fences
from flightwatch.db.airports import read_airports
from flightwatch.alerts.recent_track import RecentTracks
from flightwatch.db.alert_record import Alert, TrackPoint
from flightwatch.output.alert_picture import AlertPictures
from flightwatch.output.picture import MapLayers, border_outlines
from flightwatch.output.places import read_places
from flightwatch.settings import bundled
result["modules_loaded"] = memory()

tracemalloc.start()
towns = read_places()
borders = border_outlines()
result["places_python_mb"] = round(tracemalloc.get_traced_memory()[0] / 2**20, 2)
tracemalloc.stop()
layers = MapLayers(
    fences=load_fences([{"file": bundled("geofences/belarus.geojson"), "name": "belarus",
                         "buffer_km": 0.0}]),
    airports=read_airports(bundled("airports.csv")), towns=towns)

t0 = datetime(2020, 8, 18, 14, 0, tzinfo=UTC)

def alert(number):
    # A 30-minute track towards Minsk from one of eight directions, 5 s apart.
    import math
    bearing = math.radians(number * 45)
    span = 1.0 + (number % 3)  # degrees flown: varied scales
    track = tuple(
        TrackPoint(t0 + timedelta(seconds=5 * i),
                   53.9 + math.cos(bearing) * span * (1 - i / 360),
                   27.6 + math.sin(bearing) * span * 1.7 * (1 - i / 360),
                   max(35000 - 95 * i, 1500)) for i in range(361))
    end = track[-1]
    return Alert(time=end.time, icao="4B8D28", kind="landed", registration="RA-64523",
                 geofence="belarus", airport="UMMS", lat=end.lat, lon=end.lon,
                 altitude_ft=1500, evidence="probable",
                 details={"aircraft_type": "Tupolev Tu-214", "operator": "Rossiya",
                          "uncertainty_s": 360}, track=track)

started = time.perf_counter()
import PIL.Image, PIL.ImageDraw, PIL.ImageFont
result["pillow_import_ms"] = round((time.perf_counter() - started) * 1000, 1)
result["pillow_loaded"] = memory()
draw = AlertPictures(lambda: layers, {})
started = time.perf_counter()
first = draw(alert(0))
result["first_picture_ms"] = round((time.perf_counter() - started) * 1000, 1)
result["after_first"] = memory()
times, sizes = [], [len(first)]
for number in range(1, pictures + 1):
    started = time.perf_counter()
    png = draw(alert(number))
    times.append((time.perf_counter() - started) * 1000)
    sizes.append(len(png))
result["pictures"] = pictures
result["picture_ms_median"] = round(statistics.median(times), 1)
result["picture_ms_worst"] = round(max(times), 1)
result["png_kb_median"] = round(statistics.median(sizes) / 1024, 1)
result["end"] = memory()

tracemalloc.start()
memory_of = RecentTracks(lambda state: True)
from flightwatch.decoder.tracker import AircraftState, Position, TrackUpdate
from flightwatch.decoder import Observation
for i in range(361):
    moment = t0 + timedelta(seconds=5 * i)
    state = AircraftState("4B8D28", t0, moment)
    position = Position("4B8D28", moment, 54.0 + i / 1000, 28.0, 30000.0, 450.0, 270.0, 0.0,
                        False, None, "beast")
    memory_of.on_update(TrackUpdate(state, False, position, True, False),
                        Observation(icao="4B8D28", time=moment, source="beast"))
result["recent_track_kb_per_aircraft"] = round(tracemalloc.get_traced_memory()[0] / 1024, 1)
tracemalloc.stop()
print(json.dumps(result))
"""


def measure(pictures: int = 20) -> dict[str, Any]:
    """The figures above, from a fresh interpreter."""
    out = subprocess.run([sys.executable, "-c", PROBE, str(pictures)], cwd=REPO, check=True,
                         capture_output=True, text=True, timeout=600,
                         env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}).stdout
    result: dict[str, Any] = json.loads(out.splitlines()[-1])
    result["picture_adds_rss_mb"] = round(
        result["end"]["VmHWM"] - result["modules_loaded"]["VmHWM"], 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pictures", type=int, default=20)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    result = measure(args.pictures)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"Pillow import:          {result['pillow_import_ms']} ms")
    print(f"first picture:          {result['first_picture_ms']} ms (fonts, borders, layers)")
    print(f"per picture:            {result['picture_ms_median']} ms median, "
          f"{result['picture_ms_worst']} ms worst of {result['pictures']}")
    print(f"PNG size:               {result['png_kb_median']} KB median")
    print(f"memory (VmHWM):         {result['modules_loaded']['VmHWM']} MB with flightwatch "
          f"loaded -> {result['end']['VmHWM']} MB after the pictures "
          f"(+{result['picture_adds_rss_mb']} MB)")
    print(f"places data (Python):   {result['places_python_mb']} MB (towns, borders)")
    print(f"recent track:           {result['recent_track_kb_per_aircraft']} KB per watched "
          "aircraft (30 min, a point every 5 s)")


if __name__ == "__main__":
    main()
