"""Reading a live source in tests: take a number of records, then stop; never hang."""

from __future__ import annotations

import threading

from flightwatch.collector import Source
from flightwatch.decoder import Frame, Observation


def collect(source: Source, count: int, timeout: float = 10.0) -> list[Frame | Observation]:
    """The records until ``count`` have come and ``stop()`` ended the source (the rest of
    the read in hand comes too); whatever came if ``timeout`` passes first."""
    watchdog = threading.Timer(timeout, source.stop)
    watchdog.start()
    got: list[Frame | Observation] = []
    try:
        for record in source:
            got.append(record)
            if len(got) == count:
                source.stop()
    finally:
        watchdog.cancel()
    return got
