"""Replaying capture files: golden counts on the real captures, clocks, truncation, pacing."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pyModeS
import pytest
from beast_bytes import LONG, SHORT, beast_frame

from flightwatch.collector import ReplaySource, open_capture
from flightwatch.collector.replay import NO_CLOCK_STEP_S, TICKS_PER_SECOND
from flightwatch.decoder import Frame

START = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
SHORT_HEX = "5D71BE3409274B"
LONG_HEX = "8D71BE349909D21BB004B4E8F29A"


def frames_of(source: ReplaySource) -> list[Frame]:
    frames = list(source)
    assert all(isinstance(f, Frame) for f in frames)
    return frames  # type: ignore[return-value]


def test_avr_capture_has_742_frames_spaced_by_the_fixed_step(
    capture: Callable[[str], Path],
) -> None:
    path = capture("lax_avr_742.txt")
    expected = [line.strip()[1:-1] for line in path.read_text().splitlines()]
    source = open_capture(path, start=START)
    frames = frames_of(source)
    assert [f.hex for f in frames] == expected
    assert len(frames) == 742
    assert frames[0].time == START.timestamp()
    assert frames[-1].time == pytest.approx(START.timestamp() + 741 * NO_CLOCK_STEP_S)
    assert source.stats["frames"] == 742 and source.stats["bad_frames"] == 0


def test_beast_capture_golden(capture: Callable[[str], Path]) -> None:
    source = open_capture(capture("one_aircraft_71be34.beast"), start=START)
    frames = frames_of(source)
    assert len(frames) == 1004
    assert Counter(len(f.hex) for f in frames) == {14: 608, 28: 396}
    assert source.stats["bad_frames"] == source.stats["garbage_bytes"] == 0
    for frame in frames:
        if len(frame.hex) == 28:
            decoded = pyModeS.decode(frame.hex)
            # DF17 carries a checkable CRC; DF16/20 carry address/parity, which
            # must give back this capture's one aircraft.
            assert decoded["crc_valid"] is True or (
                decoded["crc_valid"] is None and decoded["icao"] == "71BE34"
            ), frame
    first = frames[0]
    assert (first.hex, first.mlat_ticks, first.signal) == (LONG_HEX, 3349835543366, 110)
    assert first.time == START.timestamp()
    for frame in frames:
        assert frame.mlat_ticks is not None
        elapsed = (frame.mlat_ticks - 3349835543366) / TICKS_PER_SECOND
        assert frame.time == pytest.approx(START.timestamp() + elapsed, abs=1e-6)
    assert 59 < frames[-1].time - first.time < 62  # the capture spans about a minute


def test_tsv_capture_uses_its_own_clock_and_keeps_the_unterminated_last_line(
    capture: Callable[[str], Path],
) -> None:
    frames = frames_of(open_capture(capture("delft_2015_mixed_modes.txt"), start=START))
    assert len(frames) == 4516  # the last line has no newline
    assert frames[0] == Frame(
        "5D4840D6F87407",
        datetime(2015, 3, 3, 16, 12, 24, 846557, UTC).timestamp(),
        "replay:delft_2015_mixed_modes.txt",
    )
    assert frames[-1].hex == "5D45AC33A55D52"


def test_csv_capture_uses_its_own_clock(capture: Callable[[str], Path]) -> None:
    frames = frames_of(open_capture(capture("single_aircraft_adsb.csv"), start=START))
    assert len(frames) == 2000
    assert (frames[0].time, frames[-1].time) == (1457996400.0, 1457997130.0)
    assert {f.hex[2:8] for f in frames} == {"406B90"}


def test_small_chunks_give_the_same_frames(capture: Callable[[str], Path]) -> None:
    path = capture("one_aircraft_71be34.beast")
    whole = frames_of(open_capture(path, start=START))
    source = ReplaySource(path, "beast", START, chunk_bytes=13)
    assert frames_of(source) == whole
    assert source.bytes_read == source.total_bytes == path.stat().st_size


def test_truncated_last_frame_is_counted_bad(
    capture: Callable[[str], Path], tmp_path: Path
) -> None:
    cut = tmp_path / "cut.beast"
    cut.write_bytes(capture("one_aircraft_71be34.beast").read_bytes()[:-5])
    source = open_capture(cut)
    assert len(list(source)) == 1003
    assert source.stats["bad_frames"] == 1


def test_default_start_is_the_file_modification_time(tmp_path: Path) -> None:
    path = tmp_path / "two.avr"
    path.write_bytes(b"*5D71BE3409274B;\n*5D71BE3409274B;\n")
    os.utime(path, (1_600_000_000, 1_600_000_000))
    first, second = frames_of(open_capture(path))
    assert first.time == 1_600_000_000
    assert second.time == pytest.approx(1_600_000_000 + NO_CLOCK_STEP_S)
    (naive, _) = frames_of(open_capture(path, start=datetime(2024, 5, 1, 12, 0)))  # noqa: DTZ001
    assert naive.time == START.timestamp()


def test_counter_wrap_restart_and_missing_counter(tmp_path: Path) -> None:
    wrap = 1 << 48
    ticks = [
        wrap - TICKS_PER_SECOND // 2,  # 0.5 s before the wrap
        TICKS_PER_SECOND // 2,  # 1.0 s later, after the wrap
        TICKS_PER_SECOND // 4,  # 0.25 s back: frames out of order, kept as is
        0,  # no counter (dump1090 without timing): a fixed step
        TICKS_PER_SECOND,
        (TICKS_PER_SECOND - 10 * TICKS_PER_SECOND) % wrap,  # 10 s back: receiver restart
    ]
    path = tmp_path / "clock.beast"
    path.write_bytes(b"".join(beast_frame(SHORT, t, 1, bytes.fromhex(SHORT_HEX)) for t in ticks))
    source = open_capture(path, start=START)
    elapsed = [f.time - START.timestamp() for f in frames_of(source)]
    assert elapsed == pytest.approx([0.0, 1.0, 0.75, 0.76, 1.51, 1.51])
    assert source.clock.resets == 1


def test_realtime_paces_by_the_capture_clock(tmp_path: Path) -> None:
    path = tmp_path / "paced.avr"
    path.write_text(
        "".join(f"@{t * TICKS_PER_SECOND // 10:012X}{LONG_HEX};\n" for t in range(1, 5))
    )
    began = time.monotonic()
    frames = frames_of(open_capture(path, realtime=True))
    took = time.monotonic() - began
    assert len(frames) == 4
    assert 0.29 < took < 1.5  # three gaps of 0.1 s


def test_stop_ends_a_realtime_replay_promptly(tmp_path: Path) -> None:
    path = tmp_path / "slow.beast"
    path.write_bytes(
        beast_frame(LONG, 1, 1, bytes.fromhex(LONG_HEX))
        + beast_frame(LONG, 1 + 3600 * TICKS_PER_SECOND, 1, bytes.fromhex(LONG_HEX))
    )
    source = open_capture(path, realtime=True)
    threading.Timer(0.2, source.stop).start()
    began = time.monotonic()
    assert len(list(source)) == 1  # the second frame is an hour away
    assert time.monotonic() - began < 2
