"""Shared fixtures for the aggregator tests: a fake clock, and the recorded answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data"


class FakeClock:
    """Monotonic and wall clock in one; ``sleep`` advances time and records the wait."""

    def __init__(self, start: float = 1000.0, wall_start: float = 1717430400.0) -> None:
        self.now = start
        self.wall_offset = wall_start - start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def wall(self) -> float:
        return self.now + self.wall_offset

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def recorded():
    """Loads a recorded or hand-built answer from data/ by file name."""

    def load(name: str) -> object:
        return json.loads((DATA / name).read_text())

    return load
