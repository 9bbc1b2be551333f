"""``flightwatch run`` as a real process fed by a real dump1090: what signals and crashes do.

- SIGTERM in the middle of a stream: every position decoded before the signal is in the
  database (nothing was committed before it, so the shutdown flush wrote them all), exit
  0 within 5 s; a restart on the same database goes on storing, SIGINT stops it the same.
- ``kill -9`` in the middle of a batch: the next start opens the database cleanly, no
  committed row is lost or written twice, and the mail the first run could not send
  (SMTP down) goes out once.
- SIGHUP: an address added with ``flightwatch watchlist add`` while the daemon runs is
  watched from then on.

"What was decoded" comes from an independent run: the frames pushed, replayed directly
through the same pipeline configuration into a fresh database (daemon_helpers).
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from integration.daemon_helpers import (
    EXIT_WITHIN_S,
    FIRST,
    REPO,
    WATCHED,
    PacedFeed,
    Positions,
    SmtpSink,
    Track,
    alerts_config,
    count,
    daemon,
    free_port,
    len_rows,
    merge,
    outbox_status,
    over_minsk,
    poll,
    query,
    reference_positions,
    sqlite_value,
    stored_positions,
    tracks,
    traffic,
    wait_connected,
    wal_bytes,
    write_config,
)
from integration.dump1090 import Dump1090Ports

pytestmark = pytest.mark.integration

PAGE = 4096
#: A frame pushed this long before the signal has surely been read by the daemon
#: (dump1090 forwards within milliseconds; the daemon decodes ~100 frames/s here).
READ_MARGIN_S = 2.0  # a loaded 2-vCPU machine may stall the reader for ~1 s
NEVER_COMMIT = 'batch_seconds = "1h"\nbatch_rows = 1000000\n'
COMMIT_OFTEN = 'batch_seconds = "0.3s"\nbatch_rows = 4\n'


def assert_prefixes(stored: dict[str, Track], reference: dict[str, Track]) -> None:
    """Each stored track is the start of the reference track: real positions, in order,
    none invented, none twice."""
    assert set(stored) <= set(reference)
    for icao, track in stored.items():
        assert track == reference[icao][: len(track)], icao


def assert_second_run_added(final: Positions, run1: Positions, run2_reference: Positions) -> None:
    """The final table is the first run's rows, every one unchanged, plus exactly what the
    second run's frames decode to: nothing lost, nothing twice, nothing invented."""
    assert len_rows(final) == len_rows(run1) + len_rows(run2_reference)
    added: dict[str, Track] = {}
    for icao, rows in final.items():
        kept = set(run1.get(icao, []))
        assert kept <= set(rows), icao
        new = [(lat, lon) for row in rows if row not in kept for _t, lat, lon in [row]]
        if new:
            added[icao] = new
    assert added == tracks(run2_reference)


def pushing(feed: PacedFeed, ports: Dump1090Ports) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(target=feed.push, args=(ports,), kwargs={"stop": stop})
    thread.start()
    return thread, stop


def pushed_up_to(feed: PacedFeed, t: float) -> bool:
    return bool(feed.sent) and feed.sent[-1].frame[0] >= t


