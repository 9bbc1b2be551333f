"""The command line as people type it: global options before or after the command, and a
mistyped option answered with that command's usage and the option meant (issue 21)."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_helpers import DEMO_CONFIG, Demo, run

from flightwatch.cli.main import build_parser

# What a command needs besides the global options to parse; every other command parses
# with nothing more (a command added later is covered without a line here).
REQUIRED = {
    "replay": ["capture.tsv"],
    "db copy": ["--to", "sqlite:///copy.db"],
    "watchlist import": ["list.csv"],
    "watchlist add": ["157710"],
    "watchlist remove": ["157710"],
    "airports import": ["airports.csv"],
    "map": ["--out", "map.html"],
}


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[
        tuple[str, ...]]:
    """Every runnable command (``db upgrade``, ``history``, ...), walked from the parser."""
    subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subparsers:
        yield path
        return
    for name, sub in subparsers[0].choices.items():
        yield from _commands(sub, (*path, name))


COMMANDS = [" ".join(path) for path in _commands(build_parser())]


def parse(*argv: str) -> argparse.Namespace:
    args, extras = build_parser().parse_known_args(list(argv))
    assert extras == []
    return args


def test_every_command_is_covered() -> None:
    assert {"run", "replay", "history", "alerts", "flights", "db upgrade", "watchlist list",
            "airports list", "map", "serve", "status", "check-config"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_global_options_before_or_after_every_command(command: str) -> None:
    words = [*command.split(), *REQUIRED.get(command, [])]
    before = parse("--config", "a.toml", "-v", "-v", *words)
    after = parse(*words, "--config", "a.toml", "-vv")
    assert (before.config, before.verbose) == (after.config, after.verbose) == (
        Path("a.toml"), 2)
    neither = parse(*words)
    assert (neither.config, neither.verbose) == (None, 0)
    both = parse("--config", "before.toml", "-v", *words, "--config", "after.toml")
    assert (both.config, both.verbose) == (Path("after.toml"), 1)  # the later one wins


def test_before_and_after_give_the_same_answer(
    in_demo: Demo, capsys: pytest.CaptureFixture[str]
) -> None:
    before = run(capsys, "--config", DEMO_CONFIG, "alerts", "--format", "csv")
    after = run(capsys, "alerts", "--format", "csv", "--config", DEMO_CONFIG)
    assert before == after and before[0] == 0 and len(before[1].splitlines()) == 4
    # the one after the command wins: here the one that has a database
    assert run(capsys, "--config", "nowhere.toml", "alerts", "--format", "csv",
               "--config", DEMO_CONFIG) == before


@pytest.mark.parametrize(("argv", "meant"), [
    (["history", "--registation", "RA-96016"], "--registration"),
    (["flights", "--registation=RA-96016"], "--registration"),
    (["alerts", "--sinse", "2020-08"], "--since"),
    (["watchlist", "list", "--colums", "icao"], "--columns"),
    (["db", "upgrade", "--confg", "x.toml"], "--config"),
])
def test_a_mistyped_option_shows_the_commands_usage_and_the_option_meant(
    argv: list[str], meant: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        run(capsys, *argv)
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert err.startswith(f"usage: flightwatch {argv[0]}")
    assert f"(did you mean {meant}?)" in err
    assert "COMMAND" not in err  # not the top-level usage


def test_an_extra_word_names_it_without_a_guess(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        run(capsys, "alerts", "RA-96016")
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert err.startswith("usage: flightwatch alerts")
    assert "unrecognized arguments: RA-96016" in err and "did you mean" not in err
