"""A command that could not store what it read says so and exits 1: ``replay`` and
``import`` onto a full disk, ``run`` stopped by SIGTERM with positions it could not write.
``import`` records a file as imported only once everything from it is committed, so the
same command run again, with room on the disk, imports it.

The disk is a real one that fills up: a 6 MB tmpfs mounted for the test (as root; the
test is skipped, saying so, where that is not allowed), the SQLite database on it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random

import pytest
from cli.cli_helpers import run
from integration.daemon_helpers import DaemonProcess, free_port
from stored_positions import stored_count

FIRST = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
AIRCRAFT = ["4B1801", "4B1802", "4B1803", "4B1804", "4B1805"]


def sbs_capture(path: Path, positions: int, first: datetime = FIRST) -> int:
    """Five aircraft, ``positions`` each 10 s apart (every one stored); how many in all.

    Positions are stored compressed as deltas, so a steady track would take almost
    nothing: each position wanders (a seeded random walk of altitude, speed and
    longitude), and 20,000 take about 400 KB, more than the disk has left."""
    rng = Random(20240501)
    with path.open("w", encoding="utf-8") as out:
        for i in range(positions):
            when = first + timedelta(seconds=10 * i)
            day, clock = when.strftime("%Y/%m/%d"), when.strftime("%H:%M:%S.000")
            for n, icao in enumerate(AIRCRAFT):
                out.write(",".join(["MSG", "3", "1", "1", icao, "1", day, clock, day, clock,
                                    f"SWR{n}", str(30000 + 25 * rng.randrange(-40, 40)),
                                    str(rng.randrange(400, 500)), str(rng.randrange(0, 360)),
                                    f"{53 + n + i / 1000:.5f}",
                                    f"{27.5 + rng.uniform(-0.01, 0.01):.5f}", "0", "", "", "",
                                    "", "0"]) + "\n")
    return positions * len(AIRCRAFT)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 6 MB filesystem of its own, unmounted afterwards."""
    mount = shutil.which("mount")
    if os.geteuid() != 0 or mount is None:
        pytest.skip("a full disk needs a filesystem of its own: mounting a small tmpfs "
                    "needs root (and mount)")
    folder = tmp_path / "disk"
    folder.mkdir()
    done = subprocess.run([mount, "-t", "tmpfs", "-o", "size=6m,mode=0755", "tmpfs",
                           str(folder)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(disk: Path, leave: int = 32 * 1024) -> Path:
    """Take every free byte of ``disk`` but ``leave`` (what opening the database and
    reading its schema needs, not what a batch of positions needs); the file that does it
    (delete it to free them)."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for size in (65536, 4096, 512, 1):  # down to the last byte
            block = b"\0" * size
            while True:
                try:
                    os.write(fd, block)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC
                    break
        os.ftruncate(fd, max(0, os.fstat(fd).st_size - leave))
    finally:
        os.close(fd)
    return filler


def positions(db: Path) -> int:
    return stored_count(db)


@pytest.fixture
def config(small_disk: Path, tmp_path: Path) -> Path:
    path = tmp_path / "fw.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{small_disk / "fw.db"}"\n'
                    '[status]\ninterval = "1h"\n', encoding="utf-8")
    return path


@contextlib.contextmanager
def used_and_open(config: Path, tmp_path: Path,
                  capsys: pytest.CaptureFixture[str]) -> Iterator[None]:
    """The database made and used (schema, watchlist) while there was room, and kept open
    by a reader, as ``flightwatch serve`` or the daemon keep it: its write-ahead log
    exists, so a writer gets as far as its first commit before the disk is found full."""
    first = tmp_path / "first.sbs"
    sbs_capture(first, 2, first=FIRST - timedelta(days=1))
    code, _out, err = run(capsys, "replay", "--config", str(config), "--format", "sbs",
                          "--no-progress", str(first))
    assert code == 0, err
    database = config.read_text().split("sqlite:///")[1].split('"')[0]
    with contextlib.closing(sqlite3.connect(database)) as reader:
        reader.execute("SELECT COUNT(*) FROM position_log").fetchall()  # no snapshot kept
        yield


@dataclass
class Refused:
    capture: Path
    read: int  # positions in the capture
    stored_before: int
    filler: Path


def refused_on_a_full_disk(command: list[str], config: Path, small_disk: Path,
                           tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Refused:
    """``flightwatch COMMAND`` of a 20,000-position capture once the disk is full: exit 1,
    nothing stored, and the summary says so."""
    capture = tmp_path / "feed.sbs"
    read = sbs_capture(capture, 4000)
    with used_and_open(config, tmp_path, capsys):
        stored_before = positions(small_disk / "fw.db")
        filler = fill(small_disk)
        code, out, err = run(capsys, *command, "--config", str(config), "--no-progress",
                             str(capture))
    assert code == 1, err
    assert " 0 positions stored" in out and f"NOT stored: {read:,} positions" in out
    assert positions(small_disk / "fw.db") == stored_before
    return Refused(capture, read, stored_before, filler)


def test_replay_onto_a_full_disk_says_what_was_not_stored_and_exits_1(
        config: Path, small_disk: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    refused_on_a_full_disk(["replay", "--format", "sbs"], config, small_disk, tmp_path, capsys)


def test_import_onto_a_full_disk_records_nothing_as_imported(
        config: Path, small_disk: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    refused = refused_on_a_full_disk(["import", "--alerts", "none"], config, small_disk,
                                     tmp_path, capsys)

    refused.filler.unlink()  # room again: the same command imports the file
    code, out, err = run(capsys, "import", "--alerts", "none", "--config", str(config),
                         "--no-progress", str(refused.capture))
    assert code == 0, err
    assert "1 file(s) imported, 0 already imported" in out
    assert positions(small_disk / "fw.db") == refused.stored_before + refused.read


def test_run_stopped_with_positions_it_could_not_write_exits_1(
        config: Path, small_disk: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    config.write_text(config.read_text().replace("[status]", 'batch_seconds = "1s"\n[status]')
                      + '[tracker]\nstore_interval = "0s"\n'
                      f'[[sources]]\ntype = "sbs"\nhost = "127.0.0.1"\nport = {port}\n',
                      encoding="utf-8")
    stop = threading.Event()
    with used_and_open(config, tmp_path, capsys), \
            socket.create_server(("127.0.0.1", port)) as server:
        fill(small_disk)
        server.settimeout(60)
        process = DaemonProcess(config)
        try:
            client, _ = server.accept()
            feeder = threading.Thread(target=_feed_live, args=(client, stop), daemon=True)
            feeder.start()
            process.wait_for("flightwatch running", timeout=60)
            process.wait_for(r"database write failed", timeout=120)
            process.send(signal.SIGTERM)
            assert process.wait(30) == 1
        finally:
            stop.set()
            process.stop()
    (line,) = process.matching("flightwatch stopped")
    assert "NOT stored:" in line and "positions" in line


def _feed_live(client: socket.socket, stop: threading.Event) -> None:
    """A BaseStation feed of now, five aircraft, until stopped."""
    with client:
        i = 0
        while not stop.is_set():
            when = datetime.now(UTC)
            day, clock = when.strftime("%Y/%m/%d"), when.strftime("%H:%M:%S.000")
            lines = [",".join(["MSG", "3", "1", "1", icao, "1", day, clock, day, clock, "SWR1",
                               "30000", "450", "90", f"{53 + n + i / 10000:.5f}", "27.5", "0",
                               "", "", "", "", "0"]) + "\n" for n, icao in enumerate(AIRCRAFT)]
            try:
                client.sendall("".join(lines).encode())
            except OSError:
                return
            i += 1
            stop.wait(0.5)