def test_sigterm_writes_everything_decoded_and_a_restart_goes_on(
    dump1090: Dump1090Ports, tmp_path: Path
) -> None:
    feed = PacedFeed(traffic(20, 10, FIRST))
    config = write_config(tmp_path, dump1090.beast_out, database=NEVER_COMMIT)
    db = tmp_path / "fw.db"

    with daemon(config) as first:
        first.wait_for("flightwatch running")
        wait_connected(dump1090, dump1090.beast_out)
        pusher, stop_pushing = pushing(feed, dump1090)
        poll(lambda: pushed_up_to(feed, FIRST + 4.5), "4.5 s of traffic pushed")
        assert count(db) == 0  # all decoded so far is in memory: only shutdown writes it
        signalled = first.send(signal.SIGTERM)
        code = first.wait(timeout=30)  # the receiver keeps sending meanwhile
        exit_s = time.monotonic() - signalled
        stop_pushing.set()
        pusher.join()
        assert code == 0, first.log
        assert exit_s < EXIT_WITHIN_S, first.log
        stopped = first.wait_for("flightwatch stopped")[0]

    run1 = stored_positions(db)
    stored = tracks(run1)
    reference = tracks(reference_positions(config, feed.sent_frames(), tmp_path / "all"))
    surely_read = tracks(reference_positions(
        config, feed.sent_frames(before=signalled - READ_MARGIN_S), tmp_path / "before"))
    assert len(surely_read) == 20  # every aircraft had positions decoded well before
    assert_prefixes(stored, reference)
    for icao, track in surely_read.items():
        assert len(stored.get(icao, [])) >= len(track), icao
    written = re.search(r"(\d+) positions written", stopped)
    assert written and int(written.group(1)) == count(db)
    assert "Traceback" not in first.log
    assert wal_bytes(db) <= PAGE  # closed cleanly: the WAL was checkpointed into the file

    # A restart on the same database goes on; SIGINT (Ctrl-C) stops it like SIGTERM.
    write_config(tmp_path, dump1090.beast_out, database=COMMIT_OFTEN)
    with daemon(config) as second:
        second.wait_for("flightwatch running")
        wait_connected(dump1090, dump1090.beast_out)
        later = PacedFeed(traffic(20, 4, FIRST + 100))  # the same aircraft, a while later
        later.push(dump1090)
        run2_reference = reference_positions(config, later.sent_frames(), tmp_path / "run2")
        expected = len_rows(run1) + len_rows(run2_reference)
        poll(lambda: count(db) == expected, f"{expected} positions stored", timeout=20)
        signalled = second.send(signal.SIGINT)
        assert second.wait(timeout=30) == 0, second.log
        assert time.monotonic() - signalled < EXIT_WITHIN_S
        assert "Traceback" not in second.log
        assert wal_bytes(db) <= PAGE

    assert_second_run_added(stored_positions(db), run1, run2_reference)


def test_kill_9_mid_batch_then_a_clean_start_delivers_the_pending_mail(
    dump1090: Dump1090Ports, tmp_path: Path
) -> None:
    smtp_port = free_port()  # nothing listens there during the first run
    feed = PacedFeed(merge(traffic(10, 30, FIRST, seed=2), over_minsk(FIRST, 30)))
    config = write_config(tmp_path, dump1090.beast_out, database=COMMIT_OFTEN,
                          extra=alerts_config(smtp_port))
    db = tmp_path / "fw.db"

    with daemon(config) as first:
        first.wait_for("flightwatch running")
        wait_connected(dump1090, dump1090.beast_out)
        pusher, stop_pushing = pushing(feed, dump1090)
        poll(lambda: count(db, "alerts") == 1, "the watched aircraft's alert stored")
        before = count(db)
        poll(lambda: count(db) > before, "more positions committed")  # mid-stream
        first.process.kill()
        first.process.wait(10)
        stop_pushing.set()
        pusher.join()

    # Opening the file recovers the WAL: every committed row is there, consistent.
    assert sqlite_value(db, "PRAGMA integrity_check") == "ok"
    run1 = stored_positions(db)
    reference = tracks(reference_positions(config, feed.sent_frames(), tmp_path / "run1"))
    assert_prefixes(tracks(run1), reference)
    assert sum(map(len, run1.values())) >= before
    assert outbox_status(db) and all(s == "pending" for _c, s, _a in outbox_status(db))

    later = PacedFeed(traffic(10, 4, FIRST + 100, seed=2))  # without the watched aircraft
    with SmtpSink(smtp_port) as smtp, daemon(config) as second:
        second.wait_for("flightwatch running")
        poll(lambda: len(smtp.messages) >= 1, "the pending mail delivered", timeout=20)
        wait_connected(dump1090, dump1090.beast_out)
        later.push(dump1090)
        run2_reference = reference_positions(config, later.sent_frames(), tmp_path / "run2")
        expected = len_rows(run1) + len_rows(run2_reference)
        poll(lambda: count(db) == expected, f"{expected} positions stored", timeout=20)
        second.send(signal.SIGTERM)
        assert second.wait(timeout=30) == 0, second.log
        assert "Traceback" not in second.log
    messages = list(smtp.messages)

    assert sqlite_value(db, "PRAGMA integrity_check") == "ok"
    assert_second_run_added(stored_positions(db), run1, run2_reference)
    assert [c for c, s, _a in outbox_status(db) if s == "sent"] == ["email"]
    assert len(messages) == 1
    assert WATCHED in str(messages[0]["Subject"]) or "RA-96016" in str(messages[0]["Subject"])


MERGE_OFTEN = COMMIT_OFTEN + 'merge_interval = "1s"\n'


