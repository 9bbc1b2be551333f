"""The layout is the data flow: imports point down it, and the wheel is one namespace.

decoder <- db <- alerts; collector builds on decoder (and may use db and alerts);
the shell (cli, daemon, output) sits on top, and only cli knows the command line.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# package -> the flightwatch packages its modules may import
ALLOWED = {
    "decoder": {"decoder"},
    "db": {"db", "decoder"},
    "alerts": {"alerts", "db", "decoder"},
    "collector": {"collector", "decoder", "db", "alerts"},
}
SHELL_MAY_NOT = {"daemon": {"cli", "web"}, "output": {"cli", "daemon", "web"}}


def _imported_packages(path: Path) -> set[str]:
    """Second-level names of the ``flightwatch.X`` modules a file imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "flightwatch" and len(parts) > 1:
                found.add(parts[1])
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_layer_imports_only_what_lies_below_it(package: str) -> None:
    wrong = {
        str(path.relative_to(ROOT)): sorted(_imported_packages(path) - ALLOWED[package])
        for path in (ROOT / package).rglob("*.py")
    }
    assert {f: bad for f, bad in wrong.items() if bad} == {}


@pytest.mark.parametrize("part", sorted(SHELL_MAY_NOT))
def test_the_shell_parts_do_not_reach_up(part: str) -> None:
    wrong = {
        str(path.relative_to(ROOT)): sorted(_imported_packages(path) & SHELL_MAY_NOT[part])
        for path in (ROOT / "flightwatch" / part).rglob("*.py")
    }
    assert {f: bad for f, bad in wrong.items() if bad} == {}


def _defined(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.ClassDef)}


# Where landings, take-offs and losses are judged: one package, alerts/detect/, below the
# rules (it imports nothing of theirs) and above the store; nowhere else defines a judgement.
DETECTION = ROOT / "alerts" / "detect"
JUDGEMENTS = {"inferred_arrival", "inferred_departure", "arrival_fit", "departure_fit",
              "on_the_ground", "CoverageMap", "Detector"}


def test_detection_is_one_package_below_the_rules() -> None:
    for path in DETECTION.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "flightwatch.alerts.rules" not in text, path
        assert "flightwatch.alerts.notify" not in text, path
    elsewhere = {
        str(path.relative_to(ROOT)): sorted(_defined(path) & JUDGEMENTS)
        for package in ("collector", "decoder", "alerts", "db", "flightwatch")
        for path in (ROOT / package).rglob("*.py")
        if not path.is_symlink() and DETECTION not in path.parents
        and not any(part.is_symlink() for part in path.parents)
    }
    assert {f: names for f, names in elsewhere.items() if names} == {}


def test_only_the_decoder_imports_pymodes() -> None:
    users = [
        str(path.relative_to(ROOT))
        for package in ("collector", "alerts", "db", "flightwatch")
        for path in (ROOT / package).rglob("*.py")
        if not path.is_symlink() and "pyModeS" in path.read_text(encoding="utf-8")
        and any(part in {"collector", "alerts", "db", "cli", "daemon", "output"}
                or path.parent == ROOT / "flightwatch" for part in path.parts)
    ]
    assert users == []


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
         "-w", str(out), str(ROOT)],
        check=True, capture_output=True,
    )
    return next(out.glob("flightwatch-*.whl"))


def test_the_wheel_installs_one_namespace_holding_every_tracked_file(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    top_level = {name.split("/")[0] for name in names if "dist-info" not in name}
    assert top_level == {"flightwatch"}
    tracked = subprocess.run(
        ["git", "ls-files", "collector", "decoder", "alerts", "db", "config", "flightwatch"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout.split()
    expected = {
        name if name.startswith("flightwatch/") else f"flightwatch/{name}"
        for name in tracked
        if not (ROOT / name).is_symlink()
    }
    assert expected - names == set()


def test_generic_names_are_not_importable_from_the_installed_wheel(
    wheel: Path, tmp_path: Path
) -> None:
    zipfile.ZipFile(wheel).extractall(tmp_path)
    probe = (  # -S: no site-packages, so only the unpacked wheel is on the path
        "import importlib.util as u, sys; sys.path.insert(0, sys.argv[1]); "
        "names = ('db', 'config', 'collector', 'decoder', 'alerts', 'flightwatch'); "
        "print([m for m in names if u.find_spec(m)])"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", probe, str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    )
    assert result.stdout.strip() == "['flightwatch']"
