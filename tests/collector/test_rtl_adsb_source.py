"""RtlAdsbSource with a stand-in for rtl_adsb (no dongle here): restarts, stop, not found."""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

import pytest
from source_helpers import collect

from flightwatch.collector import ExecutableNotFoundError, RtlAdsbSource
from flightwatch.decoder import Frame

SHORT_HEX = "5D71BE3409274B"
LONG_HEX = "8D71BE349909D21BB004B4E8F29A"

# Prints what rtl_adsb prints, then dies the way it does when the dongle goes away.
# Each run appends a line to the file named by argv[1], so runs can be told apart.
STAND_IN = f"""
import sys, time
runs_file = sys.argv[1]
with open(runs_file, "a") as f:
    f.write("run\\n")
run = sum(1 for _ in open(runs_file))
print("Found 1 device(s):", file=sys.stderr, flush=True)
hex_ = "{SHORT_HEX}" if run == 1 else "{LONG_HEX}"
for _ in range(2):
    print("*" + hex_ + ";", flush=True)
print("garbage", flush=True)
if len(sys.argv) > 2:
    time.sleep(float(sys.argv[2]))
print("usb_claim_interface error -6", file=sys.stderr, flush=True)
sys.exit(3)
"""


@pytest.fixture
def stand_in(tmp_path: Path) -> list[str]:
    script = tmp_path / "rtl_adsb_stand_in.py"
    script.write_text(STAND_IN)
    return [sys.executable, str(script), str(tmp_path / "runs.txt")]


def test_a_child_that_dies_is_restarted(
    stand_in: list[str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    source = RtlAdsbSource(stand_in, backoff_initial=0.05, backoff_max=0.1)
    before = time.time()
    with caplog.at_level(logging.INFO, logger="flightwatch.collector.rtlsdr"):
        records = collect(source, 4)
    frames = [f for f in records if isinstance(f, Frame)]
    assert [f.hex for f in frames] == [SHORT_HEX, SHORT_HEX, LONG_HEX, LONG_HEX]
    assert all(before <= f.time <= time.time() for f in frames)
    assert {f.source for f in frames} == {"rtl_adsb"}
    assert (tmp_path / "runs.txt").read_text().count("run") >= 2
    stats = source.stats
    assert stats["reconnects"] >= 1
    assert stats["bad_frames"] >= 1  # the "garbage" line
    died = [r.getMessage() for r in caplog.records if "exited with code 3" in r.getMessage()]
    assert died and "usb_claim_interface error -6" in died[0]


def test_stop_terminates_a_running_child_promptly(stand_in: list[str]) -> None:
    source = RtlAdsbSource([*stand_in, "60"])
    began = time.monotonic()
    frames = collect(source, 1)
    # Both lines may come in one read; the rest of a read in hand is still delivered.
    assert [f.hex for f in frames if isinstance(f, Frame)] in ([SHORT_HEX], [SHORT_HEX] * 2)
    assert time.monotonic() - began < 5
    assert source.stats["reconnects"] == 0


@pytest.mark.parametrize("program", ["/nonexistent/rtl_adsb", "rtl_adsb-that-is-not-installed"])
def test_missing_executable_is_a_clear_error(program: str) -> None:
    with pytest.raises(ExecutableNotFoundError, match=f"cannot run '{program}'.*rtl-sdr"):
        RtlAdsbSource([program, "-d", "0"])


def test_a_file_that_is_not_executable_is_refused(tmp_path: Path) -> None:
    plain = tmp_path / "rtl_adsb"
    plain.write_text("not a program")
    os.chmod(plain, 0o644)
    with pytest.raises(ExecutableNotFoundError, match="not executable"):
        RtlAdsbSource([str(plain)])
