"""A polled aggregator for tests: a pytest-httpserver answering each poll of
``aircraft.json`` with the next rendered snapshot (tools/render_stories.py).

The snapshots carry the story's own time in ``now``, so whatever polls them runs on the
observation clock, not the wall clock; with the silences compressed
(:func:`tools.render_stories.compress_silence`) and a short poll interval a story of
hours is served in seconds. After the last snapshot the feed keeps answering with an
empty one at the last time (an aggregator with nothing to report).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

PATH = "/data/aircraft.json"


class SnapshotFeed:
    """Serves ``docs`` in order, one per request to ``path``."""

    def __init__(self, server: HTTPServer, docs: Sequence[dict[str, Any]],
                 path: str = PATH) -> None:
        if not docs:
            raise ValueError("a snapshot feed needs at least one snapshot")
        self._docs = list(docs)
        self._next = 0
        self._lock = threading.Lock()
        self._finished = threading.Event()
        self.url = server.url_for(path)
        server.expect_request(path).respond_with_handler(self._answer)

    def _answer(self, _request: Request) -> Response:
        with self._lock:
            if self._next < len(self._docs):
                doc = self._docs[self._next]
                self._next += 1
            else:
                doc = {**self._docs[-1], "aircraft": []}
                self._finished.set()
        return Response(json.dumps(doc), content_type="application/json")

    @property
    def served(self) -> int:
        """Snapshots answered so far (not counting the empty ones after the end)."""
        with self._lock:
            return self._next

    def wait_until_served(self, timeout: float) -> bool:
        """Block until every snapshot was served and one more poll came (so the last one
        was read and processed); False on timeout."""
        return self._finished.wait(timeout)


def polling_config(url: str, every: str = "0.02s") -> str:
    """A flightwatch configuration that polls the feed at ``url`` every ``every`` into
    ``fw.db`` beside it, committing often: for a daemon run against the feed."""
    return ('[database]\nurl = "sqlite:///fw.db"\nbatch_seconds = "0.2s"\n[status]\n'
            'interval = "1h"\n\n[[sources]]\ntype = "aircraft_json"\n'
            f'url = "{url}"\ninterval = "{every}"\n')
