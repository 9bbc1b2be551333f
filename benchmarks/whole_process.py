"""One command as a whole process: wall seconds, CPU seconds and peak RSS.

A child's peak RSS (``ru_maxrss``) starts from its parent's at the fork, so a command
measured straight from a benchmark (or from pytest, hundreds of MB) would weigh at least
as much as its parent. A small launcher (a fresh interpreter without ``site``) forks the
command instead and reports what ``wait4`` says of it.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

_LAUNCHER = """
import os, sys, time
began = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    os.execv(sys.argv[1], sys.argv[1:])
_pid, status, usage = os.wait4(pid, 0)
print(time.perf_counter() - began, usage.ru_utime + usage.ru_stime, usage.ru_maxrss,
      os.waitstatus_to_exitcode(status))
"""


def run_process(
    argv: list[str], cwd: Path, env: Mapping[str, str] | None = None
) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS in MB) of one run of ``argv``; its standard
    output is thrown away, a failure stops the benchmark with its standard error."""
    done = subprocess.run([sys.executable, "-S", "-c", _LAUNCHER, *argv], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False)
    *figures, code = done.stdout.split() or ("0", "0", "0", "-1")
    if done.returncode != 0 or code != "0":
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stderr[-2000:]}")
    seconds, cpu, rss_kb = map(float, figures)
    return seconds, cpu, rss_kb / 1024
