"""``flightwatch watchlist``: import, list, add, remove through main() and the real script."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_helpers import run

from flightwatch.db import connect
from flightwatch.db.watchlist import sync_files
from flightwatch.db.watchlist_queries import stored_entries

ROOT = Path(__file__).resolve().parents[2]
HEX6 = re.compile(r"^[0-9A-Fa-f]{6}$")



def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines()]


def test_import_reports_malformed_rows_by_line_and_imports_the_rest(
    capsys: pytest.CaptureFixture[str], config_file: Path,
    watchlist_data: Callable[[str], Path],
) -> None:
    path = watchlist_data("plane-alert-wip_ru-by-state.csv")
    with path.open(encoding="utf-8", newline="") as src:  # read independently of flightwatch
        reader = csv.reader(src)
        next(reader)
        rows = [(reader.line_num, row) for row in reader if row]
    bad = [line for line, row in rows if not HEX6.match(row[0])]
    assert bad == [96, 107, 146]

    code, out, err = run(capsys, "watchlist", "import", str(path), "--config", str(config_file))
    assert code == 0
    reported = [line for line in err.splitlines() if line.startswith(f"{path}:")]
    assert [int(line.split(":")[1]) for line in reported] == bad
    assert "'1.49E+08'" in reported[0]  # the cell as it is in the file
    assert f"{len(rows) - len(bad)} entries imported ({len(rows) - len(bad)} added" in out
    assert "3 rows skipped or merged" in out

    code, out, _ = run(capsys, "watchlist", "list", "--format", "json", "--config",
                       str(config_file))
    listed = json_lines(out)
    assert len(listed) == len(rows) - len(bad)
    first = next(r for r in listed if r["icao"] == rows[0][1][0])
    assert (first["registration"], first["group"]) == (rows[0][1][1], rows[0][1][10])


@pytest.mark.parametrize(
    ("name", "message"),
    [("raw/plane-alert-wip.csv", "no watchlist header"), ("missing.csv", "cannot read")],
)
def test_unusable_file_exits_2_naming_it(
    capsys: pytest.CaptureFixture[str], config_file: Path, name: str, message: str,
    watchlist_data: Callable[[str], Path],
) -> None:
    path = watchlist_data(name) if name != "missing.csv" else config_file.parent / name
    code, out, err = run(capsys, "watchlist", "import", str(path), "--config", str(config_file))
    assert code == 2
    assert f"{path}: {message}" in err
    assert out == ""


def test_file_with_only_bad_rows_exits_2(
    capsys: pytest.CaptureFixture[str], config_file: Path, tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("icao,registration\n1.5E+05,RA-1\n", encoding="utf-8")
    code, _, err = run(capsys, "watchlist", "import", str(path), "--config", str(config_file))
    assert code == 2
    assert f"{path}:2: ICAO address '1.5E+05'" in err
    assert f"{path}: no usable rows" in err


def test_add_list_remove_round_trip(
    capsys: pytest.CaptureFixture[str], config_file: Path
) -> None:
    cfg = ("--config", str(config_file))
    code, out, _ = run(capsys, "watchlist", "add", "157710", "--registration", "RA-96016",
                       "--operator", "Special Flight Squadron", "--type", "Il-96-300",
                       "--group", "RU_STATE", *cfg)
    assert (code, out) == (0, "added 157710 (by hand: files and imports leave it)\n")
    code, out, _ = run(capsys, "watchlist", "add", "15002b", "510030", "--group", "OTHER", *cfg)
    assert code == 0 and out.splitlines()[0].startswith("added 15002B")

    code, out, _ = run(capsys, "watchlist", "list", "--format", "csv", "--group", "ru_state", *cfg)
    table = list(csv.DictReader(io.StringIO(out)))
    assert [(r["icao"], r["registration"], r["aircraft_type"], r["origin"]) for r in table] == [
        ("157710", "RA-96016", "Il-96-300", "manual")
    ]
    code, out, _ = run(capsys, "watchlist", "list", "--wide", *cfg)
    lines = out.splitlines()
    assert lines[0].split() == ["icao", "registration", "operator", "aircraft_type", "category",
                                "group", "origin", "updated"]
    assert [line.split()[0] for line in lines[1:]] == ["15002B", "157710", "510030"]

    code, out, err = run(capsys, "watchlist", "remove", "15002B", *cfg)
    assert (code, out, err) == (0, "removed 15002B\n", "")
    code, out, err = run(capsys, "watchlist", "remove", "15002B", *cfg)
    assert code == 1 and "15002B is not in the watchlist" in err
    _, out, _ = run(capsys, "watchlist", "list", "--format", "json", *cfg)
    assert [r["icao"] for r in json_lines(out)] == ["157710", "510030"]


@pytest.mark.parametrize(
    "argv",
    [
        ("add", "157710", "15002Z"),
        ("add", "1.49E+08"),
        ("remove", "15002"),
    ],
)
def test_bad_hex_exits_2_naming_the_value(
    capsys: pytest.CaptureFixture[str], config_file: Path, argv: tuple[str, ...]
) -> None:
    code, out, err = run(capsys, "watchlist", *argv, "--config", str(config_file))
    assert code == 2
    assert f"{argv[-1]!r} is not a 24-bit ICAO address" in err
    _, out, _ = run(capsys, "watchlist", "list", "--format", "json", "--config", str(config_file))
    assert out == ""  # nothing was added before the bad value was found


def test_one_registration_for_several_addresses_is_refused(
    capsys: pytest.CaptureFixture[str], config_file: Path
) -> None:
    code, _, err = run(capsys, "watchlist", "add", "157710", "15002B", "--registration", "RA-1",
                       "--config", str(config_file))
    assert code == 2 and "--registration" in err


def test_removing_a_row_from_a_configured_file_warns_it_comes_back(
    capsys: pytest.CaptureFixture[str], config_file: Path, tmp_path: Path
) -> None:
    listed = tmp_path / "watch.csv"
    listed.write_text("icao,registration\n157710,RA-96016\n", encoding="utf-8")
    sync_files(connect(f"sqlite:///{tmp_path / 'fw.db'}"), [listed])
    code, out, err = run(capsys, "watchlist", "remove", "157710", "--config", str(config_file))
    assert (code, out) == (0, "removed 157710\n")
    assert f"comes from {listed.resolve()}" in err


def test_console_script_round_trip(config_file: Path, tmp_path: Path) -> None:
    """The real ``python -m flightwatch.cli`` process: exit codes and output as a user sees them."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("FLIGHTWATCH_DATABASE_URL", None)

    def script(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "flightwatch.cli", "watchlist", *argv,
             "--config", str(config_file)],
            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60, check=False,
        )

    added = script("add", "157710", "--group", "RU_STATE")
    assert added.returncode == 0, added.stderr
    bad = script("add", "XYZ")
    assert bad.returncode == 2
    assert "flightwatch: 'XYZ' is not a 24-bit ICAO address" in bad.stderr
    assert "Traceback" not in bad.stderr
    missing = script("remove", "15002B")
    assert missing.returncode == 1 and "15002B is not in the watchlist" in missing.stderr
    stored = stored_entries(connect(f"sqlite:///{tmp_path / 'fw.db'}"))
    assert [(s.icao, s.group, s.origin) for s in stored] == [("157710", "RU_STATE", "manual")]
