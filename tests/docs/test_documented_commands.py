"""Every shell command a newcomer is told to type works as written (issue 21).

The ``sh`` blocks of the README and of the getting-started pages run in order, one page at
a time, in a fresh folder laid out as a clone (the repository's ``config/``, ``tools/`` and
``deploy/``), after the demo's replay, with ``.venv`` the environment running these tests
(where this flightwatch is installed). The first step of a fresh clone, creating that
``.venv`` and installing into it, is the one part taken as done: a test never downloads
packages. A block that cannot run here (a live receiver, a server that runs until stopped,
the test suite itself) says so on the line before it::

    <!-- docs-test: skip (starts a receiver and the daemon, which run until stopped) -->

and is reported as skipped; keep that list small.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PAGES = ("README.md", "docs/getting-started.md", "docs/first-hour.md")
SKIP = re.compile(r"<!--\s*docs-test:\s*skip\s*\((?P<why>[^)]+)\)\s*-->")
FENCE = re.compile(r"^```(?P<lang>\S*)\s*$")
SHELL = frozenset({"sh", "bash", "shell"})
# What a fresh clone does first; the folder's .venv already is that environment.
INSTALL_STEPS = frozenset({
    "python3 -m venv .venv",
    ".venv/bin/pip install -q .",
    ".venv/bin/pip install -q -e '.[test]'",
})
CHECKOUT = ("config", "tools", "deploy")
DEMO = ".venv/bin/flightwatch replay --config config/demo.toml config/samples/demo_minsk.tsv"
MAX_SKIPPED = 5
BLOCK_TIMEOUT_S = 300


@dataclass(frozen=True)
class Block:
    page: str
    line: int  # of the opening fence, 1-based
    text: str
    skip: str | None  # why it is not run, when it is not


def shell_blocks(page: str) -> list[Block]:
    """The page's ``sh`` blocks, each with the skip reason written on the line before it."""
    lines = (REPO / page).read_text(encoding="utf-8").splitlines()
    blocks, index = [], 0
    while index < len(lines):
        fence = FENCE.match(lines[index])
        if fence is None:
            index += 1
            continue
        end = index + 1
        while end < len(lines) and not lines[end].startswith("```"):
            end += 1
        if fence.group("lang") in SHELL:
            before = lines[index - 1] if index else ""
            skip = SKIP.search(before)
            blocks.append(Block(page, index + 1, "\n".join(lines[index + 1:end]),
                                skip.group("why") if skip else None))
        index = end + 1
    return blocks


def without_install(script: str) -> str:
    """``script`` with the clone's install steps (chained with ``&&``) taken out."""
    kept = []
    for line in script.splitlines():
        steps = [step.strip() for step in line.split(" && ")]
        while steps and steps[0] in INSTALL_STEPS:
            steps.pop(0)
        if steps:
            kept.append(" && ".join(steps))
    return "\n".join(kept)


def clone_like(folder: Path) -> Path:
    """A folder laid out as a clone whose ``.venv`` is the environment running the tests."""
    for name in CHECKOUT:
        shutil.copytree(REPO / name, folder / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.db"))
    (folder / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    return folder


def newcomer_env(home: Path) -> dict[str, str]:
    """A shell with nothing of the developer's: no FLIGHTWATCH_* settings, its own home,
    and no virtual environment on PATH (the pages say ``.venv/bin/...``)."""
    venv_bin = str(Path(sys.prefix) / "bin")
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep)
                           if p and p != venv_bin)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("FLIGHTWATCH_", "VIRTUAL_ENV", "PYTHON"))}
    env.update(PATH=path, HOME=str(home), NO_COLOR="1", LC_ALL="C.UTF-8")
    return env


def run(script: str, folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-eo", "pipefail", "-c", script], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=BLOCK_TIMEOUT_S,
                          stdin=subprocess.DEVNULL, check=False)


def test_the_pages_have_commands_and_few_are_skipped() -> None:
    blocks = [block for page in PAGES for block in shell_blocks(page)]
    skipped = [f"{b.page}:{b.line} ({b.skip})" for b in blocks if b.skip]
    assert all(any(b.page == page and not b.skip for b in blocks) for page in PAGES)
    assert len(skipped) <= MAX_SKIPPED, "too many blocks skipped:\n" + "\n".join(skipped)


@pytest.mark.integration
@pytest.mark.parametrize("page", PAGES)
def test_every_command_of_the_page_works_as_written(page: str, tmp_path: Path) -> None:
    folder = clone_like(tmp_path / "flightwatch")
    env = newcomer_env(tmp_path / "home")
    (tmp_path / "home").mkdir()
    demo = run(DEMO, folder, env)
    assert demo.returncode == 0, demo.stderr
    ran = 0
    for block in shell_blocks(page):
        if block.skip:
            continue
        script = without_install(block.text)
        done = run(script, folder, env)
        assert done.returncode == 0, (
            f"{page}:{block.line}: exit {done.returncode}\n--- block\n{block.text}\n"
            f"--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}")
        ran += 1
    assert ran > 0


def test_the_install_steps_taken_as_done_are_only_the_clones_first_step() -> None:
    """The README's two first commands start with the install; nothing else is dropped."""
    readme = shell_blocks("README.md")
    demo, tests = readme[0], readme[1]
    assert demo.text.startswith("python3 -m venv .venv && .venv/bin/pip install -q . && ")
    assert without_install(demo.text) == (
        f"{DEMO} && .venv/bin/flightwatch alerts --config config/demo.toml")
    assert tests.skip and without_install(tests.text) == ".venv/bin/python -m pytest -q"
    assert without_install(".venv/bin/pip install -q aiosmtpd") == (
        ".venv/bin/pip install -q aiosmtpd")
