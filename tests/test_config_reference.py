"""The README's configuration table is the settings table, rendered: they cannot drift."""

from __future__ import annotations

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_readme_lists_every_key_with_its_default() -> None:
    spec = importlib.util.spec_from_file_location("config_reference",
                                                  REPO / "tools" / "config_reference.py")
    assert spec is not None and spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert tool.readme_with_reference(readme) == readme, (
        "README's configuration table is stale: run python tools/config_reference.py --write"
    )
    assert "| `alerts.cooldown` | 6h |" in readme
