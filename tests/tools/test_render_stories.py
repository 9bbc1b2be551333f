"""Rendered stories are what flightwatch reads: a receiver's capture replays into positions
at the truth's positions (pyModeS decodes every heard frame), Beast carries the same
frames, readsb traces and aircraft.json snapshots import, and the snapshot feed serves a
story of hours in a few polls per minute of action."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from flightwatch.cli import main
from flightwatch.collector.aggregators import make_aggregator
from flightwatch.collector.beast import parse
from flightwatch.collector.trace import STALE
from flightwatch.daemon.importer import import_archives
from flightwatch.daemon.pipeline import build_pipeline
from flightwatch.db import connect
from flightwatch.db.queries import HistoryRow, history
from flightwatch.decoder.geodesy import destination, distance_nm
from flightwatch.settings import load_settings
from tools.control_stories import background_traffic, go_around
from tools.coverage_model import Aggregator, Receiver
from tools.history_writer import json_bytes, write_files
from tools.render_stories import (
    Capture,
    compress_silence,
    render_capture,
    render_snapshots,
    render_traces,
)
from tools.snapshot_feed import SnapshotFeed
from tools.stories import Story, arrival, departure, hearing, turnaround, watched

UMMS = (53.888071, 28.039964)
SIXTY = Receiver.rooftop(*destination(*UMMS, 319, 60 / 1.852), antenna_m=30, name="60 km")
VILNIUS = Receiver.rooftop(54.687, 25.279, antenna_m=30, name="vilnius")
ADSBX = Aggregator((VILNIUS,), name="adsbx")  # an aggregator fed from Vilnius only
TU214 = watched("RA-64523")


@pytest.fixture(scope="module")
def visit() -> Story:
    """RA-64523 from Moscow to Minsk and back after 40 minutes."""
    return turnaround(arrival("UMMS", origin="UUWW", airframe=TU214),
                      departure(to="UUWW"), timedelta(minutes=40))


@pytest.fixture(scope="module")
def capture(visit: Story) -> Capture:
    around = go_around("UMMS", from_bearing=200, airframe=watched("RA-96016"),
                       start=datetime(2024, 5, 1, 8, 10, tzinfo=UTC))
    return render_capture([visit, around], SIXTY, seed=3,
                          background=background_traffic(SIXTY, n=15, seed=3))


def config(folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / "flightwatch.toml"
    path.write_text('[database]\nurl = "sqlite:///fw.db"\n'
                    "[receiver]\nlat = 53.9\nlon = 28.0\n", encoding="utf-8")
    return path


def stored(config_path: Path, icao: str) -> list[HistoryRow]:
    settings = load_settings(config_path, env={})
    return list(history(connect(settings.database_url), icaos=[icao]))


def nearest_truth_m(story: Story, row: HistoryRow) -> float:
    """Distance from a stored position to the truth within its stored second."""
    t0 = row.time.replace(tzinfo=UTC).timestamp()
    best = float("inf")
    for tenth in range(-2, 11):
        state = story.state_at(t0 + tenth / 10)
        if state is not None:
            best = min(best, distance_nm(row.lat, row.lon, state.lat, state.lon) * 1852)
    return best


def in_contact(story: Story, capture: Capture, row: HistoryRow) -> bool:
    t = row.time.replace(tzinfo=UTC).timestamp()
    return any(c.first.time - 1 <= t <= c.last.time + 1 for c in capture.of(story).contacts)


def test_replayed_capture_stores_the_truth_within_cpr_precision(
    capture: Capture, visit: Story, tmp_path: Path
) -> None:
    path = capture.write_tsv(tmp_path / "sixty.tsv")
    cfg = config(tmp_path / "db")
    assert main(["replay", "--config", str(cfg), str(path)]) == 0
    rows = stored(cfg, TU214.icao)
    heard = capture.of(visit)
    assert len(heard.contacts) == 2  # lost low on the approach, heard again climbing
    minutes = sum(c.last.time - c.first.time for c in heard.contacts) / 60
    assert len(rows) > 10 * minutes  # one stored per 5 s (store_interval) at most
    assert max(nearest_truth_m(visit, r) for r in rows) < 30  # CPR: ~5 m airborne
    assert all(in_contact(visit, capture, r) for r in rows)  # nothing from the silence
    before = [r for r in rows if r.time.replace(tzinfo=UTC).timestamp()
              < visit.touchdowns[0].time]
    assert before[-1].altitude_ft is not None and before[-1].altitude_ft > 1500


def test_every_heard_frame_decodes(capture: Capture, visit: Story) -> None:
    import pyModeS

    frames = capture.of(visit).frames
    decoded = [pyModeS.decode(m) for _, m in frames]
    assert len(decoded) > 3000
    assert all(d["crc_valid"] and d["icao"] == TU214.icao for d in decoded)


def test_beast_carries_the_same_frames(capture: Capture, tmp_path: Path) -> None:
    path = capture.write_beast(tmp_path / "sixty.beast")
    messages, rest = parse(path.read_bytes())
    assert not rest
    assert [m for m, _, _ in messages] == [m for _, m in capture.frames]


def test_same_seed_same_capture(visit: Story) -> None:
    one, two = hearing(visit, SIXTY, seed=8), hearing(visit, SIXTY, seed=8)
    assert one.frames == two.frames and one.contacts == two.contacts
    assert hearing(visit, SIXTY, seed=9).frames != one.frames


def test_traces_flag_the_gap_and_import(visit: Story, tmp_path: Path) -> None:
    files = render_traces([visit], ADSBX, gzipped=False)
    (name, data), = files
    assert name.endswith("trace_full_14fc0b.json")
    doc = json.loads(data)
    points = doc["trace"]
    gaps = [i for i, (a, b) in enumerate(pairwise(points), 1) if b[0] - a[0] > 20]
    assert gaps and all(points[i][6] & STALE for i in gaps)
    assert sum(p[6] & STALE for p in points) == len(gaps)
    assert doc["r"] == "RA-64523"
    cfg = config(tmp_path / "db")
    summary = import_archives(load_settings(cfg, env={}),
                              [write_files(tmp_path / "globe", files)], alerts="none")
    assert summary.members == 1 and not summary.bad
    rows = stored(cfg, TU214.icao)
    times = {int(doc["timestamp"] + p[0]) for p in points}  # stored in whole seconds
    assert {int(r.time.replace(tzinfo=UTC).timestamp()) for r in rows} <= times
    down, up = visit.touchdowns[0].time, visit.liftoffs[0].time
    assert not [r for r in rows if down < r.time.replace(tzinfo=UTC).timestamp() < up]


def snapshots(visit: Story) -> list[dict[str, Any]]:
    return compress_silence(render_snapshots([visit], ADSBX, every_s=10.0), keep=3)


def test_snapshots_skip_the_silence_and_import(visit: Story, tmp_path: Path) -> None:
    whole = render_snapshots([visit], ADSBX, every_s=10.0)
    docs = snapshots(visit)
    assert len(docs) < len(whole) - 200  # the 40 min on the ground (and more) skipped
    nows = [d["now"] for d in docs]
    assert nows == sorted(nows) and max(b - a for a, b in pairwise(nows)) > 1800
    names = [f"hist/{i:05d}.json" for i in range(len(docs))]
    folder = write_files(tmp_path / "hist", [(n, json_bytes(d)) for n, d in
                                             zip(names, docs, strict=True)])
    cfg = config(tmp_path / "db")
    summary = import_archives(load_settings(cfg, env={}), [folder], alerts="none")
    assert summary.members == len(docs) and not summary.bad
    listed = sum(1 for d in docs if d["aircraft"])
    assert len(stored(cfg, TU214.icao)) == listed


def test_snapshot_feed_serves_one_per_poll(visit: Story, httpserver: HTTPServer,
                                           tmp_path: Path) -> None:
    docs = snapshots(visit)
    feed = SnapshotFeed(httpserver, docs)
    source = make_aggregator({"type": "aircraft_json", "url": feed.url, "interval": 0.1})
    cfg = config(tmp_path / "db")
    settings = load_settings(cfg, env={})
    pipeline = build_pipeline(settings, connect(settings.database_url))
    polls = 0
    while not feed.wait_until_served(0):
        for obs in source.poll():
            pipeline.observe(obs)
        polls += 1
    assert pipeline.close()
    assert polls == len(docs) + 1 and feed.served == len(docs)
    rows = stored(cfg, TU214.icao)
    listed = [d["now"] - 0.4 for d in docs if d["aircraft"]]
    assert len(rows) == len(listed)
    assert rows[0].time.replace(tzinfo=UTC).timestamp() == pytest.approx(listed[0], abs=1)
    assert rows[-1].time.replace(tzinfo=UTC).timestamp() == pytest.approx(listed[-1], abs=1)


def test_capture_names_must_be_unique(visit: Story) -> None:
    with pytest.raises(ValueError, match="unique"):
        render_capture([visit, visit], SIXTY)
