"""What ``flightwatch --help`` and the query commands load: only what they use.

A Raspberry Pi has little memory and every command is a fresh process, so the heavy
libraries load only in the commands that need them. Checked in a subprocess (a fresh
interpreter) through ``sys.modules``: behaviour, not timing (benchmarks/startup.py
measures the time and memory).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from flightwatch.db.revisions import head_revisions

REPO = Path(__file__).resolve().parents[2]

#: Never needed to print help or read the database.
HEAVY = {
    "alembic", "apprise", "apscheduler", "geopandas", "numpy", "pandas", "paho",
    "prometheus_client", "pyModeS", "pyogrio", "pyproj", "requests", "shapely", "starlette",
    "tqdm", "uvicorn",
}
#: The commands that only read the database (issue 11: < 0.3 s and < 40 MB on a Pi).
QUERIES = [
    ["history"], ["history", "--format", "kml"], ["alerts"], ["alerts", "--pending"],
    ["flights"], ["flights", "--format", "geojson"], ["watchlist", "list"], ["status"],
]
PROBE = """
import contextlib, io, json, sys
from flightwatch.cli.main import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    try:
        code = main(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code
print(json.dumps({"modules": sorted(sys.modules), "code": code, "out": out.getvalue()}))
"""


def probe(*args: str, cwd: Path) -> dict[str, Any]:
    """What ``flightwatch ARGS`` loaded, returned and printed, run in a fresh interpreter."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("FLIGHTWATCH_DATABASE_URL", None)
    out = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=cwd, env=env, check=True,
                         capture_output=True, text=True, timeout=60).stdout
    result: dict[str, Any] = json.loads(out.splitlines()[-1])
    return result


def loaded_by(*args: str, cwd: Path) -> set[str]:
    return set(probe(*args, cwd=cwd)["modules"])


def top_level(modules: set[str]) -> set[str]:
    return {name.partition(".")[0] for name in modules}


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A config whose database exists and is current (migrated once, here)."""
    folder = tmp_path_factory.mktemp("startup")
    config = folder / "fw.toml"
    config.write_text('[database]\nurl = "sqlite:///fw.db"\n', encoding="utf-8")
    loaded_by("history", "--config", str(config), cwd=folder)
    return config


def test_help_loads_no_database_no_network_no_geometry(tmp_path: Path) -> None:
    loaded = loaded_by("--help", cwd=tmp_path)
    assert top_level(loaded) & (HEAVY | {"sqlalchemy", "ssl"}) == set()
    assert "importlib.metadata" not in loaded  # the version is looked up for --version only


@pytest.mark.parametrize("command", QUERIES, ids=" ".join)
def test_query_commands_read_a_current_sqlite_database_without_sqlalchemy(
    command: list[str], database: Path
) -> None:
    ran = probe(*command, "--config", str(database), cwd=database.parent)
    assert ran["code"] == 0 and ran["out"]
    assert "sqlite3" in ran["modules"]  # they did read the database
    assert top_level(set(ran["modules"])) & (HEAVY | {"sqlalchemy"}) == set()


def test_airports_list_loads_no_migration_tool(database: Path) -> None:
    loaded = loaded_by("airports", "list", "--config", str(database), cwd=database.parent)
    assert top_level(loaded) & HEAVY == set()


@pytest.mark.parametrize("command", [c for c in QUERIES if c != ["status"]], ids=" ".join)
def test_query_commands_upgrade_a_database_behind_then_read_it(
    command: list[str], tmp_path: Path
) -> None:
    config = tmp_path / "fw.toml"
    config.write_text('[database]\nurl = "sqlite:///fw.db"\n', encoding="utf-8")
    _database_at(tmp_path / "fw.db", "0006")
    ran = probe(*command, "--config", str(config), cwd=tmp_path)
    assert ran["code"] == 0 and ran["out"]
    assert "alembic" in top_level(set(ran["modules"]))  # through the fallback: connect()
    assert _revisions(tmp_path / "fw.db") == head_revisions()
    assert "sqlalchemy" not in top_level(loaded_by(*command, "--config", str(config),
                                                   cwd=tmp_path))


def test_status_reads_a_database_behind_without_upgrading_it(tmp_path: Path) -> None:
    config = tmp_path / "fw.toml"
    config.write_text('[database]\nurl = "sqlite:///fw.db"\n', encoding="utf-8")
    _database_at(tmp_path / "fw.db", "0006")
    ran = probe("status", "--config", str(config), cwd=tmp_path)
    assert ran["code"] == 0
    assert "the database schema is not current: run `flightwatch db upgrade`" in ran["out"]
    assert top_level(set(ran["modules"])) & {"sqlalchemy", "alembic"} == set()
    assert _revisions(tmp_path / "fw.db") == {"0006"}


def _database_at(path: Path, revision: str) -> None:
    from alembic import command

    from flightwatch.db import open_engine
    from flightwatch.db.engine import _alembic_config

    engine = open_engine(f"sqlite:///{path}")
    command.upgrade(_alembic_config(engine), revision)
    engine.dispose()


def _revisions(path: Path) -> set[str]:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return {row[0] for row in conn.execute("SELECT version_num FROM alembic_version")}


def test_a_database_behind_loads_alembic_and_is_upgraded(tmp_path: Path) -> None:
    config = tmp_path / "fw.toml"
    config.write_text('[database]\nurl = "sqlite:///fw.db"\n', encoding="utf-8")
    assert "alembic" in top_level(loaded_by("history", "--config", str(config), cwd=tmp_path))
    assert "alembic" not in top_level(loaded_by("history", "--config", str(config), cwd=tmp_path))


def test_check_config_reads_geojson_fences_without_geopandas(tmp_path: Path) -> None:
    loaded = top_level(loaded_by("check-config", cwd=tmp_path))
    assert "shapely" in loaded  # the Belarus fence was loaded
    assert loaded & {"geopandas", "pandas", "pyogrio"} == set()
