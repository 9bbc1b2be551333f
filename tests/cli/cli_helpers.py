"""Running the CLI in process from tests."""

from __future__ import annotations

import pytest

from flightwatch.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``flightwatch ARGV...``: exit code, stdout, stderr."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err
