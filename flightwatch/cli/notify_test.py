"""``flightwatch notify-test``: send a test message through each configured alert channel.

The first thing to run after configuring a channel: it goes straight to the
channel (not through the outbox, nothing is stored) and exits 1 naming every
channel that failed, with the reason (secrets redacted).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from flightwatch.cli.common import EXIT_FAILURE, EXIT_OK, UsageError, settings_from


def register(commands: Any) -> None:
    """Add the ``notify-test`` command to the CLI's subparsers."""
    test = commands.add_parser("notify-test",
                               help="send a test message through each alert channel")
    test.add_argument("--channel", metavar="NAME",
                      help="only this channel (names as check-config lists them)")
    test.set_defaults(handler=cmd_notify_test)


def cmd_notify_test(args: argparse.Namespace) -> int:
    from flightwatch.alerts.notify import NotifierConfigError, build_notifiers
    from flightwatch.alerts.notify.outbox import describe
    from flightwatch.db.alert_record import Alert

    try:
        notifiers = build_notifiers(settings_from(args))
    except NotifierConfigError as exc:
        raise UsageError(f"configuration error: {exc}") from None
    if not notifiers:
        raise UsageError("no alert channels configured: set up [alerts.email], "
                         "[alerts.webhook], [alerts.apprise], [alerts.mqtt] or alerts.outbox_dir")
    names = sorted(notifiers)
    if args.channel is not None:
        if args.channel not in notifiers:
            raise UsageError(f"--channel {args.channel!r} is not configured; "
                             f"configured: {', '.join(names)}")
        names = [args.channel]
    message = Alert(time=datetime.now(UTC).replace(microsecond=0), icao="000000", kind="test",
                    registration="flightwatch",
                    details={"note": "sent by flightwatch notify-test"})
    failed = []
    for name in names:
        notifier = _beside_the_daemon(notifiers[name])
        try:
            notifier.send(message)
        except Exception as exc:  # report every channel, whatever breaks in one
            print(f"{name}: FAILED: {describe(exc)}")
            failed.append(name)
        else:
            print(f"{name}: sent")
        finally:
            close = getattr(notifier, "close", None)
            if close is not None:
                close()
    if failed:
        print(f"flightwatch: notify-test failed for {', '.join(failed)}", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


def _beside_the_daemon(notifier: Any) -> Any:
    """An MQTT channel with its own client id: the daemon's id would take over its session."""
    from dataclasses import replace

    from flightwatch.alerts.notify import MqttNotifier

    if not isinstance(notifier, MqttNotifier):
        return notifier
    settings = replace(notifier.settings, client_id=f"{notifier.settings.client_id}-notify-test")
    return MqttNotifier(settings, notifier.phone)
