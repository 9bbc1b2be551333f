"""What ``flightwatch --help`` and the query commands load: only what they use.

A Raspberry Pi has little memory and every command is a fresh process, so the heavy
libraries load only in the commands that need them. Checked in a subprocess (a fresh
interpreter) through ``sys.modules``: behaviour, not timing (benchmarks/startup.py
measures the time and memory).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

#: Never needed to print help or read the database.
HEAVY = {
    "alembic", "apprise", "apscheduler", "geopandas", "numpy", "pandas", "paho",
    "prometheus_client", "pyModeS", "pyogrio", "pyproj", "requests", "shapely", "starlette",
    "tqdm", "uvicorn",
}
PROBE = """
import contextlib, io, json, sys
from flightwatch.cli.main import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main(sys.argv[1:])
    except SystemExit:
        pass
print(json.dumps(sorted(sys.modules)))
"""


def loaded_by(*args: str, cwd: Path) -> set[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("FLIGHTWATCH_DATABASE_URL", None)
    out = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=cwd, env=env, check=True,
                         capture_output=True, text=True, timeout=60).stdout
    return set(json.loads(out.splitlines()[-1]))


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


@pytest.mark.parametrize("command", [
    ["history"], ["alerts"], ["flights"], ["watchlist", "list"], ["status"], ["airports", "list"],
])
def test_query_commands_load_no_migration_tool_and_no_pipeline(
    command: list[str], database: Path
) -> None:
    loaded = loaded_by(*command, "--config", str(database), cwd=database.parent)
    assert "sqlalchemy" in top_level(loaded)  # they did read the database
    assert top_level(loaded) & HEAVY == set()


def test_a_database_behind_loads_alembic_and_is_upgraded(tmp_path: Path) -> None:
    config = tmp_path / "fw.toml"
    config.write_text('[database]\nurl = "sqlite:///fw.db"\n', encoding="utf-8")
    assert "alembic" in top_level(loaded_by("history", "--config", str(config), cwd=tmp_path))
    assert "alembic" not in top_level(loaded_by("history", "--config", str(config), cwd=tmp_path))


def test_check_config_reads_geojson_fences_without_geopandas(tmp_path: Path) -> None:
    loaded = top_level(loaded_by("check-config", cwd=tmp_path))
    assert "shapely" in loaded  # the Belarus fence was loaded
    assert loaded & {"geopandas", "pandas", "pyogrio"} == set()
