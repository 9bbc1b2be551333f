"""deploy/flightwatch.service passes ``systemd-analyze verify`` without a single warning.

verify checks that ExecStart= is executable, and /opt/flightwatch is not installed
here, so the unit is checked as a copy whose flightwatch path points at a stand-in
script; everything else is byte for byte the shipped file.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parents[2] / "deploy" / "flightwatch.service"
INSTALLED_BINARY = "/opt/flightwatch/venv/bin/flightwatch"
CONFIG = "/etc/flightwatch/flightwatch.toml"


@pytest.fixture(scope="module")
def systemd_analyze(executable: Callable[[str, str], str]) -> str:
    return executable("systemd-analyze", "systemd")


@pytest.fixture
def testable_unit(tmp_path: Path) -> Path:
    """A copy of the unit with ExecStart= pointing at an executable that exists."""
    stand_in = tmp_path / "bin" / "flightwatch"
    stand_in.parent.mkdir()
    stand_in.write_text("#!/bin/sh\nexit 0\n")
    stand_in.chmod(0o755)
    unit = tmp_path / "flightwatch.service"
    unit.write_text(UNIT.read_text().replace(INSTALLED_BINARY, str(stand_in)))
    return unit


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)


def directives(unit: Path) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for line in unit.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            result.setdefault(key, []).append(value)
    return result


def test_unit_verifies_without_warnings(systemd_analyze: str, testable_unit: Path) -> None:
    result = run(systemd_analyze, "verify", str(testable_unit))
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_only_complaint_about_shipped_unit_is_the_missing_install(systemd_analyze: str) -> None:
    result = run(systemd_analyze, "verify", str(UNIT))
    complaints = (result.stdout + result.stderr).strip().splitlines()
    missing = [
        f"flightwatch.service: Command {INSTALLED_BINARY} is not executable: "
        "No such file or directory"
    ]
    assert complaints == ([] if os.access(INSTALLED_BINARY, os.X_OK) else missing)


def test_verify_catches_a_typo(systemd_analyze: str, testable_unit: Path) -> None:
    """Guards the tests above: an empty report must mean 'checked', not 'not looked at'."""
    text = testable_unit.read_text().replace("ProtectHome=true", "ProtectHme=true")
    testable_unit.write_text(text)
    result = run(systemd_analyze, "verify", str(testable_unit))
    assert "Unknown key 'ProtectHme'" in result.stderr


def test_hardening_exposure_stays_low(systemd_analyze: str, testable_unit: Path) -> None:
    """systemd's own exposure score (0 best, 10 worst); this unit scores 1.9 with systemd 252."""
    result = run(
        systemd_analyze, "security", "--offline=true", "--threshold=25", str(testable_unit)
    )
    assert result.returncode == 0, result.stdout[-2000:]


def test_runs_the_daemon_as_its_own_user_with_state_and_config_dirs() -> None:
    unit = directives(UNIT)
    assert unit["ExecStart"] == [f"{INSTALLED_BINARY} run --config {CONFIG}"]
    assert unit["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert unit["User"] == ["flightwatch"]
    assert unit["StateDirectory"] == ["flightwatch"]
    assert unit["ConfigurationDirectory"] == ["flightwatch"]
    assert unit["WorkingDirectory"] == ["/var/lib/flightwatch"]
    assert unit["DeviceAllow"] == ["char-usb_device rw"]
    assert unit["SupplementaryGroups"] == ["plugdev"]


def test_pi_config_is_valid_and_keeps_its_database_in_the_state_directory(
    tmp_path: Path,
) -> None:
    """``check-config`` on deploy/flightwatch.toml; only the database moves to tmp_path,
    because /var/lib/flightwatch exists only once systemd made it."""
    config = UNIT.parent / "flightwatch.toml"
    assert 'url = "sqlite:////var/lib/flightwatch/flightwatch.db"' in config.read_text()
    env = {**os.environ, "FLIGHTWATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'fw.db'}"}
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from flightwatch.cli import main; sys.exit(main())",
         "check-config", "--config", str(config)],
        capture_output=True, text=True, timeout=120, check=False, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "source: beast:127.0.0.1:30005 (beast)" in result.stdout
