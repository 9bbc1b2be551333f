"""CLI fixtures: a config file pointing at a fresh SQLite database; the demo, replayed."""

from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path

import pytest
from cli_helpers import DEMO_CAPTURE, DEMO_CONFIG, REPO, Demo


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "flightwatch.toml"
    path.write_text('[database]\nurl = "sqlite:///fw.db"\n', encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _no_database_override(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's FLIGHTWATCH_DATABASE_URL must not point the tests at a real database."""
    monkeypatch.delenv("FLIGHTWATCH_DATABASE_URL", raising=False)


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    from flightwatch.cli import main

    folder = tmp_path_factory.mktemp("demo")
    (folder / "config").mkdir()
    shutil.copy(REPO / "config" / "demo.toml", folder / "config" / "demo.toml")
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(printed):
        patch.delenv("FLIGHTWATCH_DATABASE_URL", raising=False)
        patch.chdir(folder)
        assert main(["replay", "--config", DEMO_CONFIG, str(DEMO_CAPTURE)]) == 0
    return Demo(folder, printed.getvalue())


@pytest.fixture
def in_demo(demo: Demo, monkeypatch: pytest.MonkeyPatch) -> Demo:
    """The demo, with the current folder its folder."""
    monkeypatch.chdir(demo.folder)
    return demo
