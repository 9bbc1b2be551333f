"""Answers of any size, streamed without holding a database connection for the client.

An endpoint hands over a *writer* (a function writing the whole answer to a text file,
as the CLI's exporters do). It runs in a worker thread and writes as fast as the database
gives rows into a :class:`Spool`: a megabyte in memory, the rest in a temporary file. The
client reads from the spool at its own pace. So

- the database connection is held for as long as the query runs, never for as long as
  a slow (or stalled, or vanished) client takes to read: a few clients cannot take the
  pool, and with it the pages and (when it was shared) the daemon's writer;
- memory stays flat whatever the size of the answer (a 68 MB CSV took 272 MB when it
  was built in memory);
- a client that hangs up stops the writer at its next write, which closes the query.

A writer that fails before its first byte is answered with an error status (503 for a
database that cannot answer now); after the first byte the status is sent, so the
answer is cut off (no final chunk), which a client sees as an incomplete transfer.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import tempfile
import threading
import weakref
from collections import deque
from collections.abc import Callable
from typing import IO, Any, TextIO

import anyio
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

log = logging.getLogger(__name__)

CHUNK_BYTES = 64 * 1024
MEMORY_BYTES = 1024 * 1024  # per answer; beyond it the spool goes to a temporary file
#: Writers at work at once; more answers wait their turn without a database connection.
#: Each keeps a core busy while it runs, and the daemon's own thread shares the process.
WRITERS_AT_ONCE = 2

Writer = Callable[[TextIO], object]


class ClientGone(Exception):
    """Raised into the writer when the client has hung up: its work is not wanted."""


class Spool:
    """Bytes from one writer thread to one reader, in order: in memory up to
    ``memory_bytes``, then appended to an unlinked temporary file (read back with
    ``pread``, so the two sides never share a file position)."""

    def __init__(self, memory_bytes: int = MEMORY_BYTES) -> None:
        self._memory_bytes = memory_bytes
        self._changed = threading.Condition()
        self._chunks: deque[bytes] = deque()
        self._in_memory = 0
        self._file: IO[bytes] | None = None
        self._written = 0  # bytes in the file
        self._read = 0  # of those, bytes handed to the reader
        self._done = False
        self._cancelled = False
        self.error: BaseException | None = None

    # --- the writer's side -------------------------------------------------------------
    def put(self, data: bytes) -> None:
        with self._changed:
            if self._cancelled:
                raise ClientGone
            if self._file is None and self._in_memory + len(data) <= self._memory_bytes:
                self._chunks.append(data)
                self._in_memory += len(data)
            else:  # once spilled, everything after goes to the file: order is kept
                if self._file is None:
                    # Closed by cancel(), which the response always calls at its end.
                    self._file = tempfile.TemporaryFile(prefix="flightwatch-answer-")  # noqa: SIM115
                os.pwrite(self._file.fileno(), data, self._written)
                self._written += len(data)
            self._changed.notify_all()

    def finish(self, error: BaseException | None = None) -> None:
        with self._changed:
            self._done, self.error = True, error
            self._changed.notify_all()

    # --- the reader's side -------------------------------------------------------------
    def get(self) -> bytes | None:
        """The next bytes; None at the end (or once cancelled). Raises the writer's error
        once everything it wrote has been read."""
        with self._changed:
            while True:
                if self._cancelled:
                    return None
                if self._chunks:
                    data = self._chunks.popleft()
                    self._in_memory -= len(data)
                    return data
                if self._file is not None and self._read < self._written:
                    size = min(CHUNK_BYTES, self._written - self._read)
                    data = os.pread(self._file.fileno(), size, self._read)
                    self._read += len(data)
                    return data
                if self._done:
                    if self.error is not None:
                        raise self.error
                    return None
                self._changed.wait()

    def cancel(self) -> None:
        """The reader is gone: the writer's next ``put`` raises, the file is dropped."""
        with self._changed:
            self._cancelled = True
            self._chunks.clear()
            if self._file is not None:
                self._file.close()
                self._file = None
            self._changed.notify_all()


class _SpoolText(io.TextIOBase):
    """What the writer writes to: text, encoded and handed over in chunks."""

    def __init__(self, spool: Spool) -> None:
        self._spool = spool
        self._parts: list[str] = []
        self._size = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._parts.append(text)
        self._size += len(text)
        if self._size >= CHUNK_BYTES:
            self.flush()
        return len(text)

    def flush(self) -> None:
        if self._parts:
            data = "".join(self._parts).encode("utf-8")
            self._parts, self._size = [], 0
            self._spool.put(data)


def _run_writer(writer: Writer, spool: Spool) -> None:
    out = _SpoolText(spool)
    try:
        writer(out)  # type: ignore[arg-type]
        out.flush()
    except ClientGone:
        spool.finish()
    except BaseException as exc:  # handed to the reader, which answers or cuts off
        spool.finish(exc)
    else:
        spool.finish()


class SpooledResponse(Response):
    """An answer produced by ``writer`` in a worker thread through a :class:`Spool`."""

    def __init__(self, writer: Writer, *, media_type: str,
                 headers: dict[str, str] | None = None,
                 error_status: Callable[[BaseException], tuple[int, str] | None]
                 = lambda _exc: None) -> None:
        # As StreamingResponse: no body attribute, so no content-length is announced.
        self.status_code = 200
        self.media_type = media_type
        self.background = None
        self.init_headers(headers)
        self._writer = writer
        self._error_status = error_status

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        spool = Spool()
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(self._write, spool)
            tasks.start_soon(_watch_disconnect, receive, spool)
            try:
                await self._send(scope, receive, send, spool)
            finally:
                spool.cancel()  # stops a writer still at work; no-op after the end
                tasks.cancel_scope.cancel()

    async def _write(self, spool: Spool) -> None:
        # Abandoned on cancel: the thread ends by itself at its next write (ClientGone),
        # closing its query; nothing here waits for it.
        await anyio.to_thread.run_sync(_run_writer, self._writer, spool,
                                       abandon_on_cancel=True, limiter=_writers())

    async def _send(self, scope: Scope, receive: Receive, send: Send, spool: Spool) -> None:
        try:
            first = await anyio.to_thread.run_sync(spool.get)
        except Exception as exc:
            await self._refuse(exc)(scope, receive, send)
            return
        await send({"type": "http.response.start", "status": self.status_code,
                    "headers": self.raw_headers})
        chunk = first
        while chunk is not None:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            try:
                chunk = await anyio.to_thread.run_sync(spool.get)
            except Exception as exc:
                log.error("an answer was cut off: %s: %s", type(exc).__name__, exc)
                return  # no final chunk: the client sees an incomplete transfer
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    def _refuse(self, exc: BaseException) -> Response:
        status = self._error_status(exc)
        if status is None:
            log.error("could not answer: %s: %s", type(exc).__name__, exc)
            status = (500, "internal error; see the server's log")
        return JSONResponse({"error": status[1]}, status_code=status[0])


_LIMITERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = (
    weakref.WeakKeyDictionary())


def _writers() -> anyio.CapacityLimiter:
    """The running event loop's limit of :data:`WRITERS_AT_ONCE` (a limiter belongs to
    one loop; tests run several servers one after the other)."""
    loop = asyncio.get_running_loop()
    limiter = _LIMITERS.get(loop)
    if limiter is None:
        limiter = _LIMITERS[loop] = anyio.CapacityLimiter(WRITERS_AT_ONCE)
    return limiter


async def _watch_disconnect(receive: Receive, spool: Spool) -> None:
    while True:
        message: Any = await receive()
        if message["type"] == "http.disconnect":
            spool.cancel()
            return
