"""Fixtures for the web tests: a database filled by replaying captures, a real
``flightwatch serve`` on loopback, and a real headless Chromium."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from browser import Page, chromium
from site_helpers import (
    DEMO,
    OTHER_ICAO,
    XSS,
    XSS_ICAO,
    Site,
    sbs_line,
    start_serve,
    stop,
    write_config,
)

from flightwatch.daemon.replay import replay_files
from flightwatch.settings import load_settings


@pytest.fixture(scope="module")
def demo_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The demo capture replayed into SQLite, then a capture of now: a watched aircraft
    over Minsk whose callsign is markup, and an unwatched one beside it."""
    folder = tmp_path_factory.mktemp("web")
    config = write_config(folder)
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    capture = folder / "now.sbs"
    with capture.open("w", encoding="utf-8") as out:
        for second in range(0, 60, 5):
            when = now + timedelta(seconds=second)
            out.write(sbs_line(XSS_ICAO, when, 53.90, 27.40 + second / 600, XSS))
            out.write(sbs_line(OTHER_ICAO, when, 53.70, 27.90 + second / 600, "DLH12A"))
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("FLIGHTWATCH_DATABASE_URL", raising=False)
        settings = load_settings(config)
        replay_files(settings, [DEMO])
        replay_files(settings, [capture], fmt="sbs")
        yield config


@pytest.fixture(scope="module")
def site(demo_config: Path) -> Iterator[Site]:
    served = start_serve(demo_config)
    try:
        yield served
    finally:
        stop(served.process)


@pytest.fixture
def page(tmp_path: Path, executable: Callable[[str, str], str]) -> Iterator[Page]:
    with chromium(executable("chromium", "chromium"), tmp_path / "profile") as tab:
        yield tab
