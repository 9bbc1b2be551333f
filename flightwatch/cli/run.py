"""``flightwatch run`` and ``flightwatch replay``: live sources or captures, one pipeline."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from flightwatch.cli.common import EXIT_FAILURE, EXIT_OK, add_capture_options, settings_from


def register(commands: Any) -> None:
    run = commands.add_parser("run", help="the daemon: all enabled sources, alerts, storage")
    run.set_defaults(handler=cmd_run)

    replay = commands.add_parser("replay", help="push recorded captures through the pipeline")
    replay.add_argument("files", nargs="+", type=Path, metavar="FILE",
                        help="capture files, replayed in this order")
    replay.add_argument(
        "--format", default="auto", choices=("auto", "beast", "avr", "sbs", "csv", "tsv"),
        help="capture format (default: detected)",
    )
    replay.add_argument("--realtime", action="store_true", help="pace frames by the capture clock")
    add_capture_options(replay)
    replay.set_defaults(handler=cmd_replay)


def cmd_run(args: argparse.Namespace) -> int:
    from flightwatch.daemon.run import run_daemon

    settings = settings_from(args)
    listen = settings["web"]["listen"]
    if listen is None:
        return run_daemon(settings)
    from flightwatch.web.server import check_exposure

    check_exposure(settings, listen)  # before any source starts

    def web(pipeline: Any, _daemon_engine: Any) -> Any:
        from flightwatch.web.server import serve_beside_daemon

        return serve_beside_daemon(settings, pipeline.tracker, listen)

    return run_daemon(settings, companions=[web])


def cmd_replay(args: argparse.Namespace) -> int:
    from flightwatch.cli.next_steps import after_replay
    from flightwatch.daemon.replay import replay_files

    settings = settings_from(args)
    show_progress = not args.no_progress and sys.stderr.isatty()
    summary = replay_files(
        settings, args.files, fmt=args.format, start=args.start, realtime=args.realtime,
        progress=show_progress,
    )
    print(summary.render())
    guide = after_replay(settings, args.config, summary)
    if guide:
        print(guide)
    return EXIT_OK if summary.saved else EXIT_FAILURE
