"""The demo ends by saying where its mail went and what to try next, and the commands it
suggests work as printed (issue 21: "3 notification(s) sent", and nothing more)."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import DEMO_CONFIG, Demo

from flightwatch.cli.next_steps import next_commands
from flightwatch.settings import load_settings


def suggested(printed: str) -> list[str]:
    lines = printed.splitlines()
    return [line.strip() for line in lines[lines.index("next, try:") + 1:]]


def test_the_replay_says_where_the_mail_is(demo: Demo) -> None:
    mails = sorted((demo.folder / "outbox").glob("*.eml"))
    assert [m.name.split("-")[2] for m in mails] == ["approaching", "enter", "landed"]
    assert "alert mail: 3 .eml file(s) in outbox/ (open them with any mail program)" \
        in demo.printed.splitlines()


def test_three_commands_that_work_as_printed(demo: Demo) -> None:
    commands = suggested(demo.printed)
    assert [shlex.split(c)[3] for c in commands] == ["flights", "history", "map"]
    env = {k: v for k, v in os.environ.items() if k != "FLIGHTWATCH_DATABASE_URL"}
    outputs = []
    for command in commands:
        argv = shlex.split(command)
        assert argv[:3] == [sys.executable, "-m", "flightwatch"]  # how this test runs it
        assert argv[4:6] == ["--config", DEMO_CONFIG]
        ran = subprocess.run(argv, cwd=demo.folder, env=env, capture_output=True, text=True,
                             timeout=120, check=False)
        assert ran.returncode == 0, (command, ran.stderr)
        outputs.append(ran.stdout)
    flights, history, drawn = outputs
    assert any(line.split()[:2] == ["157710", "RA-96016"] and "UMMS" in line
               for line in flights.splitlines())
    # the minutes around the newest alert, landed at 10:14: the touchdown, on the ground
    assert "2020-08-19 10:14:45Z" in history and history.splitlines()[-1].endswith("yes")
    assert drawn.startswith("map.html: 1 aircraft")
    assert (demo.folder / "map.html").is_file()


def test_commands_name_the_program_as_it_was_typed(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", [".venv/bin/flightwatch", "replay"])
    monkeypatch.setenv("PATH", "/nonexistent")
    settings = load_settings(demo.folder / DEMO_CONFIG)
    commands = next_commands(settings, Path(DEMO_CONFIG))
    assert [c.split()[:4] for c in commands] == [
        [".venv/bin/flightwatch", name, "--config", DEMO_CONFIG]
        for name in ("flights", "history", "map")]
    assert next_commands(settings, None)[0] == (
        ".venv/bin/flightwatch flights --since 2020-08-19 --until 2020-08-19")
