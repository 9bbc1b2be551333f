"""Fixtures shared by every test: test data beside the repo, real programs on loopback.

Outside CI a missing program or service skips its tests with the reason; with CI=true
it fails them, because .ci/run installs everything and a skip there would hide a gap.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn

import pytest
from integration.dump1090 import BINARY, Dump1090Ports, run_dump1090
from integration.mosquitto import Broker, Subscriber, find_mosquitto

SHARED_DIR = Path(__file__).resolve().parents[1].parent / "shared"
DATA_DIR = Path(__file__).resolve().parent / "data"  # copies of what the licences allow


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def unavailable(reason: str) -> NoReturn:
    """Skip the test, or fail it under CI=true."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: .ci/run must provide it)", pytrace=False)
    pytest.skip(reason)


def _files_in(*folders: Path) -> Callable[[str], Path]:
    """``name`` -> path of a file in the first of ``folders`` that has it; the test
    skips when none has it."""

    def path(name: str) -> Path:
        for folder in folders:
            found = folder / name
            if found.is_file():
                return found
        pytest.skip(f"test data {name} is in none of {', '.join(map(str, folders))} "
                    "(tests/data/README.md says why some files are not copied)")

    return path


@pytest.fixture(scope="session")
def capture() -> Callable[[str], Path]:
    """``capture("lax_avr_742.txt")`` -> path of a recording in tests/data/captures,
    else in shared/data/captures."""
    return _files_in(DATA_DIR / "captures", SHARED_DIR / "data" / "captures")


@pytest.fixture(scope="session")
def watchlist_data() -> Callable[[str], Path]:
    """``watchlist_data("raw/plane-alert-db.csv")`` -> path in tests/data/watchlist,
    else in shared/data/watchlist."""
    return _files_in(DATA_DIR / "watchlist", SHARED_DIR / "data" / "watchlist")


@pytest.fixture(scope="session")
def geo_data() -> Callable[[str], Path]:
    """``geo_data("ourairports_runways_world.csv")`` -> path in tests/data/geo, else in
    shared/data/geo."""
    return _files_in(DATA_DIR / "geo", SHARED_DIR / "data" / "geo")


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """SQLAlchemy URL of a scratch PostgreSQL database that tests may fill (.ci/run makes it)."""
    url = os.environ.get("FLIGHTWATCH_TEST_POSTGRES_URL")
    if not url:
        unavailable("FLIGHTWATCH_TEST_POSTGRES_URL is not set (no PostgreSQL to test against)")
    return url


@pytest.fixture(scope="session")
def executable() -> Callable[[str, str], str]:
    """``executable("systemd-analyze", "systemd")`` -> path of a program on PATH; skips
    (fails under CI=true) naming the Debian package when it is missing."""

    def find(name: str, package: str) -> str:
        path = shutil.which(name)
        if path is None:
            unavailable(f"{name} is not installed (apt-get install {package})")
        return path

    return find


@pytest.fixture(scope="session")
def dump1090_binary(executable: Callable[[str, str], str]) -> str:
    return executable(BINARY, "dump1090-mutability")


@pytest.fixture
def dump1090(request: pytest.FixtureRequest, dump1090_binary: str) -> Iterator[Dump1090Ports]:
    """A fresh dump1090-mutability on free loopback ports (tests/integration/dump1090.py).

    Options of ``run_dump1090`` go through indirect parametrisation:
    ``@pytest.mark.parametrize("dump1090", [{"heartbeat_s": 0.2}], indirect=True)``.
    """
    options = getattr(request, "param", {})
    with run_dump1090(dump1090_binary, **options) as ports:
        yield ports


@pytest.fixture(scope="session")
def httpserver_listen_address() -> tuple[str, int]:
    """pytest-httpserver on 127.0.0.1 for every test (not whatever ``localhost`` resolves to)."""
    return ("127.0.0.1", 0)


@pytest.fixture
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Broker]]:
    """``mosquitto(users={"fw": "secret"}, tls=(cert, key))``: a started broker on a free
    loopback port (tests/integration/mosquitto.py); stopped after the test."""
    binary = find_mosquitto()
    if binary is None:
        unavailable("mosquitto is not installed (apt-get install mosquitto)")
    brokers: list[Broker] = []

    def start(users: dict[str, str] | None = None,
              tls: tuple[Path, Path] | None = None) -> Broker:
        broker = Broker(binary, tmp_path_factory.mktemp("mosquitto"), users, tls)
        brokers.append(broker)
        broker.start()
        return broker

    yield start
    for broker in brokers:
        broker.stop()


@pytest.fixture
def mqtt_subscriber() -> Iterator[Callable[..., Subscriber]]:
    """``mqtt_subscriber(port, "topic/#", ...)``: a subscribed client recording messages."""
    started: list[Subscriber] = []

    def start(port: int, *topics: str) -> Subscriber:
        subscriber = Subscriber(port, topics).start()
        started.append(subscriber)
        return subscriber

    yield start
    for subscriber in started:
        subscriber.stop()
