"""``rtl_adsb`` as a child process: AVR lines on its stdout, restarted when it dies.

Frames are stamped with the wall-clock time of the read that completed them.
A dongle pulled out makes ``rtl_adsb`` exit; it is restarted with exponential
backoff, logging when it dies and when it delivers frames again, not each attempt.
"""

from __future__ import annotations

import collections
import logging
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO

from flightwatch.collector.source import Backoff, CollectorError, Framer
from flightwatch.decoder import Frame, Observation

log = logging.getLogger(__name__)

DEFAULT_COMMAND: tuple[str, ...] = ("rtl_adsb",)
_READ_BYTES = 64 * 1024
_STDERR_LINES = 5


class ExecutableNotFoundError(CollectorError, FileNotFoundError):
    """The receiver program is not installed or not on ``PATH``."""


class RtlAdsbSource:
    """``rtl_adsb`` (or any program printing AVR lines) as a :class:`collector.Source`.

    ``command`` is the argv, e.g. ``["rtl_adsb", "-d", "1"]``. Raises
    :class:`ExecutableNotFoundError` at construction when ``command[0]`` cannot
    be found, so a bad configuration fails at start-up.
    """

    def __init__(
        self,
        command: Sequence[str] = DEFAULT_COMMAND,
        *,
        name: str = "rtl_adsb",
        backoff_initial: float = 1.0,
        backoff_max: float = 60.0,
    ) -> None:
        if not command:
            raise ValueError("rtl_adsb command is empty")
        self.command = list(command)
        self.name = name
        _require_executable(self.command[0])
        self._framer = Framer("avr", name)
        self._backoff = Backoff(backoff_initial, backoff_max)
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def stats(self) -> Mapping[str, int]:
        return dict(self._framer.counter)

    def stop(self) -> None:
        """Terminate the child; iteration ends once its stdout closes."""
        self._stopped.set()
        with self._lock:
            if self._process is not None and self._process.poll() is None:
                self._process.terminate()

    def __iter__(self) -> Iterator[Frame | Observation]:
        started_before = False
        while not self._stopped.is_set():
            if started_before:
                self._framer.counter["reconnects"] += 1
            started_before = True
            stderr_tail: collections.deque[str] = collections.deque(maxlen=_STDERR_LINES)
            process, drain = self._spawn(stderr_tail)
            try:
                yield from self._read(process)
            finally:
                code = _reap(process)
                drain.join(1.0)
                with self._lock:
                    self._process = None
            if self._stopped.is_set():
                break
            level = logging.WARNING if self._backoff.failures == 0 else logging.DEBUG
            log.log(
                level,
                "%s: %s exited with code %s%s; restarting",
                self.name,
                self.command[0],
                code,
                f" ({' / '.join(stderr_tail)})" if stderr_tail else "",
            )
            self._stopped.wait(self._backoff.failed())

    def _spawn(
        self, stderr_tail: collections.deque[str]
    ) -> tuple[subprocess.Popen[bytes], threading.Thread]:
        try:
            process = subprocess.Popen(
                self.command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        except FileNotFoundError as exc:
            raise ExecutableNotFoundError(_not_found_message(self.command[0])) from exc
        assert process.stderr is not None
        drain = threading.Thread(
            target=_drain,
            args=(process.stderr, stderr_tail),
            name=f"{self.name}-stderr",
            daemon=True,
        )
        drain.start()
        with self._lock:
            self._process = process
        if self._stopped.is_set():  # stop() ran before the process was registered
            process.terminate()
        return process, drain

    def _read(self, process: subprocess.Popen[bytes]) -> Iterator[Frame | Observation]:
        assert process.stdout is not None
        fd = process.stdout.fileno()
        framer = self._framer
        while True:
            chunk = os.read(fd, _READ_BYTES)
            records = framer.feed(chunk, received=time.time()) if chunk else framer.finish()
            if records and self._backoff.failures:
                log.info("%s: receiving frames again", self.name)
            if records:
                self._backoff.succeeded()
            yield from records
            if not chunk:
                return


def _require_executable(program: str) -> None:
    found = shutil.which(program) if os.sep not in program else program
    if found is None or not os.access(found, os.X_OK):
        raise ExecutableNotFoundError(_not_found_message(program))


def _not_found_message(program: str) -> str:
    return (
        f"cannot run {program!r}: not found or not executable. Install rtl-sdr "
        f"(e.g. `apt install rtl-sdr`) or set `command` in the rtl_adsb [[sources]] entry"
    )


def _drain(stream: IO[bytes], tail: collections.deque[str]) -> None:
    """Keep the child's last stderr lines for the exit message; never let the pipe fill."""
    with stream:
        for line in stream:
            text = line.decode("utf-8", "replace").strip()
            if text:
                tail.append(text)


def _reap(process: subprocess.Popen[bytes]) -> int | None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout is not None:
        process.stdout.close()
    return process.returncode


#: USB ids of RTL2832U receivers (a subset of librtlsdr's known-devices table: the
#: generic Realtek ids and the common DVB-T sticks sold as ADS-B dongles).
RTL2832U_USB_IDS = frozenset({
    ("0bda", "2832"), ("0bda", "2838"), ("0413", "6680"), ("0413", "6f0f"),
    ("0458", "707f"), ("0ccd", "00a9"), ("0ccd", "00b3"), ("0ccd", "00d3"),
    ("0ccd", "00e0"), ("185b", "0620"), ("185b", "0650"), ("1b80", "d393"),
    ("1b80", "d394"), ("1b80", "d395"), ("1b80", "d39d"), ("1d19", "1101"),
    ("1d19", "1102"), ("1d19", "1103"), ("1f4d", "b803"), ("1f4d", "c803"),
})


def find_dongles(usb_devices: Path = Path("/sys/bus/usb/devices")) -> list[str]:
    """RTL-SDR dongles plugged in, as ``vendor:product`` ids read from sysfs (Linux)."""
    found = []
    for device in sorted(usb_devices.glob("*")):
        try:
            vendor = (device / "idVendor").read_text().strip().lower()
            product = (device / "idProduct").read_text().strip().lower()
        except OSError:
            continue
        if (vendor, product) in RTL2832U_USB_IDS:
            found.append(f"{vendor}:{product}")
    return found
