"""``flightwatch run`` against what a home network does: a receiver feed that drops and
comes back, an SMTP server that is down for a while, a database another process locks.

Each time the daemon (a real process, fed by a real dump1090) waits and retries, loses
nothing, and says so in one log line per change of state rather than one per attempt.
Positions are checked against a direct replay of exactly the frames pushed.
"""

from __future__ import annotations

import signal
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from integration.daemon_helpers import (
    FIRST,
    PacedFeed,
    Receiver,
    SmtpSink,
    alerts_config,
    count,
    daemon,
    free_port,
    len_rows,
    merge,
    outbox_status,
    over_minsk,
    poll,
    reference_positions,
    stored_positions,
    tracks,
    traffic,
    wait_connected,
    wait_delivered,
    write_config,
)
from integration.dump1090 import Dump1090Ports

pytestmark = pytest.mark.integration

COMMIT_OFTEN = 'batch_seconds = "0.3s"\nbatch_rows = 4\n'
WARM_UP_S = 3.0  # positions from the first second on, and some more


def test_feed_dropped_and_restored_repeatedly(dump1090_binary: str, tmp_path: Path) -> None:
    feed = PacedFeed(traffic(10, 40, FIRST))
    # (how the feed goes, seconds it stays down) before each further segment of traffic
    drops = [(signal.SIGTERM, 0.0), (signal.SIGKILL, 1.5), (signal.SIGTERM, 0.0)]
    with Receiver(dump1090_binary) as receiver:
        ports = receiver.ports
        config = write_config(tmp_path, ports.beast_out, database=COMMIT_OFTEN)
        db = tmp_path / "fw.db"
        with daemon(config) as running:
            running.wait_for("flightwatch running")
            for segment in range(len(drops) + 1):
                if segment:
                    how, down_s = drops[segment - 1]
                    receiver.down(how)
                    running.wait_for("connection lost", count=segment)
                    time.sleep(down_s)
                    receiver.start()
                running.wait_for(r"connected to", count=segment + 1)
                wait_connected(ports, ports.beast_out)
                feed.push(ports, until=feed.now() + 2.0 if segment else FIRST + WARM_UP_S)
                wait_delivered(ports.beast_in)
                wait_delivered(ports.beast_out)
            reference = reference_positions(config, feed.sent_frames(), tmp_path / "ref")
            poll(lambda: count(db) == len_rows(reference), f"{len_rows(reference)} positions")
            running.send(signal.SIGTERM)
            assert running.wait(timeout=30) == 0, running.log

    assert tracks(stored_positions(db)) == tracks(reference)
    assert sum(len(t) for t in tracks(reference).values()) >= 10 * (2 + len(drops))
    # One line per change of state: lost, then connected again (no line per attempt).
    source = r"collector\.tcp: beast:"
    assert len(running.matching(source + r".*connection lost")) == len(drops), running.log
    assert len(running.matching(source + r".*connected to")) == len(drops) + 1, running.log
    assert len(running.matching(source)) == 2 * len(drops) + 1, running.log
    assert running.matching(r"connected to .* after \d+ retries"), running.log  # the 1.5 s
    assert "Traceback" not in running.log


def test_smtp_down_for_a_while_mail_delivered_once(
    dump1090: Dump1090Ports, tmp_path: Path
) -> None:
    smtp_port = free_port()  # nothing listens there yet
    feed = PacedFeed(merge(traffic(3, 30, FIRST), over_minsk(FIRST, 30)))
    config = write_config(tmp_path, dump1090.beast_out, database=COMMIT_OFTEN,
                          extra=alerts_config(smtp_port))
    db = tmp_path / "fw.db"
    stop_pushing = threading.Event()
    with daemon(config) as running:
        running.wait_for("flightwatch running")
        wait_connected(dump1090, dump1090.beast_out)
        pusher = threading.Thread(target=feed.push, args=(dump1090,),
                                  kwargs={"stop": stop_pushing})
        pusher.start()
        try:
            # The log line, not the attempts counter: an attempt is counted before the
            # connection is tried, so a server started then would take the first attempt.
            running.wait_for(r"email notifications failing")
            assert [s for _c, s, _a in outbox_status(db)] == ["pending"]
            with SmtpSink(smtp_port) as smtp:
                poll(lambda: [s for _c, s, _a in outbox_status(db)] == ["sent"],
                     "the mail delivered once the server is up", timeout=20)
                running.send(signal.SIGTERM)  # shutdown delivers what is due: not this again
                assert running.wait(timeout=30) == 0, running.log
        finally:
            stop_pushing.set()
            pusher.join()

    assert len(smtp.messages) == 1
    assert "RA-96016" in str(smtp.messages[0]["Subject"])
    assert count(db, "alerts") == 1
    assert len(running.matching(r"email notifications failing")) == 1, running.log
    assert len(running.matching(r"email notifications recovered")) == 1, running.log
    assert "Traceback" not in running.log


