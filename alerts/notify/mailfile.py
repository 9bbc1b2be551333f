"""Alert mails written as ``.eml`` files to a folder: email without an SMTP server.

Any mail client opens them. The file name comes from the alert's dedupe key,
so writing the same alert again replaces the file instead of adding a copy.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

from flightwatch.alerts.notify.email import build_message
from flightwatch.db.alert_record import Alert
from flightwatch.db.alerts import dedupe_key


class MailFileNotifier:
    channel = "mailfile"
    takes_pictures = True

    def __init__(self, folder: Path, sender: str, recipients: Sequence[str] = ()) -> None:
        self.folder = Path(folder)
        self.sender = sender
        self.recipients = tuple(recipients)

    def path_for(self, alert: Alert) -> Path:
        stamp = alert.time.strftime("%Y%m%dT%H%M%SZ")
        digest = hashlib.sha256(dedupe_key(alert).encode()).hexdigest()[:8]
        return self.folder / f"{stamp}-{alert.icao}-{alert.kind}-{digest}.eml"

    def send(self, alert: Alert) -> None:
        self.send_with_picture(alert, None)

    def send_with_picture(self, alert: Alert, picture: bytes | None) -> None:
        message = build_message(alert, self.sender, self.recipients, picture)
        self._write(self.path_for(alert), message.as_bytes())

    def send_mail(self, name: str, message: bytes) -> None:
        """A ready-made mail from the outbox (the daily digest) as ``name`` in the folder."""
        self._write(self.folder / Path(name).name, message)

    def _write(self, target: Path, data: bytes) -> None:
        """Write atomically (temporary file, fsync, rename): a reader never sees half a mail."""
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        with open(partial, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, target)
