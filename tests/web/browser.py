"""A real headless Chromium driven over the DevTools protocol (a WebSocket), just enough
for page tests: open a URL, evaluate JavaScript, wait for a condition, and collect
every console error, uncaught exception and CSP or network error the page raised.

Why not playwright: it wants to download its own browser build; this talks to the
Debian chromium already installed, with one small client library (websockets).
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from websockets.sync.client import ClientConnection, connect

FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-extensions", "--disable-sync", "--no-first-run", "--mute-audio",
    "--hide-scrollbars", "--window-size=1200,800", "--remote-debugging-port=0",
)


class Page:
    """One tab. ``errors`` gathers what a person would see in the console as errors."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.errors: list[str] = []
        self._ids = itertools.count(1)
        self._events: list[dict[str, Any]] = []
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable")

    def send(self, method: str, timeout: float = 30.0, **params: Any) -> dict[str, Any]:
        ident = next(self._ids)
        self.socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            message = self._receive(deadline)
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result

    def _receive(self, deadline: float) -> dict[str, Any]:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no answer from chromium")
        message: dict[str, Any] = json.loads(self.socket.recv(timeout=left))
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self.errors.append(details.get("exception", {}).get("description")
                               or details.get("text", "exception"))
        elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
            self.errors.append(" ".join(str(a.get("value", a.get("description")))
                                        for a in params["args"]))
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            entry = params["entry"]
            self.errors.append(f"{entry['text']} {entry.get('url', '')}".strip())
        elif method == "Page.javascriptDialogOpening":
            self.errors.append(f"dialog opened: {params['message']}")
        if method:
            self._events.append(message)
        return message

    def open(self, url: str, timeout: float = 30.0) -> None:
        """Navigate and wait for the load event (scripts may still be fetching data)."""
        self._events.clear()
        self.send("Page.navigate", url=url)
        deadline = time.monotonic() + timeout
        while not any(e["method"] == "Page.loadEventFired" for e in self._events):
            self._receive(deadline)

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 15.0) -> Any:
        """The first truthy value of ``expression``, polled every 100 ms."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {expression}; "
                                     f"console errors: {self.errors}")
            self.idle(0.1)

    def idle(self, seconds: float) -> None:
        """Let the page run for ``seconds`` while its events are still collected."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                self._receive(deadline)
            except TimeoutError:
                break

    def screenshot(self, path: Path) -> Path:
        import base64

        data = self.send("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))
        return path


@contextmanager
def chromium(binary: str, profile: Path) -> Iterator[Page]:
    """A fresh headless Chromium with one open tab; killed on exit."""
    process = subprocess.Popen(
        [binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True, errors="replace",
    )
    try:
        assert process.stderr is not None
        port = None
        for line in process.stderr:
            found = re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line)
            if found:
                port = int(found.group(1))
                break
        if port is None:
            raise RuntimeError("chromium did not start its DevTools endpoint")
        # Keep reading its log so a full pipe never stalls the browser.
        threading.Thread(target=process.stderr.read, daemon=True).start()
        tabs = requests.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
        url = next(t["webSocketDebuggerUrl"] for t in tabs if t["type"] == "page")
        with connect(url, max_size=None, open_timeout=10) as socket:
            yield Page(socket)
    finally:
        process.kill()
        process.wait(10)
