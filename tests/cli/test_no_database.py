"""Commands that only read never create a database: they say where none is, and which
configuration has one (issue 21: after the demo, a query without --config used to create
an empty database and print "(no rows)")."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cli_helpers import DEMO_CONFIG, REPO, Demo, run

# The commands that read: none may create the database.
READERS = [
    ["history"], ["history", "--format", "kml"], ["alerts"], ["alerts", "--pending"],
    ["flights"], ["flights", "--format", "geojson"], ["watchlist", "list"],
    ["watchlist", "remove", "157710"], ["map", "--out", "map.html"],
    ["serve"], ["db", "copy", "--to", "sqlite:///copy.db"],
    ["report", "--registration", "RA-96016"],
]


@pytest.mark.parametrize("command", READERS, ids=" ".join)
def test_a_reader_creates_no_database(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, *command)
    assert code == 2 and out == ""
    assert err == (f"flightwatch: no database at {tmp_path / 'flightwatch.db'} (is it another "
                   "--config FILE? `flightwatch run`, `replay` and `import` create one)\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_airports_list_needs_no_database_and_makes_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    """The world's airports are bundled: listing them needs no database (and makes none)."""
    monkeypatch.chdir(tmp_path)
    code, out, _err = run(capsys, "airports", "list", "--near", "53.88,28.03", "--within", "5")
    assert code == 0 and "UMMS" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_after_the_demo_it_names_the_demos_config(
    in_demo: Demo, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "alerts")
    assert code == 2 and out == ""
    assert err == (f"flightwatch: no database at {in_demo.folder / 'flightwatch.db'} "
                   f"(did you mean --config {DEMO_CONFIG}?)\n")
    assert not (in_demo.folder / "flightwatch.db").exists()
    code, out, _ = run(capsys, "alerts", "--config", DEMO_CONFIG)
    assert code == 0 and "RA-96016" in out


def test_it_names_a_config_in_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "station.toml").write_text('[database]\nurl = "sqlite:///station.db"\n',
                                           encoding="utf-8")
    code, _, err = run(capsys, "flights")
    assert code == 2 and err.endswith("(did you mean --config station.toml?)\n")
    # the configuration in use is not suggested again
    code, _, err = run(capsys, "flights", "--config", "station.toml")
    assert code == 2 and "did you mean" not in err
    assert err.startswith(f"flightwatch: no database at {tmp_path / 'station.db'} ")


def test_the_demos_config_before_its_replay_says_to_record_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config").mkdir()
    shutil.copy(REPO / "config" / "demo.toml", tmp_path / "config" / "demo.toml")
    code, _, err = run(capsys, "history", "--config", DEMO_CONFIG)
    assert code == 2
    assert err == (f"flightwatch: no database at {tmp_path / 'flightwatch-demo.db'} (is it "
                   "another --config FILE? `flightwatch run`, `replay` and `import` create "
                   "one)\n")


@pytest.mark.parametrize("command", [
    ["db", "upgrade"], ["watchlist", "add", "157710"], ["airports", "import", "airports.csv"],
], ids=" ".join)
def test_the_commands_that_write_still_create_it(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copy(REPO / "config" / "airports.csv", tmp_path / "airports.csv")
    code, _, err = run(capsys, *command)
    assert code == 0, err
    assert (tmp_path / "flightwatch.db").is_file()
    code, out, _ = run(capsys, "watchlist", "list", "--format", "csv")
    assert code == 0 and out.startswith("icao,registration")


def test_status_still_reports_without_a_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "status")
    assert code == 0 and f"no database at {tmp_path / 'flightwatch.db'} yet" in out
    assert list(tmp_path.iterdir()) == []
