"""CLI fixtures: a config file pointing at a fresh SQLite database."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "flightwatch.toml"
    path.write_text('[database]\nurl = "sqlite:///fw.db"\n', encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _no_database_override(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's FLIGHTWATCH_DATABASE_URL must not point the tests at a real database."""
    monkeypatch.delenv("FLIGHTWATCH_DATABASE_URL", raising=False)
