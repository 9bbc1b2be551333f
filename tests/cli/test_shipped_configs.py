"""The shipped configurations work wherever they are copied (issue 21: the example's
``[[geofences]]`` pointed at a path relative to config/, so a copy failed check-config)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cli_helpers import REPO, run

from flightwatch.settings import ConfigError, bundled, load_settings


@pytest.mark.parametrize("name", ["flightwatch.example.toml", "demo.toml", "live.toml"])
def test_a_copy_anywhere_passes_check_config(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = tmp_path / "fw" / "conf"  # demo.toml and live.toml keep their data one folder up
    folder.mkdir(parents=True)
    copy = folder / "flightwatch.toml"
    shutil.copy(REPO / "config" / name, copy)
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "check-config", "--config", str(copy))
    assert (code, err) == (0, "")
    assert f"geofence: belarus from {bundled('geofences/belarus.geojson')}" in out
    assert not list(folder.glob("*.db")) and not list((tmp_path / "fw").glob("*.db"))


def test_a_shipped_fence_needs_only_its_name(tmp_path: Path) -> None:
    config = tmp_path / "fw.toml"
    config.write_text('[[geofences]]\nname = "minsk_fir"\n\n'
                      '[[geofences]]\nname = "belarus"\ntimezone = "UTC"\n', encoding="utf-8")
    fir, belarus = load_settings(config, env={}).geofences
    assert (fir["file"], fir["timezone"]) == (bundled("geofences/minsk_fir.geojson"),
                                              "Europe/Minsk")
    assert (belarus["file"], belarus["timezone"]) == (bundled("geofences/belarus.geojson"),
                                                      "UTC")


def test_another_fence_without_a_file_names_the_shipped_ones(tmp_path: Path) -> None:
    config = tmp_path / "fw.toml"
    config.write_text('[[geofences]]\nname = "poland"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_settings(config, env={})
    assert raised.value.problems == [
        f"{config}: geofences[0].file: missing (the shipped fences need none: belarus, "
        "minsk_fir)"]
