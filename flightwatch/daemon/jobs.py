"""Scheduled jobs in daemon threads, so that no job can hold up a stop.

APScheduler's default executor runs jobs in a ``concurrent.futures`` pool, whose
threads the interpreter joins at exit: an aggregator poll stuck on a server that
trickles a byte every few seconds, or a mail to an SMTP server that accepted the
connection and never answers, kept ``flightwatch run`` alive long after SIGTERM (41 s
measured). Here each run of a job gets its own daemon thread. At a stop the daemon
waits a moment for jobs under way (:meth:`DaemonThreadExecutor.join`), then exits
whatever they do; what a job did not finish it does at the next start (the outbox is
kept in the database, aggregator polls are cancelled).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from apscheduler.executors.base import BaseExecutor, run_job


class DaemonThreadExecutor(BaseExecutor):
    """An APScheduler executor: every job run in a fresh daemon thread.

    ``max_instances`` still holds (the scheduler counts running instances), so a slow
    poll is never started twice.
    """

    def __init__(self) -> None:
        super().__init__()
        self._running: set[threading.Thread] = set()
        self._lock = threading.Lock()

    def _do_submit_job(self, job: Any, run_times: Any) -> None:
        def run() -> None:
            try:
                events = run_job(job, job._jobstore_alias, run_times, self._logger.name)
            except BaseException as exc:  # what a pool's future would have carried
                self._run_job_error(job.id, exc, exc.__traceback__)
            else:
                self._run_job_success(job.id, events)
            finally:
                with self._lock:
                    self._running.discard(threading.current_thread())

        thread = threading.Thread(target=run, name=f"job:{job.id}", daemon=True)
        with self._lock:
            self._running.add(thread)
        thread.start()

    def join(self, timeout: float) -> int:
        """Wait up to ``timeout`` seconds for the jobs under way; how many still run."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                running = list(self._running)
            left = deadline - time.monotonic()
            if not running or left <= 0:
                return len(running)
            running[0].join(left)
