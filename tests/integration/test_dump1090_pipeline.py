"""A real dump1090-mutability fed a capture: its Beast, AVR and SBS outputs, read by
flightwatch's sources and pushed through the pipeline, give the same aircraft and
matching positions as replaying the file directly. dump1090 decodes SBS positions with
its own CPR code, so the SBS leg is also an independent check of our decoding."""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from integration.dump1090 import Dump1090Ports, push_beast
from source_helpers import collect

from flightwatch.collector import CaptureClock, TcpSource, open_capture
from flightwatch.daemon.pipeline import Pipeline
from flightwatch.db import Store, connect
from flightwatch.decoder import Frame, Observation
from flightwatch.decoder.geodesy import distance_nm
from flightwatch.decoder.tracker import AircraftState, Position, Tracker, TrackUpdate

CAPTURE = "one_aircraft_71be34.beast"
MATCH_NM = 0.03  # ~55 m: the CPR resolution is ~5 m; dump1090 rounds SBS to 5 decimals


class Positions:
    """A listener that keeps every accepted position."""

    def __init__(self) -> None:
        self.positions: list[Position] = []
        self.aircraft: set[str] = set()

    def on_update(self, update: TrackUpdate, obs: Observation) -> None:
        self.aircraft.add(update.state.icao)
        if update.position is not None:
            self.positions.append(update.position)

    def on_unverified(self, obs: Observation) -> None:
        pass

    def wants_replies(self, icao: str) -> bool:
        return True

    def follows(self, state: AircraftState) -> bool:
        return True  # every position, to compare with dump1090's

    def on_lost(self, state: AircraftState, now: datetime) -> None:
        pass


def run_pipeline(items: list[Frame | Observation], db: Path) -> Positions:
    listener = Positions()
    pipeline = Pipeline(Store(connect(f"sqlite:///{db}")), Tracker(), listeners=[listener])
    for item in items:
        pipeline.feed(item)
    assert pipeline.close()
    return listener


def near(position: Position, reference: list[Position]) -> bool:
    return any(distance_nm(position.lat, position.lon, r.lat, r.lon) <= MATCH_NM for r in reference)


def on_track(position: Position, track: list[Position]) -> bool:
    """Within MATCH_NM of the polyline through ``track`` (flat-earth, fine at this scale)."""
    scale = math.cos(math.radians(position.lat))
    px, py = position.lon * scale, position.lat
    for a, b in itertools.pairwise(track):
        ax, ay, bx, by = a.lon * scale, a.lat, b.lon * scale, b.lat
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy
        t = 0.0 if length2 == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / length2))
        if math.hypot(px - ax - t * dx, py - ay - t * dy) * 60.0 <= MATCH_NM:
            return True
    return False


@pytest.mark.integration
@pytest.mark.parametrize("dump1090", [{"heartbeat_s": 0.1}], indirect=True)
def test_beast_avr_and_sbs_outputs_match_a_direct_replay(
    dump1090: Dump1090Ports, capture: Callable[[str], Path], tmp_path: Path
) -> None:
    path = capture(CAPTURE)
    direct_items = list(open_capture(path, "beast"))
    direct = run_pipeline(direct_items, tmp_path / "direct.db")
    assert direct.aircraft == {"71BE34"}
    assert len(direct.positions) > 50

    sources = {
        "beast": TcpSource(dump1090.host, dump1090.beast_out, "beast", poll_interval=0.1),
        "avr": TcpSource(dump1090.host, dump1090.avr_out, "avr", poll_interval=0.1),
        "sbs": TcpSource(dump1090.host, dump1090.sbs_out, "sbs", poll_interval=0.1),
    }
    # What dump1090 forwards of this capture (tests/integration/test_dump1090_fixture.py).
    wanted = {"beast": len(direct_items), "avr": len(direct_items), "sbs": 904}
    received: dict[str, list[Frame | Observation]] = {}
    threads = [
        threading.Thread(target=lambda n=name: received.update({n: collect(sources[n], wanted[n])}))
        for name in sources
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 5  # heartbeats show dump1090 has accepted each client
    while any(s.stats["bytes"] == 0 for s in sources.values()) and time.monotonic() < deadline:
        time.sleep(0.02)
    push_beast(dump1090, path.read_bytes())
    for thread in threads:
        thread.join(20)

    # Beast keeps the receiver's 12 MHz counter: put the frames back on the capture's
    # clock and the pipeline must store exactly what the direct replay stored.
    clock = CaptureClock(direct_items[0].time)  # type: ignore[union-attr]
    beast_items: list[Frame | Observation] = [
        Frame(f.hex, clock(f.mlat_ticks), "beast", f.signal, f.mlat_ticks)
        for f in received["beast"]
        if isinstance(f, Frame)
    ]
    beast = run_pipeline(beast_items, tmp_path / "beast.db")
    assert beast.aircraft == direct.aircraft
    assert [(p.lat, p.lon, p.altitude_ft) for p in beast.positions] == [
        (p.lat, p.lon, p.altitude_ft) for p in direct.positions
    ]

    # AVR on port 30002 carries no clock (frames are stamped on arrival), so CPR pairing
    # may pick other pairs: the positions must still lie on the direct replay's track.
    avr = run_pipeline(received["avr"], tmp_path / "avr.db")
    assert avr.aircraft == direct.aircraft
    assert avr.positions and all(near(p, direct.positions) for p in avr.positions)

    # SBS positions were decoded by dump1090 itself.
    sbs_items = received["sbs"]
    assert all(isinstance(o, Observation) for o in sbs_items)
    sbs = run_pipeline(sbs_items, tmp_path / "sbs.db")
    assert sbs.aircraft == direct.aircraft
    assert len(sbs.positions) > 50
    # Every position we decoded, dump1090 decoded too.
    # Every position we decoded lies on the track dump1090 decoded (a few of ours fall
    # between two of its reports, where it skipped a frame pyModeS resolved locally), up
    # to the last position dump1090 reported: it leaves out the capture's final frame.
    last = sbs.positions[-1]
    end = min(
        range(len(direct.positions)),
        key=lambda i: distance_nm(
            last.lat, last.lon, direct.positions[i].lat, direct.positions[i].lon
        ),
    )
    assert end >= len(direct.positions) - 4  # the final frame, which the capture holds twice
    assert all(on_track(p, sbs.positions) for p in direct.positions[: end + 1])
    # dump1090 also reports the first positions of the track, which pyModeS holds back
    # until three of them agree (its bootstrap against phantom positions): no more.
    unmatched = {(p.lat, p.lon) for p in sbs.positions if not near(p, direct.positions)}
    assert len(unmatched) <= 3
    assert {o.callsign for o in sbs_items if isinstance(o, Observation)} >= {"AAR542"}
