"""check-config for a receiver on the Pi itself: rtl_adsb installed, and a dongle on USB."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flightwatch.cli import check_config as checks
from flightwatch.cli import main


def usb_tree(root: Path, *devices: tuple[str, str]) -> Path:
    """A sysfs-like /sys/bus/usb/devices with these vendor:product devices."""
    for n, (vendor, product) in enumerate(devices):
        device = root / f"1-{n + 1}"
        device.mkdir(parents=True)
        (device / "idVendor").write_text(f"{vendor}\n")
        (device / "idProduct").write_text(f"{product}\n")
    (root / "usb1").mkdir(parents=True, exist_ok=True)  # a hub without ids of interest
    return root


def config(tmp_path: Path, program: Path) -> Path:
    path = tmp_path / "fw.toml"
    path.write_text(
        f'[database]\nurl = "sqlite:///fw.db"\n\n[[sources]]\ntype = "rtl_adsb"\n'
        f'command = ["{program}"]\n'
    )
    return path


@pytest.fixture
def rtl_adsb(tmp_path: Path) -> Path:
    """A stand-in program (no dongle exists here); only its presence is checked."""
    program = tmp_path / "rtl_adsb"
    program.write_text("#!/bin/sh\nexit 0\n")
    os.chmod(program, 0o755)
    return program


def test_no_dongle_on_usb_is_exit_2_saying_so(
    tmp_path: Path,
    rtl_adsb: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(checks, "USB_DEVICES", usb_tree(tmp_path / "usb", ("1d6b", "0002")))
    assert main(["check-config", "--config", str(config(tmp_path, rtl_adsb))]) == 2
    assert "no RTL-SDR dongle" in capsys.readouterr().err


def test_a_dongle_on_usb_passes(
    tmp_path: Path,
    rtl_adsb: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(checks, "USB_DEVICES", usb_tree(tmp_path / "usb", ("0bda", "2838")))
    assert main(["check-config", "--config", str(config(tmp_path, rtl_adsb))]) == 0
    assert "RTL-SDR dongle(s) on USB: 0bda:2838" in capsys.readouterr().out


def test_rtl_adsb_not_installed_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check-config", "--config", str(config(tmp_path, tmp_path / "nowhere"))]) == 2
    assert "install the rtl-sdr package" in capsys.readouterr().err


def test_email_without_recipients_is_exit_2_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "fw.toml"
    path.write_text('[database]\nurl = "sqlite:///fw.db"\n[alerts.email]\nhost = "localhost"\n')
    assert main(["check-config", "--config", str(path)]) == 2
    assert "alerts.email.recipients" in capsys.readouterr().err
