"""Format auto-detection on the real captures, and the errors a user sees."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from beast_bytes import SHORT, beast_frame

from flightwatch.collector import CaptureFormatError, detect_format, open_capture

PNG_HEADER = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000100000001008060000001ff3ff61")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("lax_avr_742.txt", "avr"),
        ("one_aircraft_71be34.beast", "beast"),
        ("delft_2015_mixed_modes.txt", "tsv"),
        ("single_aircraft_adsb.csv", "csv"),
    ],
)
def test_each_capture_is_recognised(
    capture: Callable[[str], Path], name: str, expected: str
) -> None:
    assert detect_format(capture(name)) == expected


def test_sbs_and_timestamped_avr_are_recognised() -> None:
    sbs = b"MSG,1,1,1,7404F2,1,2008/11/28,23:48:18.611,2008/11/28,23:53:19.161,RJA1118,,,,,,,,,,,\n"
    assert detect_format(sbs * 3) == "sbs"
    assert detect_format(b"@0000A1B2C3D45D71BE3409274B;\r\n" * 3) == "avr"
    assert detect_format(beast_frame(SHORT, 1, 1, bytes.fromhex("5D71BE3409274B"))) == "beast"


def test_empty_file_says_so(tmp_path: Path) -> None:
    empty = tmp_path / "empty.beast"
    empty.write_bytes(b"")
    with pytest.raises(CaptureFormatError, match=r"empty\.beast: the file is empty"):
        detect_format(empty)
    with pytest.raises(CaptureFormatError, match="empty"):
        open_capture(empty)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("picture.png", PNG_HEADER + bytes(range(256)) * 4),
        ("notes.txt", b"Shopping list\n- milk\n- eggs\n"),
        ("mostly-noise.txt", b"*5D71BE3409274B;\n" + b"noise line\n" * 3),
    ],
)
def test_wrong_format_names_the_file(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(CaptureFormatError) as caught:
        open_capture(path)
    message = str(caught.value)
    assert str(path) in message
    assert "--format" in message


def test_unknown_format_name_is_refused(capture: Callable[[str], Path]) -> None:
    with pytest.raises(ValueError, match="unknown capture format 'json'"):
        open_capture(capture("lax_avr_742.txt"), fmt="json")