# Longer than two of the daemon's 2 s busy timeouts in a row: the flights writer, in the
# same thread, may be the one that waits first, then the positions writer.
LOCK_S = 6.0


def test_database_locked_by_another_process(dump1090: Dump1090Ports, tmp_path: Path) -> None:
    feed = PacedFeed(traffic(10, 40, FIRST))
    config = write_config(tmp_path, dump1090.beast_out, database=COMMIT_OFTEN)
    db = tmp_path / "fw.db"
    with daemon(config) as running:
        running.wait_for("flightwatch running")
        wait_connected(dump1090, dump1090.beast_out)
        feed.push(dump1090, until=FIRST + WARM_UP_S)
        poll(lambda: count(db) > 0, "positions stored before the lock")

        # Someone else's write transaction (sqlite3 shell, a bulk import) holds the lock.
        holder = sqlite3.connect(db, isolation_level=None, timeout=30)
        holder.execute("BEGIN IMMEDIATE")
        locked_at = time.monotonic()
        before = count_with(holder)  # counted under the lock: a commit may land just before it
        feed.push(dump1090, until=FIRST + WARM_UP_S + LOCK_S)
        assert count_with(holder) == before  # nothing got in while locked
        holder.execute("COMMIT")
        holder.close()
        assert time.monotonic() - locked_at >= LOCK_S - 0.5

        feed.push(dump1090, until=FIRST + WARM_UP_S + LOCK_S + 2)
        wait_delivered(dump1090.beast_out)
        reference = reference_positions(config, feed.sent_frames(), tmp_path / "ref")
        poll(lambda: count(db) == len_rows(reference), f"{len_rows(reference)} positions")
        running.send(signal.SIGTERM)
        assert running.wait(timeout=30) == 0, running.log

    assert tracks(stored_positions(db)) == tracks(reference)  # nothing lost, nothing twice
    # One clear line when writes start failing, one when they work again; no per-retry noise.
    failed = running.matching(r"WARNING flightwatch\.db\.store: database write failed, keeping "
                              r"\d+ positions in memory and retrying: database is locked")
    recovered = running.matching(r"WARNING flightwatch\.db\.store: database writes recovered")
    # One pair for the lock; on a loaded machine one more pair is possible, when the
    # daemon's own outbox job holds the write lock for longer than the busy timeout.
    assert 1 <= len(failed) <= 2 and len(recovered) == len(failed), running.log
    # Other writers say the same once each at most: the outbox job and the flights writer
    # may hit the lock too (which of them does depends on timing).
    others = [line for line in running.matching(r"WARNING|ERROR")
              if "db.store" not in line and "apscheduler" not in line]
    outbox = [line for line in others if "outbox: database unavailable" in line]
    flights_failed = [line for line in others if "flights: database write failed" in line]
    flights_back = [line for line in others if "flights: database writes recovered" in line]
    assert len(outbox) + len(flights_failed) + len(flights_back) == len(others), running.log
    assert len(outbox) <= 1 and len(flights_failed) <= 1, running.log
    assert len(flights_back) == len(flights_failed), running.log
    assert "Traceback" not in running.log


def count_with(con: sqlite3.Connection) -> int:
    """Positions committed, read on ``con`` (which may hold the write lock)."""
    return int(con.execute(
        "SELECT (SELECT coalesce(sum(positions), 0) FROM position_chunks)"
        " + (SELECT coalesce(sum(positions), 0) FROM position_log)").fetchone()[0])
