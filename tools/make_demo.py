"""Regenerate config/samples/demo_minsk.tsv, the synthetic demo capture.

A watched airframe (RA-96016, Il-96-300PU of the Rossiya special flight
squadron) flies west from near Smolensk into Belarus, descends and lands on
runway 31R at Minsk National (UMMS), rolls out and stops; three unwatched
airliners fly around it. The output is byte-for-byte deterministic.

Run from the repository root:  python tools/make_demo.py [OUTPUT]

prints a summary: frame count, border crossing (if shapely and the Belarus
geofence are at hand), touchdown and stop times.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.capture_writer import write_tsv  # noqa: E402
from tools.simulate import Flight, Rates, destination, frames  # noqa: E402

DEFAULT_OUTPUT = ROOT / "config" / "samples" / "demo_minsk.tsv"
BELARUS = ROOT / "config" / "geofences" / "belarus.geojson"

WATCHED_ICAO = "157710"  # RA-96016 in plane-alert-db (RU_STATE_TRANSPORT_RSD)
WATCHED_CALLSIGN = "RSD016"
UMMS = (53.888071, 28.039964)
RUNWAY_31R_THRESHOLD = (53.88029861450195, 28.07040023803711)  # OurAirports, 681 ft
RUNWAY_31R_HEADING = 318.0
SEED = 20200819
RATES = Rates(
    position_s=1.0, velocity_s=5.0, identification_s=10.0, stationary_s=5.0, surveillance_s=30.0
)


def _day(hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2020, 8, 19, hour, minute, second, tzinfo=UTC)


def _on_final(distance_nm: float) -> tuple[float, float]:
    """A point on the extended centre line of runway 31R, ``distance_nm`` before the threshold."""
    return destination(*RUNWAY_31R_THRESHOLD, (RUNWAY_31R_HEADING + 180) % 360, distance_nm)


def demo_flights() -> list[Flight]:
    """The watched arrival into Minsk and the unwatched traffic around it."""
    fix20, fix8 = _on_final(20), _on_final(8)
    touchdown = destination(*RUNWAY_31R_THRESHOLD, RUNWAY_31R_HEADING, 0.2)
    watched = Flight(
        WATCHED_ICAO,
        WATCHED_CALLSIGN,
        [
            (54.85, 32.60, 33000, 450),  # east of Smolensk, Russia, cruising
            (54.62, 31.00, 33000, 450),  # just inside Belarus: top of descent
            (54.20, 29.40, 14000, 330),
            (*fix20, 4500, 220),
            (*fix8, 3200, 155),
            (*touchdown, 681, 135),
        ],
        _day(9, 40),
        on_ground_at_end=True,
        squawk="4615",
        category=5,  # heavy
    )
    # Lufthansa-style overflight across all of Belarus, east to west: not on the watchlist.
    overflight = Flight(
        "3C6DD4",
        "DLH1447",
        [(54.55, 31.90, 38000, 470), (53.35, 23.30, 38000, 470)],
        _day(9, 38, 30),
        squawk="2251",
    )
    # airBaltic-style flight from Riga southwards across Belarus.
    crossing = Flight(
        "502CB6",
        "BTI5GW",
        [(56.20, 26.95, 36000, 460), (53.60, 29.05, 36000, 460)],
        _day(9, 44),
        squawk="3347",
    )
    # LOT-style flight passing west of Belarus, never inside it.
    outside = Flight(
        "48AE0F",
        "LOT7TW",
        [(51.80, 22.40, 34000, 440), (54.60, 23.20, 34000, 440)],
        _day(9, 50),
        squawk="1734",
    )
    return [watched, overflight, crossing, outside]


def border_crossing(flight: Flight, geofence: Path = BELARUS) -> float | None:
    """Unix time the flight first enters the geofence (1-s resolution), None without shapely."""
    try:
        from shapely.geometry import Point, shape
    except ImportError:
        return None
    if not geofence.exists():
        return None
    collection = json.loads(geofence.read_text(encoding="utf-8"))
    area = shape(collection["features"][0]["geometry"])
    t = flight.start_time
    while t <= flight.end_time:
        state = flight.state_at(t)
        if area.contains(Point(state.lon, state.lat)):
            return t
        t += 1.0
    return None


def main(argv: list[str]) -> int:
    output = Path(argv[0]) if argv else DEFAULT_OUTPUT
    output.parent.mkdir(parents=True, exist_ok=True)
    flights = demo_flights()
    with output.open("w", encoding="ascii", newline="\n") as out:
        count = write_tsv(frames(flights, RATES, SEED), out)
    watched = flights[0]
    print(f"{output}: {count} frames, {output.stat().st_size} bytes")
    crossing = border_crossing(watched)
    if crossing is not None:
        print(f"{WATCHED_ICAO} {WATCHED_CALLSIGN} enters Belarus {_iso(crossing)}")
    if watched.touchdown_time is not None:
        print(f"{WATCHED_ICAO} touches down at UMMS {_iso(watched.touchdown_time)}")
    if watched.stop_time is not None:
        print(
            f"{WATCHED_ICAO} stops {_iso(watched.stop_time)}, sends until {_iso(watched.end_time)}"
        )
    return 0


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
