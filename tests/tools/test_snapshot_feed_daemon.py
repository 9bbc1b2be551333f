"""``flightwatch run`` polling a story's aircraft.json snapshots from the snapshot feed:
a Moscow-Minsk turnaround of hours, as an aggregator fed from Vilnius reports it, is
served in seconds (the silences compressed, a poll every 20 ms) and every listed
position reaches the daemon's database."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from integration.daemon_helpers import daemon
from pytest_httpserver import HTTPServer
from stored_positions import stored_count

from tools.coverage_model import Aggregator, Receiver
from tools.render_stories import compress_silence, render_snapshots
from tools.snapshot_feed import SnapshotFeed, polling_config
from tools.stories import arrival, departure, turnaround, watched

pytestmark = pytest.mark.integration

ADSBX = Aggregator((Receiver.rooftop(54.687, 25.279, antenna_m=30),), name="adsbx")


def test_daemon_polls_a_story_of_hours_in_seconds(httpserver: HTTPServer,
                                                  tmp_path: Path) -> None:
    tu214 = watched("RA-64523")
    story = turnaround(arrival("UMMS", origin="UUWW", airframe=tu214), departure(to="UUWW"),
                       timedelta(hours=4))
    docs = compress_silence(render_snapshots([story], ADSBX, every_s=10.0), keep=3)
    assert docs[-1]["now"] - docs[0]["now"] > 4 * 3600 and len(docs) < 250
    feed = SnapshotFeed(httpserver, docs)
    config = tmp_path / "flightwatch.toml"
    config.write_text(polling_config(feed.url), encoding="utf-8")
    with daemon(config) as run:
        run.wait_for("flightwatch running")
        assert feed.wait_until_served(60), f"served {feed.served} of {len(docs)}"
        listed = sum(1 for d in docs if d["aircraft"])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            count = stored_count(tmp_path / "fw.db")
            if count >= listed:
                break
            time.sleep(0.1)
        assert "Traceback" not in run.log
    assert count == listed
