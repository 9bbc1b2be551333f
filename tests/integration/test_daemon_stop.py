"""SIGTERM stops ``flightwatch run`` within 5 s, whatever its sources and servers do.

Each test runs the daemon as a real process against real local servers that misbehave
(:class:`StuckServer`): an aggregator that trickles its answer a byte every 2 s or never
answers at all, a receiver feed that goes quiet and never closes, an SMTP server that
accepts and never speaks, and a database another process holds locked. The stop must
take less than 5 s from the signal and say what it could not do; with the database
locked the last batch cannot be written: the daemon says so and exits 1.
"""

from __future__ import annotations

import signal
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from integration.daemon_helpers import (
    EXIT_WITHIN_S,
    FIRST,
    DaemonProcess,
    PacedFeed,
    SmtpSink,
    StuckServer,
    alerts_config,
    count,
    daemon,
    free_port,
    over_minsk,
    poll,
    sqlite_value,
    traffic,
    wait_connected,
    write_config,
)
from integration.dump1090 import Dump1090Ports

from flightwatch.daemon.jobs import DaemonThreadExecutor

pytestmark = pytest.mark.integration

NEVER_COMMIT = 'batch_seconds = "1h"\nbatch_rows = 1000000\n'
#: An HTTP answer whose body never ends: 100 kB announced, a byte every 2 s.
TRICKLE = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
           b"Content-Length: 100000\r\n\r\n")


def aggregator(port: int) -> str:
    """An aircraft_json source polled every 5 s with the default 10 s read timeout and
    60 s deadline: a poll stuck on its server outlasts any stop."""
    return (f'[[sources]]\ntype = "aircraft_json"\nurl = "http://127.0.0.1:{port}/aircraft.json"\n'
            'interval = "5s"\n\n')


def stopped_in(running: DaemonProcess, expected_code: int = 0) -> float:
    """SIGTERM; the exit code must be ``expected_code``; the seconds the stop took."""
    signalled = running.send(signal.SIGTERM)
    code = running.wait(timeout=30)
    took = time.monotonic() - signalled
    assert code == expected_code, running.log
    assert "Traceback" not in running.log
    return took


@pytest.mark.parametrize(("greeting", "trickle"), [(TRICKLE, b"[" * 100), (b"", b"")],
                         ids=["trickling", "silent"])
def test_an_aggregator_poll_stuck_on_its_server(tmp_path: Path, greeting: bytes,
                                                trickle: bytes) -> None:
    with StuckServer() as feed, StuckServer(greeting, trickle, every=2.0) as server:
        config = write_config(tmp_path, feed.port, extra=aggregator(server.port))
        with daemon(config) as running:
            running.wait_for("flightwatch running")
            poll(lambda: server.connections >= 1 and server.sent >= len(greeting) + (
                1 if trickle else 0), "a poll under way on the stuck server")
            took = stopped_in(running)
    assert took < EXIT_WITHIN_S, running.log
    # The daemon stopped the poll: the source did not fail, and says nothing of it.
    assert not running.matching(r"aircraft_json: failing"), running.log


def test_a_receiver_feed_that_goes_quiet_and_never_closes(tmp_path: Path) -> None:
    with StuckServer() as feed:
        config = write_config(tmp_path, feed.port)
        with daemon(config) as running:
            running.wait_for("flightwatch running")
            poll(lambda: feed.connections >= 1, "the daemon connected to the feed")
            took = stopped_in(running)
    assert took < EXIT_WITHIN_S, running.log


def test_an_smtp_server_that_accepts_and_never_answers(
    dump1090: Dump1090Ports, tmp_path: Path
) -> None:
    """The mail being sent is left in the outbox and goes out at the next start, once."""
    with StuckServer() as smtp:
        mail = alerts_config(smtp.port).replace('timeout = "3s"', 'timeout = "60s"')
        config = write_config(tmp_path, dump1090.beast_out, extra=mail)
        db = tmp_path / "fw.db"
        feed = PacedFeed(over_minsk(FIRST, 8))
        with daemon(config) as running:
            running.wait_for("flightwatch running")
            wait_connected(dump1090, dump1090.beast_out)
            feed.push(dump1090)
            poll(lambda: smtp.connections >= 1, "the outbox job stuck on the SMTP server")
            took = stopped_in(running)
    assert took < EXIT_WITHIN_S, running.log
    assert sqlite_value(db, "SELECT status FROM outbox") == "pending"

    port = free_port()  # the mail server is mended (moved, here)
    write_config(tmp_path, dump1090.beast_out, extra=alerts_config(port))
    with SmtpSink(port) as sink, daemon(config) as second:
        second.wait_for("flightwatch running")
        poll(lambda: len(sink.messages) == 1, "the pending mail delivered")
        stopped_in(second)
    assert len(sink.messages) == 1
    assert sqlite_value(db, "SELECT status FROM outbox") == "sent"


def test_a_locked_database_loses_the_last_batch_says_so_and_exits_1(
    dump1090: Dump1090Ports, tmp_path: Path
) -> None:
    feed = PacedFeed(traffic(5, 6, FIRST))
    config = write_config(tmp_path, dump1090.beast_out, database=NEVER_COMMIT)
    db = tmp_path / "fw.db"
    with daemon(config) as running:
        running.wait_for("flightwatch running")
        wait_connected(dump1090, dump1090.beast_out)
        feed.push(dump1090)
        time.sleep(1.0)  # decoded: held in memory, as nothing commits before the stop
        holder = sqlite3.connect(db, isolation_level=None, timeout=30)
        holder.execute("BEGIN IMMEDIATE")  # another process's write transaction
        try:
            took = stopped_in(running, expected_code=1)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
    assert took < EXIT_WITHIN_S, running.log
    lost = running.wait_for(r"the last batch could NOT be written")[0]
    assert "positions and" in lost and " 0 positions" not in lost, lost
    assert count(db) == 0
    assert sqlite_value(db, "PRAGMA integrity_check") == "ok"


def test_a_job_stuck_in_a_call_leaves_no_thread_that_holds_the_exit() -> None:
    """What the daemon's scheduler runs lives in daemon threads: the interpreter does not
    wait for them at exit (a thread pool's workers it would join)."""
    from apscheduler.schedulers.background import BackgroundScheduler

    executor = DaemonThreadExecutor()
    scheduler = BackgroundScheduler(executors={"default": executor})
    release = threading.Event()
    started = threading.Event()

    def stuck() -> None:
        started.set()
        release.wait(30)

    scheduler.add_job(stuck, "date")
    scheduler.start()
    try:
        assert started.wait(10)
        # The scheduler drops a one-off job just after handing it over: shut it down only
        # then, or its loop meets a job the shutdown removed (a race of the test's own).
        deadline = time.monotonic() + 10
        while scheduler.get_jobs() and time.monotonic() < deadline:
            time.sleep(0.01)
        scheduler.shutdown(wait=False)
        assert executor.join(0.2) == 1  # still under way, and waited for no longer
        jobs = [t for t in threading.enumerate() if t.name.startswith("job:")]
        assert jobs and all(t.daemon for t in jobs)
    finally:
        release.set()
    assert executor.join(5) == 0