def stored_twice(db: Path) -> int:
    """Positions stored more than once (in the log and the chunks together): what the raw
    count of their rows exceeds the distinct positions by."""
    from flightwatch.db.position_reader import count as raw_count
    from flightwatch.db.reader import SqliteReader

    reader = SqliteReader(str(db))
    try:
        return raw_count(reader) - count(db)
    finally:
        reader.close()


def test_kill_9_while_merging_loses_nothing_committed_and_stores_nothing_twice(
    dump1090: Dump1090Ports, tmp_path: Path
) -> None:
    """Positions are committed every 0.3 s and the log merged into chunks every second:
    ``kill -9`` lands in the middle of either. What was committed survives, and the next
    run merges what the first left in its log exactly once."""
    feed = PacedFeed(traffic(20, 40, FIRST, seed=4))
    config = write_config(tmp_path, dump1090.beast_out, database=MERGE_OFTEN)
    db = tmp_path / "fw.db"

    with daemon(config) as first:
        first.wait_for("flightwatch running")
        wait_connected(dump1090, dump1090.beast_out)
        pusher, stop_pushing = pushing(feed, dump1090)
        poll(lambda: sqlite_value(db, "SELECT count(*) FROM position_chunks") > 0
             and count(db) > 150, "positions committed and merged")
        before = count(db)
        first.process.kill()
        first.process.wait(10)
        stop_pushing.set()
        pusher.join()

    assert sqlite_value(db, "PRAGMA integrity_check") == "ok"
    run1 = stored_positions(db)
    assert_prefixes(tracks(run1), tracks(reference_positions(config, feed.sent_frames(),
                                                             tmp_path / "run1")))
    assert len_rows(run1) >= before

    later = PacedFeed(traffic(20, 4, FIRST + 100, seed=4))
    with daemon(config) as second:
        second.wait_for("flightwatch running")
        wait_connected(dump1090, dump1090.beast_out)
        later.push(dump1090)
        run2_reference = reference_positions(config, later.sent_frames(), tmp_path / "run2")
        expected = len_rows(run1) + len_rows(run2_reference)
        poll(lambda: count(db) == expected, f"{expected} positions stored", timeout=20)
        poll(lambda: sqlite_value(db, "SELECT count(*) FROM position_log") == 0,
             "the log merged, the first run's part too")
        second.send(signal.SIGTERM)
        assert second.wait(timeout=30) == 0, second.log

    assert_second_run_added(stored_positions(db), run1, run2_reference)
    assert stored_twice(db) == 0


NEWLY_WATCHED = "4B1A2F"  # a Swiss address and airline: nothing in the shipped watchlist


def test_sighup_watches_an_address_added_while_running(
    dump1090: Dump1090Ports, tmp_path: Path
) -> None:
    feed = PacedFeed(merge(traffic(3, 30, FIRST),
                           over_minsk(FIRST, 30, NEWLY_WATCHED, "SWR123")))
    config = write_config(tmp_path, dump1090.beast_out, database=COMMIT_OFTEN,
                          extra='[alerts]\nevents = ["first_seen_inside", "enter"]\n')
    db = tmp_path / "fw.db"

    with daemon(config) as running:
        running.wait_for("flightwatch running")
        wait_connected(dump1090, dump1090.beast_out)
        pusher, stop_pushing = pushing(feed, dump1090)
        try:
            poll(lambda: NEWLY_WATCHED in stored_positions(db),
                 "positions of the not yet watched aircraft over Minsk")
            assert count(db, "alerts") == 0

            added = subprocess.run(
                [sys.executable, "-m", "flightwatch.cli", "watchlist", "add", NEWLY_WATCHED,
                 "--config", str(config)],
                env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}, capture_output=True,
                text=True, timeout=60, check=False,
            )
            assert added.returncode == 0, added.stderr
            running.send(signal.SIGHUP)
            running.wait_for("alert rules reloaded")
            poll(lambda: count(db, "alerts") >= 1, "an alert for the newly watched aircraft",
                 timeout=15)
        finally:
            stop_pushing.set()
            pusher.join()
        running.send(signal.SIGTERM)
        assert running.wait(timeout=30) == 0, running.log
        assert "reload failed" not in running.log

    icao, kind, fence = query(db, "SELECT icao, kind, geofence FROM alerts")[0]
    assert (icao, fence) == (NEWLY_WATCHED, "belarus")
    assert kind in ("first_seen_inside", "enter")

