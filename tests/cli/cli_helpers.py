"""Running the CLI in process from tests; the demo's layout."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from flightwatch.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``flightwatch ARGV...``: exit code, stdout, stderr."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


REPO = Path(__file__).resolve().parents[2]
DEMO_CAPTURE = REPO / "config" / "samples" / "demo_minsk.tsv"
DEMO_CONFIG = "config/demo.toml"  # as the README types it, from the checkout's root


@dataclass(frozen=True)
class Demo:
    """The README's demo, replayed once in a folder laid out as a checkout: ``folder``
    holds ``config/demo.toml``, the database and ``outbox/``; ``printed`` is what the
    replay printed. Tests run commands from ``folder`` with ``--config`` DEMO_CONFIG."""

    folder: Path
    printed: str
