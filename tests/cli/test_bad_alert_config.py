"""Issue 4's bad inputs at the command line: each exits 2 with a message naming the file
or key, before anything is decoded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flightwatch.cli import main

POINT = {
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [27.5, 53.9]},
    "properties": {},
}
BOW_TIE = {"type": "Polygon", "coordinates": [[[27, 53], [28, 54], [28, 53], [27, 54], [27, 53]]]}


def config(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "fw.toml"
    path.write_text('[database]\nurl = "sqlite:///fw.db"\n' + extra, encoding="utf-8")
    return path


def demo() -> str:
    path = Path(__file__).resolve().parents[2] / "config" / "samples" / "demo_minsk.tsv"
    return str(path)


@pytest.mark.parametrize("command", ["replay", "check-config"])
def test_a_geofence_that_is_not_a_polygon(
    tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    fence = tmp_path / "point.geojson"
    fence.write_text(json.dumps(POINT))
    path = config(tmp_path, f'[[geofences]]\nname = "dot"\nfile = "{fence.name}"\n')
    args = [command, "--config", str(path)] + ([demo()] if command == "replay" else [])
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "point.geojson" in err and "Point" in err


def test_a_self_intersecting_fence_is_repaired_not_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    fence = tmp_path / "bowtie.geojson"
    fence.write_text(json.dumps(BOW_TIE))
    path = config(tmp_path, f'[[geofences]]\nname = "bowtie"\nfile = "{fence.name}"\n')
    assert main(["check-config", "--config", str(path)]) == 0
    assert "geofence: bowtie" in capsys.readouterr().out
    assert "repaired" in caplog.text


def test_a_malformed_watchlist_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "watch.csv"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not a watchlist at all")
    path = config(tmp_path, f'[watchlist]\nfiles = ["{bad.name}"]\n')
    assert main(["replay", "--config", str(path), demo()]) == 2
    assert "watch.csv" in capsys.readouterr().err


def test_an_unknown_event_kind(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = config(tmp_path, '[alerts]\nevents = ["enter", "teleport"]\n')
    assert main(["replay", "--config", str(path), demo()]) == 2
    err = capsys.readouterr().err
    assert "alerts.events" in err and "teleport" in err


def test_nonsense_landing_thresholds_are_rejected_naming_each_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = config(tmp_path, "[alerts]\ninferred_below_ft = -300\napproach_km = 0\n"
                            "approach_deg = 270\napproach_slower_kt = 5000\n"
                            "landed_below_ft = 1e9\nairport_radius_km = -1\n")
    assert main(["check-config", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    for key in ("alerts.inferred_below_ft", "alerts.approach_km", "alerts.approach_deg",
                "alerts.approach_slower_kt", "alerts.landed_below_ft",
                "alerts.airport_radius_km"):
        assert key in err, err
    assert "out of range" in err


def test_a_runways_file_of_the_wrong_kind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runways = tmp_path / "runways.csv"
    runways.write_text("ident,lat,lon\nUMMS,53.9,28.0\n", encoding="utf-8")
    path = config(tmp_path, f'[alerts]\nrunways = ["{runways.name}"]\n')
    assert main(["replay", "--config", str(path), demo()]) == 2
    assert "not a runways file" in capsys.readouterr().err
    assert main(["check-config", "--config", str(path)]) == 2
    assert "alerts.runways: " in capsys.readouterr().err
